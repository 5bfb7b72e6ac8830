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
        // The end-to-end suite again, each harness on PostgreSQL, Redis and NATS (test/e2e/harness.ts).
        test: {
          name: 'e2e-cluster',
          include: ['test/e2e/**/*.test.ts'],
          exclude: [
            'test/e2e/analyze.test.ts', // starts no harness (offline CLI): nothing differs by profile
            'test/e2e/demo.test.ts', // starts no harness (the embedded demo)
            'test/e2e/stix-roundtrip.test.ts', // starts no harness (files only)
            'test/e2e/durability.test.ts', // SIGKILLs a child `warden serve` and reopens its embedded SQLite file
            'test/e2e/audit-verify.test.ts', // tampers with audit_log in the embedded warden.db (cluster: test/services/audit-tamper.test.ts)
          ],
          env: { WARDEN_E2E_PROFILE: 'cluster' },
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
