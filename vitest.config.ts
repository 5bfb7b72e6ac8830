import { defineConfig } from 'vitest/config';

// Projects by what a suite needs: `unit` needs nothing (npm test); `services` needs
// PostgreSQL, Redis and NATS; `browser` needs Chromium; `faults` restarts services and runs last.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/*.test.ts'],
          exclude: ['src/**/*.services.test.ts', 'src/store/scaled/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'services',
          include: ['src/**/*.services.test.ts', 'src/store/scaled/**/*.test.ts', 'test/services/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.spec.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
