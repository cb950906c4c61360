// Ordered sub-reconcilers in the shape of Flux's: each step owns a set of condition types and
// may set only those; a step that throws stops the chain and its conditions record why, so the
// status written on the way out says what failed instead of the error vanishing into a log line.
import type { Condition } from '../../crds/api/index.ts';
import type { DesiredCondition } from '../conditions.ts';

/** The reason a failed step's conditions carry; its message is the error's. */
export const RECONCILE_ERROR = 'ReconcileError';
/** The reason of conditions a failed step left unevaluated on their first visit. */
export const NOT_EVALUATED = 'NotEvaluated';

export interface StepResult {
  requeueAfterMs?: number;
}

/** The desired conditions of one reconcile, seeded with the object's current ones. */
export class ConditionBook {
  private readonly byType = new Map<string, DesiredCondition>();

  constructor(existing: readonly Condition[] | undefined) {
    for (const c of existing ?? []) this.byType.set(c.type, { type: c.type, status: c.status, reason: c.reason, message: c.message });
  }

  get(type: string): DesiredCondition | undefined {
    return this.byType.get(type);
  }

  set(condition: DesiredCondition): void {
    this.byType.set(condition.type, condition);
  }

  delete(type: string): void {
    this.byType.delete(type);
  }

  /** The conditions in `order`, leaving out types never set: the order a reader of the status sees. */
  inOrder(order: readonly string[]): DesiredCondition[] {
    return order.flatMap((t) => this.byType.get(t) ?? []);
  }
}

/** What a step may do with conditions: set the ones it owns. */
export interface ConditionWriter<Owned extends string> {
  set(condition: DesiredCondition & { type: Owned }): void;
}

export interface Step<State, Owned extends string = string> {
  name: string;
  owns: readonly Owned[];
  run(state: State, conditions: ConditionWriter<Owned>): Promise<StepResult> | StepResult;
}

export interface StepFailure {
  step: string;
  error: unknown;
}

export interface ChainOutcome {
  /** The earliest requeue any step asked for. */
  requeueAfterMs?: number;
  failure?: StepFailure;
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Runs the steps in order until one throws. The failed step's conditions turn False with reason
 * ReconcileError; conditions of steps that did not run keep their last value (a first visit
 * gets Unknown), so nothing is claimed that was not checked.
 */
export async function runSteps<State>(steps: readonly Step<State>[], state: State, book: ConditionBook): Promise<ChainOutcome> {
  let requeueAfterMs: number | undefined;
  for (const [i, step] of steps.entries()) {
    const writer: ConditionWriter<string> = {
      set: (c) => {
        if (!step.owns.includes(c.type)) throw new Error(`step ${step.name} set condition ${c.type}, which it does not own`);
        book.set(c);
      },
    };
    try {
      const result = await step.run(state, writer);
      if (result.requeueAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, result.requeueAfterMs);
    } catch (error) {
      const message = `${step.name} failed: ${errorMessage(error)}`;
      for (const type of step.owns) book.set({ type, status: 'False', reason: RECONCILE_ERROR, message });
      for (const later of steps.slice(i + 1)) {
        for (const type of later.owns) {
          if (!book.get(type)) book.set({ type, status: 'Unknown', reason: NOT_EVALUATED, message: `not evaluated: ${message}` });
        }
      }
      return { ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}), failure: { step: step.name, error } };
    }
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}
