// SAML response validation in a pool of worker threads (thread-pool.ts): the parse, signature and
// decryption work of one response never holds the event loop that answers probes, /token and
// the other organizations' logins, and one process uses every core. The replay step (a store
// shared by replicas) stays on the main thread. The queue is bounded: past it the ACS answers
// SERVER_BUSY at once instead of letting latency and memory grow without end. Waiting tasks are
// served round-robin by organization (fair-queue.ts), and one organization may hold only three
// quarters of the queue: a flood at one organization's ACS neither delays nor refuses another's logins.
import { availableParallelism } from 'node:os';
import type { Validator } from '../context.ts';
import { SamlValidationError } from './errors.ts';
import { rememberAssertion } from './validate.ts';
import { QueueFullError, ThreadPool } from './thread-pool.ts';
import { profileKeys } from './validation-profiles.ts';
import type { ValidationOutcome, ValidationTask } from './validation-worker.ts';

/** Validations that may wait per worker thread; at about 2–5 ms each, a full queue is well under a second of work. */
export const QUEUE_PER_THREAD = 32;

/**
 * Tasks handed to one worker thread at a time: with two, the next one already waits in the
 * thread's port when the current one ends, so a worker never idles through the round trip to the
 * event loop and back. With one, a single worker ran at 0.71x the event loop's rate; with two,
 * 1.07x, and two workers went from 2,598 to 3,496 validations/s (bench:acs-workers, one run). The
 * price: a task handed over waits behind at most one validation of that thread, not in the fair
 * queue, so a quiet organization's login waits at most one validation longer under a flood.
 */
export const TASKS_PER_THREAD = 2;

/**
 * Worker threads run at a lower CPU priority than the event loop (Linux nice, set per thread; where
 * the platform refuses they run at the same priority): when validation saturates the
 * cores, probes, /token and the other light requests on the event loop still get a core first.
 * Measured with bench:hostile --limited: worst event-loop delay under the flood 53 → 46 ms,
 * /healthz p99 49 → 39 ms (one run each, quiet 2-core machine).
 */
export const WORKER_NICE_INCREMENT = 10;

/** The pool's queue is full: the ACS refuses with SERVER_BUSY (503) rather than queueing. */
export class ServerBusyError extends Error {
  readonly code = 'SERVER_BUSY';
  constructor(queued: number) {
    super(`${queued} SAML validations are already waiting for a worker thread`);
    this.name = 'ServerBusyError';
  }
}

export interface ValidationPoolOptions {
  /** Worker threads; default: the cores this process may use. */
  threads?: number;
  /** Validations that may wait for a thread; default QUEUE_PER_THREAD per thread. */
  maxQueue?: number;
  /**
   * Validations one organization may have waiting; default three quarters of maxQueue, so a busy
   * organization's burst (a morning's logins) still queues while a quarter stays for the others.
   */
  maxQueuePerOrganization?: number;
  /** Tasks handed to a thread at a time (the rest wait in the fair queue); default TASKS_PER_THREAD. */
  tasksPerThread?: number;
  /** Added to the worker threads' nice value; default WORKER_NICE_INCREMENT, 0 keeps the event loop's. */
  niceIncrement?: number;
  /** The worker module (tests substitute one); default validation-worker.ts. */
  filename?: string;
  /** Passed to every worker as workerData.data (tests hand their workers a gate). */
  workerData?: unknown;
}

export interface ValidationPool {
  validate: Validator;
  readonly threads: number;
  readonly maxQueue: number;
  /** Validations waiting for a thread. */
  readonly queueSize: number;
  /** Share of the pool's capacity spent running validations since it started (0–1). */
  readonly utilization: number;
  close(): Promise<void>;
}

export function createValidationPool(options: ValidationPoolOptions = {}): ValidationPool {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`a validation pool needs at least one thread, not ${threads}`);
  const maxQueue = options.maxQueue ?? threads * QUEUE_PER_THREAD;
  const maxQueuePerOrganization = options.maxQueuePerOrganization ?? Math.max(1, Math.floor((maxQueue * 3) / 4));
  const tasksPerThread = options.tasksPerThread ?? TASKS_PER_THREAD;
  const pool = new ThreadPool<ValidationTask, ValidationOutcome>({
    module: options.filename ?? new URL('./validation-worker.ts', import.meta.url).href,
    threads,
    tasksPerThread,
    maxQueue,
    niceIncrement: options.niceIncrement ?? WORKER_NICE_INCREMENT,
    data: options.workerData,
  });

  const profiles = profileKeys(() => pool.threadIds);
  const run = (task: ValidationTask, organization: string): Promise<ValidationOutcome> => {
    try {
      return pool.run(task, organization);
    } catch (err) {
      if (err instanceof QueueFullError) throw new ServerBusyError(err.queued);
      throw err;
    }
  };

  const validate: Validator = async (samlResponseBase64, ctx) => {
    const organization = ctx.organization ?? '';
    if (pool.waitingFor(organization) >= maxQueuePerOrganization) throw new ServerBusyError(pool.waitingFor(organization));
    const { replay: _replay, profile, ...documentCtx } = ctx;
    const { key, held } = profiles.lookup(profile);
    let outcome = await run({ samlResponseBase64, ctx: documentCtx, profileKey: key, ...(held ? {} : { profile }) }, organization);
    // A thread that has not had this profile yet, or dropped it: once more, with the profile.
    if ('missingProfile' in outcome) {
      profiles.missing(profile, outcome.thread);
      outcome = await run({ samlResponseBase64, ctx: documentCtx, profileKey: key, profile }, organization);
    }
    if ('missingProfile' in outcome) throw new Error('a validation worker refused a task that carried its profile');
    profiles.held(profile, outcome.thread);
    if (!outcome.ok) throw new SamlValidationError(outcome.code, outcome.hint, outcome.cause === undefined ? undefined : { cause: outcome.cause });
    await rememberAssertion(outcome.assertion, ctx);
    return outcome.assertion;
  };

  return {
    validate,
    threads,
    maxQueue,
    get queueSize() {
      return pool.queueSize;
    },
    get utilization() {
      return pool.utilization;
    },
    close: () => pool.close(),
  };
}
