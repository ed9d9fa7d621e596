// Time-dependent logic takes a clock so tests drive time instead of sleeping (ARCHITECTURE). The
// appliance and the simulator share this one notion of "now", so a flow test can drive both with
// one manual clock (the simulator's clock adds timers: simulator/clock.ts).
export interface Clock {
  /** UTC milliseconds since the Unix epoch. */
  now(): number;
}
