// Conditions and phases in plain words: what a badge says about a resource's state.
import { html, type SafeHtml } from '../../ui/html.ts';

export interface Condition {
  type: string;
  status: string;
  reason?: string | undefined;
  message?: string | undefined;
  lastTransitionTime?: string | Date | undefined;
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function badge(kind: 'ok' | 'warn' | 'bad' | 'muted', text: string): SafeHtml {
  return html`<span class="badge ${kind}">${text}</span>`;
}

/** A condition as a badge: True is good, False bad, Unknown or missing pending. */
export function conditionBadge(c: Condition | undefined, labels: { ok: string; bad: string; pending?: string }): SafeHtml {
  if (!c || c.status === 'Unknown') return badge('muted', labels.pending ?? 'Pending');
  return c.status === 'True' ? badge('ok', labels.ok) : badge('bad', labels.bad);
}

/** "3 minutes ago" style, for status times (the exact time is in the title attribute). */
export function ago(time: string | Date | undefined, now = Date.now()): SafeHtml {
  if (!time) return html`never`;
  const t = typeof time === 'string' ? Date.parse(time) : time.getTime();
  const s = Math.round((now - t) / 1000);
  const words = s < 0 ? `in ${human(-s)}` : s < 5 ? 'just now' : `${human(s)} ago`;
  return html`<time datetime="${new Date(t).toISOString()}" title="${new Date(t).toISOString()}">${words}</time>`;
}

function human(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400 * 2) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}
