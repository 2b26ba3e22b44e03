import { defineConfig } from 'vitest/config';

// Tests mirror src/ under test/. Server tests start real servers on 127.0.0.1:0, so allow
// generous timeouts (a 2-core CI machine is shared) and run files in separate processes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
