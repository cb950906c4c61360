// The validation worker pool: the same answers as validation on the event loop (Dates and stable
// codes included), a bounded queue that refuses with SERVER_BUSY, and an event loop that keeps
// answering while a validation is in flight.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResponse, makeKeyPair, testProfile, toBase64, untrustedKeys, type ResponseOptions } from '../../test/support/saml-fixtures.ts';
import { newGate, openGate, tasksStarted } from '../../test/support/gated-validation-worker.ts';
import { startTestApp } from '../../test/support/sp-app.ts';
import { createMetrics } from '../metrics.ts';
import { SamlValidationError } from './errors.ts';
import { memoryReplayCache, validateSamlResponse, type ValidationContext } from './validate.ts';
import { createValidationPool, ServerBusyError, TASKS_PER_THREAD, WORKER_NICE_INCREMENT, type ValidationPool } from './validation-pool.ts';

const profile = testProfile();
const GATED_WORKER = new URL('../../test/support/gated-validation-worker.ts', import.meta.url).href;

type Answer = { ok: true; value: unknown } | { ok: false; name: string; code: string; hint: string };
async function answer(run: Promise<unknown>): Promise<Answer> {
  try {
    return { ok: true, value: await run };
  } catch (err) {
    const e = err as SamlValidationError;
    return { ok: false, name: e.name, code: e.code, hint: e.hint };
  }
}

// Workers start and load the validator first; a loaded machine makes that slow, not wrong.
const SLOW = { timeout: 30_000 };
/** One task per thread, and the default: with T, a thread holds T tasks and only the rest queue. */
const TASKS = [1, TASKS_PER_THREAD];

describe('validation in the worker pool', SLOW, () => {
  let pool: ValidationPool;
  beforeAll(async () => {
    pool = createValidationPool({ threads: 2 });
    const r = await buildResponse();
    await Promise.all([1, 2].map(() => pool.validate(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() })));
  }, 30_000);
  afterAll(() => pool.close());

  const other = makeKeyPair('other-sp-pool.test');
  const cases: [string, ResponseOptions, Partial<ValidationContext>?][] = [
    ['a signed response', {}],
    ['an encrypted assertion under an unsigned response', { encrypt: true, signResponse: false, signAssertion: true }],
    ['150 attribute values', { attributes: 150 }],
    ['an expired assertion', { notOnOrAfterSeconds: -600, subjectNotOnOrAfterSeconds: -600 }],
    ['another audience', { audience: 'https://elsewhere.test' }],
    ['an untrusted signer', { signer: untrustedKeys() }],
    ['an IdP-initiated response', { inResponseTo: null }],
    ['an assertion for another SP key', { encrypt: true }, { profile: testProfile({ sp: { ...profile.sp, key: { privateKeyPem: other.privateKeyPem, certificatePem: other.certificatePem } } }) }],
  ];

  it.each(cases)('%s: the same answer as on the event loop', async (_, opts, overrides) => {
    const r = await buildResponse(opts);
    const ctx = () => ({ profile, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache(), ...overrides });
    const inThread = await answer(validateSamlResponse(r.base64, ctx()));
    const inWorker = await answer(pool.validate(r.base64, ctx()));
    expect(inWorker).toEqual(inThread);
    if (inWorker.ok) {
      const v = inWorker.value as { notOnOrAfter: unknown; authnInstant: unknown };
      expect(v.notOnOrAfter).toBeInstanceOf(Date);
      expect(v.authnInstant).toBeInstanceOf(Date);
    } else {
      expect(inWorker.name).toBe('SamlValidationError');
    }
  });

  it('refuses what is not a response at all with the same code, and a replay on the main thread', async () => {
    for (const junk of ['not base64!', toBase64('<samlp:Response'), toBase64(`<a>${'<b>'.repeat(100)}`)]) {
      const ctx = () => ({ profile, expectedInResponseTo: '_x', replay: memoryReplayCache() });
      expect(await answer(pool.validate(junk, ctx()))).toEqual(await answer(validateSamlResponse(junk, ctx())));
    }
    const r = await buildResponse();
    const replay = memoryReplayCache();
    await pool.validate(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay });
    expect(await answer(pool.validate(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay }))).toMatchObject({ ok: false, code: 'ASSERTION_REPLAYED' });
  });
});

