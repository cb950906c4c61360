// The operator process: configuration, credentials, signals. Started by operator/main.ts
// (flags or GATEHOUSE_* environment variables; see operator/config.ts).
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { loadCredentials } from '../kube/kubeconfig.ts';
import { Operator } from './operator.ts';

// The image build starts each process once with GATEHOUSE_LOAD_ONLY=1 to fill Node's module compile
// cache (hack/fill-compile-cache.sh): the imports above have loaded the whole module graph by now.
if (process.env.GATEHOUSE_LOAD_ONLY === '1') process.exit(0);

const bootLog = pino({ base: { component: 'gatehouse-operator' } });
let cfg;
try {
  cfg = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  bootLog.fatal({ err: (err as Error).message }, 'invalid configuration');
  process.exit(2);
}
const log = pino({ level: cfg.logLevel, base: { component: 'gatehouse-operator', pid: process.pid } });

const operator = new Operator(cfg, log);
operator.onLeadershipLost = () => {
  // Another replica may already be writing: stop at once rather than finish work.
  log.fatal('leadership lost; exiting');
  process.exit(1);
};

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  operator.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

try {
  await operator.start(await loadCredentials(cfg.kubeconfig));
  log.info({ namespace: cfg.namespace, watchNamespaces: cfg.watchNamespaces, leaderElect: cfg.leaderElect }, 'operator started');
} catch (err) {
  log.fatal({ err }, 'operator failed to start');
  process.exit(1);
}
