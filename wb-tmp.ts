import { rmSync } from 'node:fs';
import { openDb } from './appliance/storage/db.ts';
import { createReadingStore } from './appliance/storage/reading-store.ts';
import * as R from './appliance/storage/reading-row.ts';
const [batch, sorted, devices] = process.argv.slice(2);
rmSync('/tmp/wb', { recursive: true, force: true });
const db = openDb('/tmp/wb/y.db', { synchronous: (process.env.SYNC ?? 'FULL') as 'FULL', cacheMb: Number(process.env.CACHE ?? 32) });
db.pragma('wal_autocheckpoint = 16384');
const D = Number(devices);
for (let i = 1; i <= D; i++) db.prepare('INSERT INTO serials (sn) VALUES (?)').run('D' + i);
const store = createReadingStore(db);
const B = Number(batch); const rows = new Float64Array(B * R.ROW_FIELDS);
let t = 1.79e12; let seq = 0; const total = 600_000; 
// prefill 1M rows so the tree is realistic
const pre = new Float64Array(50000 * R.ROW_FIELDS);
for (let d = 1; d <= D; d++) { let n = 0; for (let k = 0; k < Math.floor(1_000_000 / D); k++) { pre.set([d, 1.78e12 + k * 10000, 1, 2, 3, 4, 5, 6, k % 65536, 0, 0, 1.78e12 + k * 10000], n * R.ROW_FIELDS); n++; if (n === 50000) { store.writeBatch(pre, n); n = 0; } } if (n) store.writeBatch(pre, n); }
const started = performance.now();
for (let done = 0; done < total; done += B) {
  const list: number[][] = [];
  for (let i = 0; i < B; i++) { const dev = (done + i) % D; if (dev === 0) { t += 1000; seq++; } list.push([dev + 1, t + (seq % 1000), 2350.5, 300 + (i % 50), 25.4, 60.2, 85, -75, seq % 65536, 0, 0, t + 100]); }
  if (sorted === '1') list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  list.forEach((r, i) => rows.set(r, i * R.ROW_FIELDS));
  store.writeBatch(rows, B);
}
const s = (performance.now() - started) / 1000;
console.log(JSON.stringify({ batch: B, sorted, devices: D, us_per_row: +(s * 1e6 / total).toFixed(1) }));