describe('profiles held by the worker threads', SLOW, () => {
  it('sends a profile to a thread once, and a changed profile (a new object) replaces it at once', async () => {
    const pool = createValidationPool({ threads: 2 });
    try {
      const p1 = testProfile();
      const replay = memoryReplayCache();
      const first = await buildResponse();
      expect(await answer(pool.validate(first.base64, { profile: p1, expectedInResponseTo: first.inResponseTo, replay }))).toMatchObject({ ok: true });
      // Several at once: the thread that has not had p1 yet gets a task without it, answers so, and gets it again with p1.
      const rs = await Promise.all(Array.from({ length: 8 }, () => buildResponse()));
      const answers = await Promise.all(rs.map((r) => answer(pool.validate(r.base64, { profile: p1, expectedInResponseTo: r.inResponseTo, replay }))));
      expect(answers.every((a) => a.ok)).toBe(true);
      // The same name and settings, another trusted certificate: the threads' copies of p1 must not answer for it.
      const p2 = testProfile({ idp: { ...p1.idp, certificates: [untrustedKeys().certificatePem] } });
      const r = await buildResponse();
      const ctx = () => ({ profile: p2, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() });
      const inWorker = await answer(pool.validate(r.base64, ctx()));
      expect(inWorker).toMatchObject({ ok: false });
      expect(inWorker).toEqual(await answer(validateSamlResponse(r.base64, ctx())));
      // And p1 is still the profile it was.
      const again = await buildResponse();
      expect(await answer(pool.validate(again.base64, { profile: p1, expectedInResponseTo: again.inResponseTo, replay }))).toMatchObject({ ok: true });
    } finally {
      await pool.close();
    }
  });
});

describe.each(TASKS)('a full validation queue, %i task(s) per thread', (tasksPerThread) => {
  it('refuses at once with SERVER_BUSY, and the queued validations still complete', SLOW, async () => {
    const gate = newGate();
    const pool = createValidationPool({ threads: 1, maxQueue: 2, maxQueuePerOrganization: 2, tasksPerThread, filename: GATED_WORKER, workerData: gate });
    try {
      const r = await buildResponse();
      const ctx = () => ({ profile, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() });
      const running = answer(pool.validate(r.base64, ctx()));
      await tasksStarted(gate, 1);
      const queued = Array.from({ length: tasksPerThread - 1 + 2 }, () => answer(pool.validate(r.base64, ctx())));
      expect(pool.queueSize).toBe(2);
      const refused = await pool.validate(r.base64, ctx()).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ServerBusyError);
      expect((refused as ServerBusyError).code).toBe('SERVER_BUSY');
      openGate(gate);
      for (const a of [await running, ...(await Promise.all(queued))]) expect(a).toMatchObject({ ok: true, value: { nameID: 'alice@acme.test' } });
    } finally {
      openGate(gate);
      await pool.close();
    }
  });
});

describe.each(TASKS)('a queue shared fairly by organizations, %i task(s) per thread', (tasksPerThread) => {
  it('serves a quiet organization before the rest of a flooding one, and caps what one organization may queue', SLOW, async () => {
    const gate = newGate();
    const pool = createValidationPool({ threads: 1, maxQueue: 16, maxQueuePerOrganization: 4, tasksPerThread, filename: GATED_WORKER, workerData: gate });
    try {
      const r = await buildResponse();
      const finished: string[] = [];
      const run = (organization: string, label: string) =>
        answer(pool.validate(r.base64, { profile, organization, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() })).then((a) => {
          finished.push(label);
          return a;
        });
      const held = run('flood', 'flood-0');
      await tasksStarted(gate, 1);
      // The thread takes tasksPerThread - 1 more at once; then four wait, the organization's share.
      const flood = Array.from({ length: tasksPerThread - 1 + 4 }, (_, i) => run('flood', `flood-${i + 1}`));
      const overShare = await pool.validate(r.base64, { profile, organization: 'flood', expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() }).catch((e: unknown) => e);
      expect(overShare).toBeInstanceOf(ServerBusyError);
      const quiet = run('quiet', 'quiet');
      expect(pool.queueSize).toBe(5);
      openGate(gate);
      for (const a of [await held, ...(await Promise.all(flood)), await quiet]) expect(a).toMatchObject({ ok: true });
      // Round-robin: the quiet organization's one validation runs right after the flood's next one
      // (behind the tasks the thread already held).
      expect(finished.indexOf('quiet')).toBeLessThanOrEqual(tasksPerThread + 1);
      expect(finished.slice(-1)).toEqual([`flood-${tasksPerThread - 1 + 4}`]);
    } finally {
      openGate(gate);
      await pool.close();
    }
  });
});

