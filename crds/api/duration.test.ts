// Durations: the parser and the pattern the CRDs and the chart validate with agree.
import { describe, expect, it } from 'vitest';
import { duration, DURATION_PATTERN, durationSeconds, parseDuration } from './duration.ts';

describe('Go-style durations', () => {
  it('parses Go-style durations and refuses junk', () => {
    expect(parseDuration('720h')).toBe(720 * 3_600_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(() => parseDuration('10 minutes')).toThrow(/invalid duration/);
  });

  it('rounds to the whole seconds the rendered config carries', () => {
    expect(durationSeconds('90s')).toBe(90);
    expect(durationSeconds('5m')).toBe(300);
    expect(durationSeconds('1500ms')).toBe(2);
  });

  it.each(['90s', '1h30m', '500ms', '1.5h', '0s', '720h'])('the pattern and the parser both accept %s', (text) => {
    expect(new RegExp(DURATION_PATTERN).test(text)).toBe(true);
    expect(duration.safeParse(text).success).toBe(true);
    expect(() => parseDuration(text)).not.toThrow();
  });

  it.each(['', '30 days', '5', 'h', '-5m', '1d', '5m '])('the pattern and the parser both refuse %j', (text) => {
    expect(new RegExp(DURATION_PATTERN).test(text)).toBe(false);
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});
