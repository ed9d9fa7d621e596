// A detector's named one-shot timer: re-arming replaces, disarming an idle or fired one is harmless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../../simulator/clock.ts';
import { createTimer } from '../../simulator/timer.ts';

test('arming again replaces the pending run; it fires once; disarm after firing or twice does nothing', () => {
  const clock = createManualClock();
  const timer = createTimer(clock);
  const fired: string[] = [];
  timer.arm(() => fired.push('first'), 1000);
  timer.arm(() => fired.push('second'), 2000);
  assert.equal(clock.pending(), 1);
  clock.advance(5000);
  assert.deepEqual(fired, ['second']);
  timer.disarm();
  timer.disarm();
  timer.arm(() => fired.push('third'), 1000);
  timer.disarm();
  clock.advance(5000);
  assert.deepEqual(fired, ['second']);
  assert.equal(clock.pending(), 0);
});