describe.each(TASKS)('the default share of one organization, %i task(s) per thread', (tasksPerThread) => {
  it('lets one organization queue three quarters of the pool (a burst of logins), and keeps the last quarter for the others', SLOW, async () => {
    const gate = newGate();
    const pool = createValidationPool({ threads: 1, maxQueue: 8, tasksPerThread, filename: GATED_WORKER, workerData: gate });
    try {
      const r = await buildResponse();
      const run = (organization: string) => answer(pool.validate(r.base64, { profile, organization, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() }));
      const held = run('busy');
      await tasksStarted(gate, 1);
      const burst = Array.from({ length: tasksPerThread - 1 + 6 }, () => run('busy'));
      expect(pool.queueSize).toBe(6);
      expect(await run('busy')).toMatchObject({ ok: false, code: 'SERVER_BUSY' });
      const others = [run('other-1'), run('other-2')];
      expect(pool.queueSize).toBe(8);
      openGate(gate);
      for (const a of [await held, ...(await Promise.all(burst)), ...(await Promise.all(others))]) expect(a).toMatchObject({ ok: true });
    } finally {
      openGate(gate);
      await pool.close();
    }
  });
});

describe('worker priority', SLOW, () => {
  it.runIf(process.platform === 'linux')('runs the worker threads at a lower CPU priority than the event loop', async () => {
    const pool = createValidationPool({ threads: 2 });
    try {
      const r = await buildResponse();
      await Promise.all([1, 2].map(() => pool.validate(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay: memoryReplayCache() })));
      const niceOf = (task: string): number => {
        const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const workers = readdirSync('/proc/self/task').filter((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'WorkerThread').map(niceOf);
      expect(workers.filter((n) => n === niceOf(String(process.pid)) + WORKER_NICE_INCREMENT).length).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });
});

describe('the sp-server with validation in workers', SLOW, () => {
  it('answers /healthz while a validation is in flight, and the ACS refuses past the queue with SERVER_BUSY (503)', async () => {
    const gate = newGate();
    // One task per thread, so the second response is the one that waits in the queue.
    const pool = createValidationPool({ threads: 1, maxQueue: 1, tasksPerThread: 1, filename: GATED_WORKER, workerData: gate });
    const t = await startTestApp({ app: { validate: pool.validate } });
    try {
      const acs = `${t.base}/saml/acme/okta/acs`;
      const post = async () => {
        const r = await buildResponse({ destination: acs, recipient: acs, audience: `${t.base}/saml/acme/okta` });
        return fetch(acs, { method: 'POST', body: new URLSearchParams({ SAMLResponse: r.base64 }) });
      };
      const order: string[] = [];
      const first = post().then((res) => {
        order.push('acs');
        return res;
      });
      await tasksStarted(gate, 1);
      const health = await fetch(`${t.base}/healthz`);
      order.push('healthz');
      expect(health.status).toBe(200);
      const second = post();
      while (pool.queueSize < 1) await new Promise((resolve) => setImmediate(resolve));
      const busy = await post();
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(await busy.text()).toContain('SERVER_BUSY');
      expect((await t.metrics.registry.getSingleMetricAsString('gatehouse_saml_rejections_total'))).toContain('code="SERVER_BUSY"} 1');
      openGate(gate);
      // The held responses were validated for real: no sign-in was pending for them.
      for (const res of [await first, await second]) expect(await res.text()).toContain('UNSOLICITED_RESPONSE');
      expect(order).toEqual(['healthz', 'acs']);
    } finally {
      openGate(gate);
      await t.close();
      await pool.close();
    }
  });

  it('builds its own pool when told to, reports it in metrics, and closes it with the app', async () => {
    const metrics = createMetrics();
    const t = await startTestApp({ app: { validationWorkers: 2, metrics } });
    try {
      const acs = `${t.base}/saml/acme/okta/acs`;
      const r = await buildResponse({ destination: acs, recipient: acs, audience: `${t.base}/saml/acme/okta`, signer: untrustedKeys() });
      const res = await fetch(acs, { method: 'POST', body: new URLSearchParams({ SAMLResponse: r.base64 }) });
      expect(await res.text()).toContain('UNTRUSTED_CERTIFICATE');
      const text = await metrics.registry.metrics();
      expect(text).toContain('gatehouse_sp_validation_workers 2');
      expect(text).toMatch(/gatehouse_sp_validation_queue_size 0/);
      expect(text).toMatch(/gatehouse_sp_validation_utilization_ratio \d/);
    } finally {
      await t.close();
    }
  });
});
