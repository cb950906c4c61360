// The portal's screens, one fastify plugin each; all are served behind a session.
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.ts';
import { activityScreen } from './activity.ts';
import { overviewScreen } from './overview.ts';

export const SCREENS: readonly FastifyPluginAsync<RouteOptions>[] = [overviewScreen, activityScreen];
