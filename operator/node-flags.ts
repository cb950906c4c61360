// The V8 flags the operator's process runs with: the chart's container command and every test or
// benchmark that starts `operator/main.ts` pass these (a chart-render test holds them equal).
//
// The young generation is capped at 2 × 16 MiB. V8 sizes it from the machine's memory, up to
// 2 × 64 MiB on a 24 GiB node, and grows it under the allocation burst of an enforcement pass
// (every user's watch event and status write): over 100,000 cached users the operator's RSS went
// from 223.5 MiB before enforcement to a peak of 277.2 MiB without the cap (bench:enforcement
// --users 100000), past the 250 MiB it is given.
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
