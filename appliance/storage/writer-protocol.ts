// The messages between the main thread and the storage threads: the writer thread
// (writer-worker.ts, driven by group-commit.ts) and the checkpointer thread (checkpoint-worker.ts,
// driven by checkpointer.ts). One definition both sides of each thread boundary import.
import type { AlarmCommitSettings, AlarmEvent } from '../contract/alarm.ts';
import type { OpenMask } from '../contract/masking.ts';
import type { RollupResult, WriterUpdate } from './reading-store.ts';

export interface WriterThreadOptions {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  cacheMb: number;
  /** Test hook: caps the database size so the "disk full" path can be exercised for real. */
  maxPageCount?: number;
  /** STO-4 (storage/disk-budget.ts): the WAL's size limit, and the free space the database never takes. */
  walLimitBytes?: number;
  reserveBytes?: number;
  /** The alarm settings at start (reconciliation); later changes ride along with a batch. */
  alarmSettings: AlarmCommitSettings;
  /** Test hook: the evaluation of this device's readings throws `times` times (ALM-8 failure path). */
  failEvaluation?: { sn: string; times: number };
}

/** The checkpointer thread (checkpoint-worker.ts): its start options and messages. */
export interface CheckpointerOptions {
  file: string;
  /** PASSIVE checkpoints this often. */
  intervalMs: number;
  synchronous: 'NORMAL' | 'FULL';
  /** Past this size the WAL is truncated (storage/disk-budget.ts). */
  walLimitBytes: number;
  /** How often the WAL's size is looked at. */
  walCheckMs: number;
}
export type CheckpointMode = 'PASSIVE' | 'RESTART' | 'TRUNCATE';
/** PRAGMA wal_checkpoint's answer: busy (1: could not finish), WAL frames, frames copied back. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}
export type CheckpointerRequest = { type: 'checkpoint'; id: number } | { type: 'close' };
export type CheckpointerMessage =
  | { type: 'ready' }
  | { type: 'checkpointed'; id: number; result: CheckpointResult }
  | { type: 'error'; id?: number; mode: CheckpointMode; message: string; code: string }
  | { type: 'closed' };

export interface RefusedReading {
  sn: string;
  reason: string;
  /** Refused too often: stored with a FAULT alarm saying its rules could not be applied. */
  storedAnyway: boolean;
}

export type WriterRequest =
  | { type: 'batch'; id: number; rows: ArrayBuffer; count: number; updates: WriterUpdate[]; alarmSettings?: AlarmCommitSettings }
  | { type: 'ack'; id: number; ids: number[]; by: string; comment: string; at: number }
  | { type: 'silence'; id: number; ids: number[]; by: string; at: number }
  /** Issue 15.1: masks begin / end on the writer, where the alarm decisions that follow them are made. */
  | { type: 'mask'; id: number; sns: string[]; reason: string; by: string; at: number; until: number }
  | { type: 'unmask'; id: number; sns: string[] | null; by: string; at: number }
  | { type: 'rollup'; id: number; now: number }
  | { type: 'delete'; id: number; snId: number; from: number; to: number; receivedBefore: number }
  | { type: 'pruneRollup'; id: number; table: 'readings_1m' | 'readings_1h'; snId: number; before: number }
  | { type: 'maintenance'; id: number }
  | { type: 'close'; id: number };

export type WriterResponse =
  | { type: 'ready'; id: 0; alarms: AlarmEvent[]; failures: string[] }
  | { type: 'batch'; id: number; inserted: Uint8Array; alarms: AlarmEvent[]; refused: RefusedReading[]; ms: number }
  | { type: 'alarms'; id: number; alarms: AlarmEvent[] }
  | { type: 'silenced'; id: number; count: number }
  | { type: 'masks'; id: number; masks: OpenMask[]; alarms: AlarmEvent[] }
  | { type: 'rollup'; id: number; result: RollupResult }
  | { type: 'delete'; id: number; deleted: number }
  | { type: 'maintenance'; id: number; result: unknown }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string; code: string }
  /** Not an answer: something the main thread should say (the WAL could not be truncated). */
  | { type: 'warning'; id: -1; message: string };
