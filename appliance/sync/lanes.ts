// Issue 17 (SYNC-1/2): a lane's bookkeeping. Frames leave in order and may be acknowledged out of
// order (a window of them in flight); the lane's cursor moves only over frames acknowledged with
// none unacknowledged before them, so a restart resends exactly the unacknowledged tail.
import type { UplinkLane } from '../contract/uplink.ts';

export interface Lane {
  name: UplinkLane | 'resend';
  /** Acknowledged through (contiguously) and handed out through. */
  acked: number;
  sent: number;
  /** Frames in flight in hand-out order. */
  flying: FrameInFlight[];
}

export interface FrameInFlight {
  through: number;
  done: boolean;
}

export const createLane = (name: Lane['name'], at: number): Lane => ({ name, acked: at, sent: at, flying: [] });

/** A frame reaching `through` goes out: it is in flight until acknowledged. */
export function handOut(lane: Lane, through: number): FrameInFlight {
  const entry = { through, done: false };
  lane.flying.push(entry);
  lane.sent = through;
  return entry;
}

/** The cursor moves over the frames acknowledged without a gap before them. */
export function acknowledged(lane: Lane, entry: FrameInFlight) {
  entry.done = true;
  while (lane.flying.length && lane.flying[0].done) lane.acked = Math.max(lane.acked, lane.flying.shift()!.through);
}

/** A stretch with nothing to send (empty batches, minutes without readings): passed in order, as if acknowledged. */
export function pass(lane: Lane, through: number) {
  acknowledged(lane, handOut(lane, through));
}

/** After a failure: everything in flight is sent again from the cursor. */
export function rewind(lane: Lane) {
  lane.sent = lane.acked;
  lane.flying = [];
}
