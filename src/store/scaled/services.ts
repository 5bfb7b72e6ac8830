/**
 * Where the scaled-out test suites find their services (`npx vitest run --project services`):
 * the services this machine and CI run locally. PostgreSQL trusts local connections, so no
 * password is needed; each test makes its own schema, stream or key prefix and removes it.
 */
export const services = {
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: 'redis://127.0.0.1:6379',
  natsServers: '127.0.0.1:4222',
} as const;

/** Addresses where nothing listens, for the "fails with the URL it tried" tests. */
export const unreachable = {
  postgresUrl: 'postgres://postgres@127.0.0.1:1/test',
  redisUrl: 'redis://127.0.0.1:1',
  natsServers: '127.0.0.1:1',
} as const;
