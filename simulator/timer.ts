// One named one-shot timer of a detector (the next reading, the end of debug mode, the reconnect,
// the end of a reboot). Arming it again replaces what it was armed for, so a piece never has two
// of the same pending; disarming an idle or already fired timer does nothing. It runs on the
// detector's Clock, so a manual clock drives every timer in tests (ARCHITECTURE: "time-dependent
// logic takes a clock").
import type { Clock, TimerHandle } from './clock.ts';

export interface Timer {
  /** Runs `fn` once in `ms`, in place of whatever the timer was armed for. */
  arm(fn: () => void, ms: number): void;
  disarm(): void;
}

export function createTimer(clock: Clock): Timer {
  let handle: TimerHandle | undefined;
  return {
    arm(fn, ms) {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(() => {
        handle = undefined;
        fn();
      }, ms);
    },
    disarm() {
      clock.clearTimeout(handle);
      handle = undefined;
    },
  };
}
