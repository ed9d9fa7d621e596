// The writer's work other than readings: each a message to the writer thread, run on its one
// connection between group commits, so it never fights a commit for SQLite's write lock (ARC-2).
// Acknowledgements, silences and masks change alarms (ALM-2, ALM-7, ALM-12, issue 15.1): the alarm
// events of what changed go to the main thread's picture once committed (ALM-8), as a batch's do.
// Roll-ups, deletions and maintenance are the jobs' steps (STO-3, STO-4, OPS-2), each kept short.
import type { AlarmEvent, AlarmRecord } from '../contract/alarm.ts';
import type { OpenMask } from '../contract/masking.ts';
import type { RollupResult } from './reading-store.ts';
import type { WriterChannel } from './writer-channel.ts';

export function createWriterRequests(channel: WriterChannel, onAlarms: (events: AlarmEvent[]) => void) {
  return {
    /** ALM-2/ALM-7: acknowledges in one transaction on the writer's connection; the events of what changed. */
    async acknowledge(ids: number[], by: string, comment: string, at: number): Promise<AlarmRecord[]> {
      const reply = await channel.request({ type: 'ack', ids, by, comment, at });
      if (reply.type !== 'alarms') throw new Error('unexpected writer reply');
      if (reply.alarms.length) onAlarms(reply.alarms);
      return reply.alarms.map((event) => event.alarm);
    },
    /** GB 16808 消音: journals that `by` (a kiosk) silenced these alarms' sound (ALM-12); how many. */
    async silence(ids: number[], by: string, at: number): Promise<number> {
      const reply = await channel.request({ type: 'silence', ids, by, at });
      if (reply.type !== 'silenced') throw new Error('unexpected writer reply');
      return reply.count;
    },
    /** Issue 15.1: masks the detectors until `until`, in one transaction on the writer; the masks made. */
    async mask(sns: string[], reason: string, by: string, at: number, until: number): Promise<OpenMask[]> {
      const reply = await channel.request({ type: 'mask', sns, reason, by, at, until });
      if (reply.type !== 'masks') throw new Error('unexpected writer reply');
      if (reply.alarms.length) onAlarms(reply.alarms);
      return reply.masks;
    },
    /** Issue 15.1: ends these detectors' masks (null: those expired at `at`), queuing what they held back; the masks ended. */
    async unmask(sns: string[] | null, by: string, at: number): Promise<OpenMask[]> {
      const reply = await channel.request({ type: 'unmask', sns, by, at });
      if (reply.type !== 'masks') throw new Error('unexpected writer reply');
      if (reply.alarms.length) onAlarms(reply.alarms);
      return reply.masks;
    },
    /** STO-3 roll-ups until caught up, one bounded step at a time so commits interleave. */
    async rollup(now: number): Promise<RollupResult> {
      for (;;) {
        const reply = await channel.request({ type: 'rollup', now });
        if (reply.type !== 'rollup') throw new Error('unexpected writer reply');
        if (reply.result.caughtUp || !channel.running()) return reply.result;
      }
    },
    /**
     * ARC-2 / STO-4: raw rows leave through the writer thread, between group commits, so a deletion
     * never fights the writer for the lock; one device's range per message keeps each step short.
     */
    async deleteRange(snId: number, from: number, to: number, receivedBefore: number): Promise<number> {
      const reply = await channel.request({ type: 'delete', snId, from, to, receivedBefore });
      if (reply.type !== 'delete') throw new Error('unexpected writer reply');
      return reply.deleted;
    },
    /** STO-3: one device's roll-up buckets older than `before` (roll-up retention). */
    async pruneRollup(table: 'readings_1m' | 'readings_1h', snId: number, before: number): Promise<number> {
      const reply = await channel.request({ type: 'pruneRollup', table, snId, before });
      if (reply.type !== 'delete') throw new Error('unexpected writer reply');
      return reply.deleted;
    },
    /** OPS-2: PRAGMA optimize and a TRUNCATE checkpoint on the writer's connection, between commits. */
    async maintenance(): Promise<unknown> {
      const reply = await channel.request({ type: 'maintenance' });
      if (reply.type !== 'maintenance') throw new Error('unexpected writer reply');
      return reply.result;
    },
  };
}
