// The step runner: order, requeue, and what a failed step leaves in the conditions.
import { describe, expect, it } from 'vitest';
import { ConditionBook, runSteps, type Step } from './steps.ts';

type State = { ran: string[] };
const step = (name: string, owns: string[], run: (s: State) => void, requeueAfterMs?: number): Step<State> => ({
  name,
  owns,
  run(s, conditions) {
    s.ran.push(name);
    run(s);
    for (const type of owns) conditions.set({ type, status: 'True', reason: 'Fine', message: name });
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  },
});
const existing = [{ type: 'C', status: 'True' as const, reason: 'WasFine', message: 'before', lastTransitionTime: '2026-01-01T00:00:00Z' }];

describe('runSteps', () => {
  it('runs the steps in order and keeps the earliest requeue', async () => {
    const s = { ran: [] };
    const book = new ConditionBook(undefined);
    const out = await runSteps([step('a', ['A'], () => {}, 5000), step('b', ['B'], () => {}, 2000), step('c', ['C'], () => {})], s, book);
    expect(s.ran).toEqual(['a', 'b', 'c']);
    expect(out).toEqual({ requeueAfterMs: 2000 });
    expect(book.inOrder(['C', 'A', 'B']).map((c) => c.type)).toEqual(['C', 'A', 'B']);
  });

  it('stops at a step that throws: its conditions say why, later ones keep their value or are Unknown', async () => {
    const s = { ran: [] };
    const book = new ConditionBook(existing);
    const boom = step('b', ['B'], () => {
      throw new Error('API server unavailable');
    });
    const out = await runSteps([step('a', ['A'], () => {}), boom, step('c', ['C'], () => {}), step('d', ['D'], () => {})], s, book);
    expect(s.ran).toEqual(['a', 'b']);
    expect(out.failure?.step).toBe('b');
    expect(book.get('B')).toEqual({ type: 'B', status: 'False', reason: 'ReconcileError', message: 'b failed: API server unavailable' });
    expect(book.get('C')).toEqual({ type: 'C', status: 'True', reason: 'WasFine', message: 'before' });
    expect(book.get('D')).toMatchObject({ status: 'Unknown', reason: 'NotEvaluated' });
  });

  it('refuses a step setting a condition it does not own', async () => {
    const rogue: Step<State> = { name: 'rogue', owns: ['A'], run: (_s, c) => (c.set({ type: 'B', status: 'True', reason: 'X', message: '' }), {}) };
    const out = await runSteps([rogue], { ran: [] }, new ConditionBook(undefined));
    expect((out.failure?.error as Error).message).toBe('step rogue set condition B, which it does not own');
  });
});
