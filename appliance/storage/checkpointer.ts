// STO-4: the checkpointer thread's client on the main thread. The thread (checkpoint-worker.ts)
// runs PASSIVE checkpoints beside the writer every second, resets the WAL past its limit, and
// answers the disk guard's TRUNCATE requests; a crash of it is said, and the writer's own
// autocheckpoint is the backstop.
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.ts';
import { startWorker, workerUrl } from '../core/worker-thread.ts';
import type { CheckpointerMessage, CheckpointerOptions, CheckpointerRequest, CheckpointResult } from './writer-protocol.ts';

/** PASSIVE checkpoints this often. */
const CHECKPOINT_EVERY_MS = 1000;
/** How often the checkpointer looks at the WAL's size (one stat). */
const WAL_CHECK_EVERY_MS = 100;

export interface CheckpointerClientOptions {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  walLimitBytes: number;
  log: Logger;
}

export function createCheckpointer({ file, synchronous, walLimitBytes, log }: CheckpointerClientOptions) {
  let thread: Worker | null = null;
  let nextId = 1;
  const replies = new Map<number, { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }>();

  return {
    start() {
      const options: CheckpointerOptions = { file, intervalMs: CHECKPOINT_EVERY_MS, synchronous, walLimitBytes, walCheckMs: WAL_CHECK_EVERY_MS };
      thread = startWorker(workerUrl('checkpoint-worker', import.meta.url), options);
      thread.on('message', (message: CheckpointerMessage) => {
        const waiter = 'id' in message && message.id !== undefined ? replies.get(message.id) : undefined;
        if (waiter) replies.delete((message as { id: number }).id);
        if (message.type === 'checkpointed') waiter?.resolve(message.result);
        if (message.type !== 'error') return;
        // A full disk fails checkpoints too: said (not an error of its own: the DISK alarm is the news).
        if (waiter) waiter.reject(Object.assign(new Error(message.message), { code: message.code }));
        else log.warn({ error: message.message, code: message.code, mode: message.mode }, 'checkpoint failed');
      });
      thread.on('error', (err) => {
        log.error({ err }, 'checkpointer thread crashed; the writer checkpoints itself');
        for (const waiter of replies.values()) waiter.reject(err);
        replies.clear();
        thread = null;
      });
    },
    /**
     * STO-4: a TRUNCATE checkpoint on the checkpointer's connection: the WAL copied back and emptied
     * (it waits for the writer's next pause; `busy` 1 if a reader kept it from finishing).
     */
    checkpoint(): Promise<CheckpointResult> {
      if (!thread) return Promise.reject(new Error('checkpointer is not running'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        replies.set(id, { resolve, reject });
        thread!.postMessage({ type: 'checkpoint', id } satisfies CheckpointerRequest);
      });
    },
    async stop(): Promise<void> {
      if (!thread) return;
      for (const waiter of replies.values()) waiter.reject(new Error('checkpointer stopped'));
      replies.clear();
      const closed = new Promise((resolve) => thread!.once('exit', resolve));
      thread.postMessage({ type: 'close' } satisfies CheckpointerRequest);
      await closed;
      thread = null;
    },
  };
}
