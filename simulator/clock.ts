// Time for the simulator. Detectors read the time and arm their timers only through a Clock, so
// tests can drive them with a manual clock instead of sleeping (ARCHITECTURE: "time-dependent
// logic takes a clock").

import type { Clock as Now } from '../appliance/contract/clock.ts';

export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

/** The appliance's clock (contract/clock.ts) with timers, which the detectors arm. */
export interface Clock extends Now {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** A clock whose time only moves when `advance` is called; due timers fire in time order. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  /** Timers still armed (for assertions). */
  pending(): number;
}

export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();

  function dueTimer(limit: number): [number, { at: number; fn: () => void }] | undefined {
    let best: [number, { at: number; fn: () => void }] | undefined;
    for (const entry of timers) {
      if (entry[1].at > limit) continue;
      // Equal due times fire in the order they were armed (ids grow).
      if (!best || entry[1].at < best[1].at) best = entry;
    }
    return best;
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return { id };
    },
    clearTimeout(handle) {
      if (handle && typeof handle === 'object' && 'id' in handle) timers.delete(handle.id);
    },
    advance(ms) {
      const target = now + ms;
      for (let due = dueTimer(target); due; due = dueTimer(target)) {
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
      }
      now = target;
    },
    pending: () => timers.size,
  };
}

export const unixSeconds = (ms: number) => Math.floor(ms / 1000);
