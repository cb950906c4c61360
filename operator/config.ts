// Operator settings from flags (`--name=value` or `--name value`) with GATEHOUSE_* environment
// fallbacks (`--dns-servers` ↔ GATEHOUSE_DNS_SERVERS), validated with zod.
import { z } from 'zod';
import { parseDuration } from '../crds/api/index.ts';

const duration = z.string().transform((s, ctx) => {
  try {
    return parseDuration(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1')]);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const address = z.string().regex(/^(\[[0-9a-f:]+\]|[^:]*):[0-9]+$|^0$/, 'expected host:port, :port or 0 (off)');

export const operatorConfig = z.object({
  kubeconfig: z.string().optional(),
  namespace: z.string().min(1),
  configSecret: z.string().min(1).default('gatehouse-sp-config'),
  spPublicUrl: z.url().transform((u) => u.replace(/\/+$/, '')),
  watchNamespaces: list.default([]),
  dnsServers: list.default([]),
  allowPrivateMetadataUrls: bool.default(false),
  /** Metadata over plain http:// can be rewritten by anyone on the path: only test IdPs need it. */
  allowInsecureMetadataUrls: bool.default(false),
  certificateExpiryWarning: duration.default(720 * 3_600_000),
  /** How long a test link works after the operator issues it: a leaked link is not a standing credential. */
  testLinkTtl: duration.default(24 * 3_600_000).refine((ms) => ms >= 1_000 && ms <= 30 * 24 * 3_600_000, 'the test link lifetime must be between 1s and 720h'),
  metricsAddress: address.default(':8080'),
  healthAddress: address.default(':8081'),
  leaderElect: bool.default(false),
  leaseName: z.string().min(1).default('gatehouse-operator'),
  leaseDuration: duration.default(15_000),
  renewDeadline: duration.default(10_000),
  retryPeriod: duration.default(2_000),
  domainRecheckInterval: duration.default(10_000),
  domainRecheckMaxInterval: duration.default(600_000),
  // A verified domain's TXT record is looked up again this often; when it is gone, the domain
  // stays verified (with a VerificationLapsing warning) for the grace period, then lapses.
  domainReverifyInterval: duration.default(24 * 3_600_000),
  domainVerificationGrace: duration.default(72 * 3_600_000),
  // The Secret (in --namespace) holding the key that signs domain verifications; created when absent.
  domainProofSecret: z.string().min(1).default('gatehouse-domain-proof-key'),
  metadataTimeout: duration.default(10_000),
  metadataMaxBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
  resyncPeriod: duration.default(600_000),
  workers: z.coerce.number().int().min(1).max(256).default(16),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
});

export type OperatorConfig = z.infer<typeof operatorConfig>;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const envName = (key: string) => 'GATEHOUSE_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const raw: Record<string, string | boolean> = {};
  const keys = Object.keys(operatorConfig.shape);
  for (const key of keys) {
    const v = env[envName(key)];
    if (v !== undefined) raw[key] = v;
  }
  if (raw.namespace === undefined && env.POD_NAMESPACE) raw.namespace = env.POD_NAMESPACE;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = camel(arg.slice(2, eq < 0 ? undefined : eq));
    if (!keys.includes(name)) throw new Error(`unknown flag ${arg.slice(0, eq < 0 ? undefined : eq)}`);
    if (eq >= 0) raw[name] = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      const isBool = operatorConfig.shape[name as keyof typeof operatorConfig.shape] instanceof z.ZodDefault && typeof (operatorConfig.shape[name as keyof typeof operatorConfig.shape] as z.ZodDefault).def.defaultValue === 'boolean';
      if (isBool && (next === undefined || next.startsWith('--'))) raw[name] = true;
      else {
        if (next === undefined) throw new Error(`flag --${arg.slice(2)} needs a value`);
        raw[name] = next;
        i++;
      }
    }
  }
  const parsed = operatorConfig.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid operator configuration: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.renewDeadline >= parsed.data.leaseDuration) throw new Error('--renew-deadline must be shorter than --lease-duration');
  return parsed.data;
}
