// Issue 16.8 / STO-4 on a real small file system: a 20 MB tmpfs (mounting needs root; CI runs as
// root, elsewhere the test says why it is skipped). Measured before the fix: at 3,000 readings/s the
// WAL alone filled it within 10 s, checkpoints then failed and the box could not free space.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { manualClock } from '../../appliance/core/clock.ts';
import { upTopic } from '../../appliance/contract/topics.ts';
import { dbFileIn } from '../../appliance/storage/db.ts';
import { diskBudgetFor } from '../../appliance/storage/disk-budget.ts';
import { connectDevice, eventually, startApp, type RunningApp } from '../helpers/appliance.ts';
import { mountSmallDisk } from './small-disk-support.ts';

const MB = 1024 * 1024;
const DISK_MB = 20;

/**
 * Detectors as the firmware behaves: QoS 1, a window of readings in flight, and what was not
 * acknowledged (the appliance closed the connection) sent again after reconnecting.
 */
function fleet(app: RunningApp, devices: { sn: string; password: string }[], ratePerS: number, tsBaseS: number) {
  const windowPerDevice = 40;
  const acked = new Set<string>();
  let stopped = false;
  let reconnects = 0;
  const state = devices.map(({ sn, password }) => ({
    sn, password, client: null as MqttClient | null, next: 0, inflight: new Set<number>(), resend: [] as number[], connecting: false,
  }));
  const payload = (s: number) => JSON.stringify({ ts: tsBaseS + Math.floor(s / 1000), seq: s % 65_536, v_raw: 100 + (s % 50), temp: 25, bat: 90, rssi: -70, err: 0 });

  function send(device: (typeof state)[number], s: number) {
    device.inflight.add(s);
    device.client!.publish(upTopic(device.sn), payload(s), { qos: 1 }, (err) => {
      device.inflight.delete(s);
      if (err) device.resend.push(s);
      else acked.add(`${device.sn}/${s}`);
    });
  }

  async function connect(device: (typeof state)[number]) {
    device.connecting = true;
    while (!stopped) {
      try {
        const client = await connectDevice(app.url, device.sn, device.password);
        client.on('close', () => {
          client.end(true); // fails the callbacks of what was in flight: sent again after reconnecting
          if (device.client === client) device.client = null;
          if (!stopped) {
            reconnects++;
            setTimeout(() => void connect(device), 50);
          }
        });
        device.client = client;
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    device.connecting = false;
  }

  const started = Date.now();
  let due = 0;
  const timer = setInterval(() => {
    const target = Math.floor(((Date.now() - started) / 1000) * ratePerS);
    let quota = target - due;
    due = target;
    for (const device of state) {
      if (!device.client?.connected) continue;
      while (device.resend.length && device.inflight.size < windowPerDevice) send(device, device.resend.shift()!);
    }
    for (let turn = 0; quota > 0 && turn < windowPerDevice; turn++) {
      for (const device of state) {
        if (quota <= 0) break;
        if (!device.client?.connected || device.inflight.size >= windowPerDevice || device.resend.length) continue;
        send(device, device.next++);
        quota--;
      }
    }
  }, 10);

  return {
    acked,
    reconnects: () => reconnects,
    sent: () => state.reduce((n, d) => n + d.next, 0),
    start: () => Promise.all(state.map(connect)),
    /** Stops sending new readings; resolves when every reading sent was acknowledged (resent as needed). */
    async drain(timeoutMs: number) {
      clearInterval(timer);
      const resendTimer = setInterval(() => {
        for (const device of state) {
          while (device.client?.connected && device.resend.length && device.inflight.size < windowPerDevice) send(device, device.resend.shift()!);
        }
      }, 10);
      try {
        await eventually(() => acked.size === state.reduce((n, d) => n + d.next, 0), timeoutMs, 'every reading acknowledged');
      } finally {
        clearInterval(resendTimer);
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(state.map((d) => d.client?.endAsync()));
    },
  };
}

describe('a small disk (issue 16.8, STO-4) on a real 20 MB file system', () => {
  test('filled at 3,000 readings/s: the WAL stays bounded, nothing acknowledged is lost, a DISK alarm, the guard frees space and ingest resumes by itself', async (t) => {
    const disk = mountSmallDisk(DISK_MB);
    if ('skip' in disk) return void t.skip(disk.skip);
    const dataDir = join(disk.dir, 'data');
    mkdirSync(dataDir);
    const dbFile = dbFileIn(dataDir);
    const budget = diskBudgetFor(dataDir, 0);
    assert.equal(budget.walLimitBytes, 1 * MB, 'automatic WAL limit on 20 MB: the 1 MB floor');
    // The clock stands still unless the test moves it: what the guard may prune is decided by it.
    const t0 = Date.now();
    const clock = manualClock(t0);
    const app = await startApp(
      { storage: { disk_low_free_mb: 2, disk_critical_free_mb: 1 } },
      {
        dataDir, clock, devLicenseDevices: 100,
        // The full-disk phase on purpose: refused commits, and the guard saying what it deleted.
        allowErrors: [/^group commit failed; readings not acknowledged$/, /^disk critical: deleted \d+ unarchived readings/, /^job failed$/],
      },
    );
    // What the disk looks like every 20 ms: the WAL's size and the file system's free space.
    let walMax = 0;
    /** The WAL's largest size in each phase, and what the writer was doing then: where it grew, if it grows too far. */
    let phase = 'start';
    const walByPhase: Record<string, number> = {};
    let fsFreeMin = Infinity;
    let fullest = '';
    const sizeIn = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0; // gone between the listing and the stat
      }
    };
    const diskWatch = setInterval(() => {
      const fs = statfsSync(disk.dir);
      const free = fs.bavail * fs.bsize;
      // What the disk held when it was fullest: the evidence when the file system fills (issue 16.8).
      if (free < fsFreeMin) fullest = readdirSync(dataDir).map((name) => `${name} ${sizeIn(join(dataDir, name))}`).join(', ');
      fsFreeMin = Math.min(fsFreeMin, free);
      try {
        const wal = statSync(`${dbFile}-wal`).size;
        walMax = Math.max(walMax, wal);
        walByPhase[phase] = Math.max(walByPhase[phase] ?? 0, wal);
      } catch {
        // none between a TRUNCATE and the next commit
      }
    }, 20);
    let load: ReturnType<typeof fleet> | null = null;
    try {
      // `parts`: the prefill enqueues raw rows on the writer itself, and the disk guard's own figures are
      // what this test is about (both internals); the rest goes through the test API.
      const { writer, diskGuard, deviceCache } = app.app.parts;
      const { testApi } = app.app;
      const devices = [];
      for (let i = 1; i <= 20; i++) {
        const sn = `SMALL-${String(i).padStart(2, '0')}`;
        const { password } = await testApi.addDevice({ sn, high_limit: 1000 });
        devices.push({ sn, password: password! });
      }

      // Readings already on the disk, from the last minute (the guard may not prune them yet),
      // written by the writer until the disk is just above the low-water mark. The writer takes
      // them in batches of commit_max_rows and refuses a batch while the WAL is past its room in
      // the reserve and cannot be truncated yet (the checkpointer in the way): those are sent
      // again, as a detector would.
      const snIds = devices.map((d) => deviceCache.get(d.sn)!.sn_id);
      let written = 0;
      let prefillResent = 0;
      const prefillRow = (i: number, refused: number[]) => {
        const ts = t0 - 50_000 + Math.floor(i / snIds.length);
        writer.enqueue((buffer, o) => {
          buffer.set([snIds[i % snIds.length], ts, 100, 500, 25, NaN, 90, -70, i % 65_536, 0, 0, ts, 1000, NaN, NaN], o);
        }, (err) => {
          if (err) refused.push(i);
        });
      };
      for (let free = await diskGuard.freeBytes(); free > 2.25 * MB; free = await diskGuard.freeBytes()) {
        // One batch (commit_max_rows) and a checkpoint at a time: the prefill is data already on
        // the disk, not a load; the load is the detectors' below. (As 40,000 readings at once, the
        // prefill's WAL peaked at the writer's bound plus a batch, and once at 3.15 MB, past the reserve.)
        const rows = Math.max(2000, Math.min(4000, Math.floor((free - 2.2 * MB) / 45)));
        const refused: number[] = [];
        for (let n = 0; n < rows; n++, written++) prefillRow(written, refused);
        await writer.flush();
        for (let round = 0; refused.length && round < 100; round++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const again = refused.splice(0);
          prefillResent += again.length;
          for (const i of again) prefillRow(i, refused);
          await writer.flush();
        }
        assert.deepEqual(refused.length, 0, 'every prefill reading stored in the end');
        await writer.checkpoint();
      }
      const prefillWalMax = walMax;
      phase = 'fill';

      // Detectors' clocks a little ahead of the appliance's (within the skew limit): their readings
      // stay the newest whatever the test does with the clock.
      const tsBaseS = Math.floor(t0 / 1000) + 40;
      const detectors = fleet(app, devices, 3000, tsBaseS);
      load = detectors;
      await detectors.start();
      // The disk fills: the free-space watch raises the DISK alarm, the guard finds nothing old
      // enough to prune, the database reaches its budget and commits fail (SQLITE_FULL), unacknowledged.
      await eventually(() => writer.stats.failedRows > prefillResent, 90_000, 'a commit refused on the full disk');
      await eventually(() => diskGuard.stats.pressureChecks > 0 && diskGuard.stats.lastState === 'critical', 10_000, 'the guard run on pressure');
      const ackedWhenFull = detectors.acked.size;
      phase = 'full';
      assert.equal(diskGuard.stats.prunedRows, 0, 'nothing older than the newest minute yet');

      // A minute and a half passes: the readings written before are no longer the newest minute.
      // Nothing but the detectors' resends (failed commits) and the watch wake the guard.
      clock.advance(90_000);
      phase = 'prune';
      await eventually(() => diskGuard.stats.prunedRows > 0, 20_000, 'the guard pruning the oldest readings');
      await eventually(() => detectors.acked.size > ackedWhenFull + 3000, 60_000, 'ingest resumed by itself');
      phase = 'drain';
      await detectors.drain(60_000);
      const sent = detectors.sent();
      await detectors.stop();
      await writer.flush();

      // The DISK alarm (low free space) and the one saying what the guard deleted.
      const diskAlarms = testApi.alarmRecords({ type: 'DISK' }).items.map((a) => a.source);
      assert.ok(diskAlarms.includes('disk'), `a DISK alarm was raised (${diskAlarms.join(', ')})`);
      assert.ok(diskAlarms.includes('disk:pruned'), 'the pruning is said in an alarm');
      assert.ok(testApi.ingestTotals().dropped.store_failed > 0, 'the refused readings were counted');
      // Bounded within its room in the reserve: the checkpointer truncates it past its limit, the
      // writer past 1.5 times, and past twice the limit the writer refuses data until it could (a
      // deletion or a batch may write a little more before it is looked at again; the reserve's 1 MB).
      assert.ok(walMax < budget.reserveBytes, `the WAL stayed within the reserve (${walMax} bytes at most; by phase ${JSON.stringify(walByPhase)})`);
      assert.ok(fsFreeMin > 0, `the file system never filled to its last byte (${fsFreeMin} bytes free at least; then: ${fullest})`);
      assert.deepEqual(app.logs.filter((l) => /checkpoint failed/.test(l.msg)).map((l) => l.msg), [], 'every checkpoint could be done');
      t.diagnostic(
        `prefill ${written} (resent ${prefillResent}, WAL max ${prefillWalMax}), sent ${sent}, acked ${detectors.acked.size}, reconnects ${detectors.reconnects()}, failed rows ${writer.stats.failedRows}, ` +
          `pruned ${diskGuard.stats.prunedRows}, pressure checks ${diskGuard.stats.pressureChecks}, WAL max ${walMax} ${JSON.stringify(walByPhase)}, file system free min ${fsFreeMin}`,
      );

      await app.stop();
      // Every acknowledged reading is in the database, and the database is sound.
      const db = new Database(dbFile, { readonly: true });
      try {
        // A detector's reading s has the key ts·1000 + seq mod 1000 = tsBase·1000 + s (ING-4).
        const rows = db.prepare('SELECT s.sn, r.ts, r.seq FROM readings r JOIN serials s ON s.id = r.sn_id WHERE r.ts >= ?').all(tsBaseS * 1000) as { sn: string; ts: number; seq: number }[];
        const stored = new Set(rows.filter((r) => r.seq === (r.ts - tsBaseS * 1000) % 65_536).map((r) => `${r.sn}/${r.ts - tsBaseS * 1000}`));
        const lost = [...detectors.acked].filter((key) => !stored.has(key));
        assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged readings missing`);
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        db.close();
      }
    } finally {
      await load?.stop();
      clearInterval(diskWatch);
      await app.stop();
      disk.unmount();
    }
  });
});
