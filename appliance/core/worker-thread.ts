// The worker threads (the writer and its checkpointer, STO-1/ING-6; the archive export, STO-4) are
// found and started in one way, whichever stage owns them.
import { Worker } from 'node:worker_threads';
import { extractedWorker } from './sea-runtime.ts';

export type WorkerName = 'writer-worker' | 'checkpoint-worker' | 'export-worker';

/**
 * Where a worker's script is. From source the calling module (`moduleUrl`, its import.meta.url)
 * is a `.ts` file beside `<name>.ts`; in the bundle (appliance/build.ts) it is inside
 * dist/main.js beside dist/<name>.js; in the single executable the workers are extracted assets
 * (core/sea-runtime.ts).
 */
export function workerUrl(name: WorkerName, moduleUrl: string): URL {
  return extractedWorker(name) ?? new URL(`./${name}.${moduleUrl.endsWith('.ts') ? 'ts' : 'js'}`, moduleUrl);
}

/**
 * Node 20 does not hand the main thread's module hooks (tsx, when running from source) to worker
 * threads, so a `.ts` worker registers tsx itself before loading its entry. A bundled build points
 * at plain JavaScript and starts it directly.
 */
export function startWorker(url: URL, workerData: object): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const boot = `
    const { workerData } = require('node:worker_threads');
    import(workerData.boot.tsx).then((tsx) => { tsx.register(); return import(workerData.boot.entry); });`;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return new Worker(boot, { eval: true, workerData: { ...workerData, boot: { tsx: tsxApi, entry: url.href } } });
}
