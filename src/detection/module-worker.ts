import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module at `moduleUrl` (pass `import.meta.url` to run the calling
 * module itself): the compiled .js, or the .ts source when Warden runs from source under tsx
 * (tests, benchmarks), whose loader a worker must register for itself.
 */
export function moduleWorker(moduleUrl: string, options: WorkerOptions): Worker {
  if (!moduleUrl.endsWith('.ts')) return new Worker(new URL(moduleUrl), options);
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(moduleUrl)}); });`, { ...options, eval: true });
}
