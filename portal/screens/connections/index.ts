// SSO connections: the list, creating one, a connection's page, editing and testing it.
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../../context.ts';
import { connectionCreation } from './create.ts';
import { connectionDetail } from './detail.ts';
import { connectionEdit } from './edit.ts';
import { connectionTest } from './test-run.ts';

export const connectionsScreen: FastifyPluginAsync<RouteOptions> = async (app, opts) => {
  await app.register(connectionCreation, opts);
  await app.register(connectionDetail, opts);
  await app.register(connectionEdit, opts);
  await app.register(connectionTest, opts);
};
