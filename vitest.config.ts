import { defineConfig } from 'vitest/config';

// Three projects: unit tests (no external process) run next to the code they test; integration
// tests run against a real kube-apiserver + etcd started once per run by the global setup; browser
// tests (e2e) run last.
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
    projects: [
      {
        test: {
          name: 'unit',
          // Some unit tests compile xmllint's WebAssembly or run property-based fuzzing: seconds of
          // CPU that a loaded 2-core machine can stretch past vitest's 5 s default.
          testTimeout: 30_000,
          include: ['charts/**/*.test.ts', 'crds/**/*.test.ts', 'kube/**/*.test.ts', 'operator/**/*.test.ts', 'sp-server/**/*.test.ts', 'test/unit/**/*.test.ts', 'xml/**/*.test.ts', 'egress/**/*.test.ts', 'ui/**/*.test.ts', 'portal/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/controlplane/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The whole system and a real browser: test/support/local-system.ts + Chromium. Each file
          // starts a whole system (control plane, operator, sp-server, IdPs, browser): on 2 cores
          // they run after the other projects and one file at a time, or their timings fail.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
