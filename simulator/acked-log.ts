// SIM-3 --acked-log: one "sn,seq,ts" line per acknowledged reading, so a benchmark can prove that
// every PUBACK'd reading was stored (ING-6). Lines are batched into large writes, off the hot path.
import { createWriteStream } from 'node:fs';

export interface AckedLog {
  add(sn: string, seq: number, ts: number): void;
  close(): Promise<void>;
}

const FLUSH_CHARS = 256 * 1024;

export function createAckedLog(file: string): AckedLog {
  const out = createWriteStream(file, { flags: 'a' });
  let pending = '';
  const flush = () => {
    if (pending.length === 0) return;
    out.write(pending);
    pending = '';
  };
  return {
    add(sn, seq, ts) {
      pending += sn + ',' + seq + ',' + ts + '\n';
      if (pending.length >= FLUSH_CHARS) flush();
    },
    close() {
      flush();
      return new Promise((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      });
    },
  };
}
