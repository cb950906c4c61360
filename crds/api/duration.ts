// Go-style durations (`90s`, `1h30m`, `500ms`): one pattern for every CRD field, the Helm values
// schema and the operator's flags, and the one parser that turns them into milliseconds.
import { z } from 'zod';

// Kubernetes evaluates `pattern` with Go's RE2 and Helm with its JSON Schema validator: this
// pattern means the same in both and in JavaScript.
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/** A Go-style duration limited to what a human writes: `90s`, `2m`, `1h30m`. */
export const duration = z.string().max(32).regex(new RegExp(DURATION_PATTERN));

/** Parses a Go-style duration (`90s`, `1h30m`, `500ms`) into milliseconds. */
export function parseDuration(text: string): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.length) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 90s, 15m, 720h)`);
  return total;
}

/** A duration in whole seconds, the unit the rendered config carries. */
export function durationSeconds(text: string): number {
  return Math.round(parseDuration(text) / 1000);
}
