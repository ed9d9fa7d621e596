// ARC-1/ARC-2: the stall watchdog on its own, in real (short) time as it runs: no pulse for the limit
// fails and aborts; pulses keep it quiet; stop() ends it. test/archive/stall.test.ts covers it
// stopping a real archive run.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { ArchiveFailure } from '../../appliance/archive/archive-failure.ts';
import { createStallWatchdog } from '../../appliance/archive/stall-watchdog.ts';

describe('the stall watchdog (ARC-1, ARC-2)', () => {
  test('no pulse for the limit: `stalled` rejects with an ArchiveFailure in the caller\'s words and the signal aborts with it', async () => {
    const idles: number[] = [];
    const started = performance.now();
    const watchdog = createStallWatchdog(150, (idle) => {
      idles.push(idle);
      return `no progress for ${Math.round(idle)} ms`;
    });
    const err = await watchdog.stalled.catch((e: unknown) => e);
    const tookMs = performance.now() - started;
    assert.ok(err instanceof ArchiveFailure);
    assert.match(err.message, /^no progress for \d+ ms$/);
    assert.equal(idles.length, 1, 'it fails once');
    assert.ok(idles[0] >= 150, `idle ${idles[0]} ms is at least the limit`);
    assert.ok(tookMs >= 150, `not before the limit (${Math.round(tookMs)} ms)`);
    assert.equal(watchdog.signal.aborted, true);
    assert.equal(watchdog.signal.reason, err);
    await sleep(200);
    assert.equal(idles.length, 1, 'and stops watching');
  });

  test('pulses more often than the limit keep it quiet, and after stop() it never fails', async () => {
    let failed = false;
    const watchdog = createStallWatchdog(600, () => {
      failed = true;
      return 'stalled';
    });
    const pulses = setInterval(watchdog.pulse, 20);
    await sleep(1_500);
    clearInterval(pulses);
    assert.equal(failed, false, 'pulsed for 2.5 limits without failing');
    assert.equal(watchdog.signal.aborted, false);
    watchdog.stop();
    await sleep(900);
    assert.equal(failed, false, 'stopped: no pulse for 1.5 limits and still quiet');
    assert.equal(watchdog.signal.aborted, false);
  });
});
