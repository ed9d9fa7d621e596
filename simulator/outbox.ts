// The readings a detector has taken but the broker has not acknowledged (SIM-1, SIM-2 offline).
// While the connection is down they wait here, oldest first, up to a limit beyond which the oldest
// are dropped (a detector's RAM is finite); on reconnect they go out first, in one burst, with
// their original ts and seq. A reading in flight when the link closes may or may not have reached
// the broker, so it goes back to the front of the queue and is sent again: ING-4 makes the server
// store such duplicates once. Only a PUBACK (QoS 1) or the write (QoS 0) on the link still in use
// counts a reading as acknowledged. The queue is RAM: a reboot empties it.
import type { Link } from './link.ts';

export interface OutboxOptions {
  /** The link publishes go to now; null while disconnected. */
  currentLink(): Link | null;
  /** QoS of readings (DEV-1 allows 0 or 1). */
  qos: 0 | 1;
  /** Readings kept while offline; the oldest are dropped beyond this. */
  limit: number;
  log(line: string): void;
}

export interface OutboxCounts {
  /** Publishes started (a resend counts again). */
  sent: number;
  acked: number;
  /** Readings dropped because more than `limit` were waiting. */
  dropped: number;
}

export interface Outbox {
  /** Readings waiting for a connection. */
  readonly buffered: number;
  counts(): OutboxCounts;
  /** Whether a new reading goes out at once: connected and nothing older waiting before it. */
  sendsDirectly(): boolean;
  /** Publishes a reading now (kept for later if there is no link). */
  send(payload: string | Buffer): void;
  /** Keeps a reading for the next connection. */
  keep(payload: string | Buffer): void;
  /** On CONNACK: everything waiting goes out, oldest first. */
  resendBacklog(): void;
  /** The link closed on its own: what was in flight waits again, ahead of the rest. */
  requeueInflight(): void;
  /** A clean goodbye: what was in flight is no longer watched. */
  forgetInflight(): void;
  /** A reboot: RAM, and the readings in it, are gone. */
  discard(): void;
}

/** One reading on its way; an object, so two equal payloads are still two readings. */
interface Item {
  payload: string | Buffer;
}

export function createOutbox(o: OutboxOptions): Outbox {
  const waiting: Item[] = [];
  const inflight = new Set<Item>();
  const counts: OutboxCounts = { sent: 0, acked: 0, dropped: 0 };

  function keep(item: Item) {
    waiting.push(item);
    dropBeyondLimit();
  }

  function dropBeyondLimit() {
    const excess = waiting.length - o.limit;
    if (excess > 0) {
      waiting.splice(0, excess);
      counts.dropped += excess;
    }
  }

  function send(item: Item) {
    const l = o.currentLink();
    if (!l) return keep(item);
    inflight.add(item);
    counts.sent++;
    l.publishUp(item.payload, o.qos).then((outcome) => {
      // A failure means the link closed: requeueInflight already moved the item back.
      if (outcome === 'failed' || o.currentLink() !== l) return;
      inflight.delete(item);
      counts.acked++;
    });
  }

  return {
    get buffered() {
      return waiting.length;
    },
    counts: () => ({ ...counts }),
    sendsDirectly() {
      const l = o.currentLink();
      return l !== null && l.connected && waiting.length === 0;
    },
    send: (payload) => send({ payload }),
    keep: (payload) => keep({ payload }),
    resendBacklog() {
      const backlog = waiting.splice(0);
      if (backlog.length > 1) o.log(`resending ${backlog.length} buffered readings`);
      backlog.forEach(send);
    },
    requeueInflight() {
      waiting.unshift(...inflight);
      inflight.clear();
      dropBeyondLimit();
    },
    forgetInflight() {
      inflight.clear();
    },
    discard() {
      waiting.length = 0;
    },
  };
}
