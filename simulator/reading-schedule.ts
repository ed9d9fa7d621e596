// When a detector takes its readings (SIM-1, DEV-3 debug): the first one a phase after (re)boot,
// then one every interval. The next reading is planned from the time the last one was planned
// for, not from when it fired, so a fleet's readings do not drift; after a stall (a blocked event
// loop) the schedule skips ahead rather than firing a catch-up burst no real detector would send.
// DEV-3 `debug` switches to 1 s readings for its duration; the reading already planned when it
// ends still happens and the one after it comes a normal interval later. Debug mode lives in RAM:
// a reboot forgets it.
import type { Clock } from './clock.ts';
import { createTimer } from './timer.ts';

/** DEV-3: debug mode reports every second. */
export const DEBUG_INTERVAL_MS = 1000;

export interface ReadingScheduleOptions {
  clock: Clock;
  /** The normal reporting interval, ms. */
  intervalMs: number;
  /** Called each time a reading is due. */
  takeReading(): void;
  log(line: string): void;
}

export interface ReadingSchedule {
  /** The interval in force now: the normal one, or 1 s in debug mode. */
  readonly intervalMs: number;
  /** The first reading in `firstInMs`, then one every interval. */
  start(firstInMs: number): void;
  /** DEV-3 debug: 1 s readings for `durationS` seconds (already clamped), then the normal interval. */
  debug(durationS: number): void;
  /** No more readings; the interval in force is kept (stats still show it). */
  stop(): void;
  /** Back to the normal interval without a word (a reboot: debug mode was in RAM). */
  forgetDebug(): void;
}

export function createReadingSchedule(o: ReadingScheduleOptions): ReadingSchedule {
  const { clock } = o;
  const readingTimer = createTimer(clock);
  const debugTimer = createTimer(clock);
  let intervalMs = o.intervalMs;
  let nextReadingAt = 0;

  function start(firstInMs: number) {
    nextReadingAt = clock.now() + firstInMs;
    readingTimer.arm(onReadingDue, firstInMs);
  }

  function onReadingDue() {
    o.takeReading();
    nextReadingAt = Math.max(nextReadingAt + intervalMs, clock.now());
    readingTimer.arm(onReadingDue, nextReadingAt - clock.now());
  }

  function endDebug() {
    intervalMs = o.intervalMs;
    o.log('debug over');
  }

  return {
    get intervalMs() {
      return intervalMs;
    },
    start,
    debug(durationS) {
      intervalMs = DEBUG_INTERVAL_MS;
      start(DEBUG_INTERVAL_MS);
      debugTimer.arm(endDebug, durationS * 1000);
    },
    stop() {
      readingTimer.disarm();
      debugTimer.disarm();
    },
    forgetDebug() {
      intervalMs = o.intervalMs;
    },
  };
}
