// A validation worker for tests of the pool: it announces each task, then holds it until the test
// opens the gate, then validates for real. workerData.data is an Int32Array over a SharedArrayBuffer:
// [0] tasks started, [1] the gate (0 closed, 1 open).
import { workerData } from 'node:worker_threads';
import type { ThreadData } from '../../sp-server/saml/thread-entry.ts';
import validateInWorker, { type ValidationOutcome, type ValidationTask } from '../../sp-server/saml/validation-worker.ts';

/** How long a task waits for the gate at most, so a test that never opens it still ends. */
export const GATE_TIMEOUT_MS = 15_000;

export function gatedValidation(gate: Int32Array, task: ValidationTask): Promise<ValidationOutcome> {
  Atomics.add(gate, 0, 1);
  Atomics.notify(gate, 0);
  Atomics.wait(gate, 1, 0, GATE_TIMEOUT_MS);
  return validateInWorker(task);
}

export default function gatedWorker(task: ValidationTask): Promise<ValidationOutcome> {
  return gatedValidation((workerData as ThreadData).data as Int32Array, task);
}

/** A new gate, closed. */
export function newGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** Resolves once `count` tasks have started. */
export async function tasksStarted(gate: Int32Array, count: number): Promise<void> {
  for (let seen = Atomics.load(gate, 0); seen < count; seen = Atomics.load(gate, 0)) {
    const waiting = Atomics.waitAsync(gate, 0, seen, GATE_TIMEOUT_MS);
    if (waiting.async) await waiting.value;
  }
}

export function openGate(gate: Int32Array): void {
  Atomics.store(gate, 1, 1);
  Atomics.notify(gate, 1);
}
