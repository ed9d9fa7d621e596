// ING-6 / STO-1: the main thread's end of the writer thread (writer-worker.ts). It starts the
// thread, numbers each request and matches the thread's answer to it (id 0 is the thread's
// `ready` after start-up reconciliation, ALM-8), turns an `error` answer into a rejected promise
// carrying SQLite's code (STO-4 tells a full disk by it), and says the thread's WAL warning at most
// once in 10 s. When the thread is gone every waiting request is rejected: nothing it had is
// acknowledged (group-commit.ts decides what that means for the process).
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.ts';
import { startWorker, workerUrl } from '../core/worker-thread.ts';
import type { WriterRequest, WriterResponse, WriterThreadOptions } from './writer-protocol.ts';

/** A request as its sender writes it: the channel gives it its id. */
export type WriterCall = WriterRequest extends infer R ? (R extends WriterRequest ? Omit<R, 'id'> : never) : never;

/** The writer's WAL warning is said once in this long, not per attempt. */
const WAL_WARNING_EVERY_MS = 10_000;

export function createWriterChannel(log: Logger) {
  let worker: Worker | null = null;
  let nextId = 1;
  const replies = new Map<number, { resolve: (r: WriterResponse) => void; reject: (e: Error) => void }>();
  let walWarnedAt = -Infinity;

  function onMessage(message: WriterResponse) {
    if (message.type === 'warning') {
      if (performance.now() - walWarnedAt < WAL_WARNING_EVERY_MS) return;
      walWarnedAt = performance.now();
      log.warn({ problem: message.message }, 'writer: WAL over its bound');
      return;
    }
    const waiter = replies.get(message.id);
    if (!waiter) return;
    replies.delete(message.id);
    if (message.type === 'error') waiter.reject(Object.assign(new Error(message.message), { code: message.code }));
    else waiter.resolve(message);
  }

  return {
    /**
     * Starts the thread; resolves with its first answer (`ready`, after start-up reconciliation).
     * `died` hears the thread's error or exit, whenever it comes (also on a planned stop).
     */
    start(threadOptions: WriterThreadOptions, died: (err: Error) => void): Promise<WriterResponse> {
      const thread = startWorker(workerUrl('writer-worker', import.meta.url), threadOptions);
      worker = thread;
      thread.on('message', onMessage);
      thread.on('error', died);
      thread.on('exit', (code) => died(new Error(`writer thread exited with code ${code}`)));
      return new Promise<WriterResponse>((resolve, reject) => {
        replies.set(0, { resolve, reject });
        thread.once('error', reject);
      });
    },
    running: (): boolean => worker !== null,
    request(call: WriterCall, transfer: ArrayBuffer[] = []): Promise<WriterResponse> {
      if (!worker) return Promise.reject(new Error('writer is not running'));
      const message = { ...call, id: nextId++ } as WriterRequest;
      return new Promise((resolve, reject) => {
        replies.set(message.id, { resolve, reject });
        worker!.postMessage(message, transfer);
      });
    },
    /** The thread died: no request can be answered any more; each waiting one fails with `err`. */
    lost(err: Error): void {
      worker = null;
      for (const waiter of replies.values()) waiter.reject(err);
      replies.clear();
    },
    /** Test hook: kills the thread as a native crash would. */
    killForTest: (): Promise<number> | undefined => worker?.terminate(),
    /** Ends the thread (after its `close` answer). */
    async terminate(): Promise<void> {
      if (!worker) return;
      await worker.terminate();
      worker = null;
    },
  };
}
export type WriterChannel = ReturnType<typeof createWriterChannel>;
