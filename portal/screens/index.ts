// The portal's screens, one fastify plugin each; all are served behind a session.
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.ts';
import { activityScreen } from './activity.ts';
import { connectionsScreen } from './connections/index.ts';
import { domainsScreen } from './domains.ts';
import { enforcementScreen } from './enforcement/index.ts';
import { overviewScreen } from './overview.ts';
import { provisioningScreen } from './provisioning.ts';
import { userEditScreen } from './users/edit.ts';
import { userImportScreen } from './users/import.ts';
import { usersListScreen } from './users/list.ts';

export const SCREENS: readonly FastifyPluginAsync<RouteOptions>[] = [
  overviewScreen,
  domainsScreen,
  connectionsScreen,
  enforcementScreen,
  usersListScreen,
  userImportScreen,
  userEditScreen,
  provisioningScreen,
  activityScreen,
];
