// STO-2 alarms: the records the alarm engine keeps (ALM-2) and the queries of ALM-7.
import type { AlarmIsaState, AlarmRecord } from '../contract/alarm.ts';
import type { Db } from './db.ts';

export type { AlarmRecord };

export interface NewAlarm {
  sn: string | null;
  source: string;
  type: string;
  /** ALM-9/ALM-10; default: no level, priority low. */
  level?: number | null;
  priority?: string;
  value: number | null;
  threshold: number | null;
  detail: string | null;
  at: number;
}

export interface AlarmFilter {
  sn?: string;
  type?: string;
  state?: 'active' | 'cleared';
  acknowledged?: boolean;
  /** triggered_at range, UTC ms, [from, to). */
  from?: number;
  to?: number;
  /**
   * UI-3 free text: a part of the device's name, location or serial, the source, the type code or
   * the detail (case-insensitive for Latin letters); `textTypes`: the types whose label matched it.
   */
  text?: string;
  textTypes?: string[];
  /** ALM-11: the records in this ISA-18.2 state (isaStateOf). */
  isaState?: AlarmIsaState;
  /** ALM-11: only the records on the alarm lists (all but ISA normal). */
  listed?: boolean;
  limit?: number;
  offset?: number;
}

/** An alarm record with its device's name and location (null: a system alarm or a deleted device). */
export type AlarmWithDevice = AlarmRecord & { device_name: string | null; device_location: string | null };

/** The records with their devices: `a` the alarm, `d` the device (UI-3: names and locations, not serials only). */
const WITH_DEVICE = 'alarms a LEFT JOIN devices d ON d.sn = a.sn';

/** ALM-11: isaStateOf (contract/alarm.ts) as SQL over `a`. */
const RETURNED = 'a.state = \'cleared\' AND a.ack_at IS NULL AND a.latched = 1';
const ISA_STATE_SQL: Record<AlarmIsaState, string> = {
  active_unacknowledged: "a.state = 'active' AND a.ack_at IS NULL",
  active_acknowledged: "a.state = 'active' AND a.ack_at IS NOT NULL",
  returned_unacknowledged: RETURNED,
  normal: `a.state = 'cleared' AND NOT (${RETURNED})`,
};

/** `%` and `_` in the text are meant literally. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function whereOf(filter: AlarmFilter): { clause: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.sn !== undefined) (where.push('a.sn = @sn'), (params.sn = filter.sn));
  if (filter.type !== undefined) (where.push('a.type = @type'), (params.type = filter.type));
  if (filter.state !== undefined) (where.push('a.state = @state'), (params.state = filter.state));
  if (filter.acknowledged !== undefined) where.push(filter.acknowledged ? 'a.ack_at IS NOT NULL' : 'a.ack_at IS NULL');
  if (filter.from !== undefined) (where.push('a.triggered_at >= @from'), (params.from = filter.from));
  if (filter.to !== undefined) (where.push('a.triggered_at < @to'), (params.to = filter.to));
  if (filter.isaState !== undefined) where.push(`(${ISA_STATE_SQL[filter.isaState]})`);
  if (filter.listed !== undefined) where.push(filter.listed ? `NOT (${ISA_STATE_SQL.normal})` : `(${ISA_STATE_SQL.normal})`);
  const text = filter.text?.trim();
  if (text) {
    params.text = likePattern(text);
    const fields = ['d.name', 'd.location', 'a.sn', 'a.source', 'a.type', 'a.detail'].map((field) => `${field} LIKE @text ESCAPE '\\'`);
    (filter.textTypes ?? []).forEach((type, i) => {
      params[`textType${i}`] = type;
      fields.push(`a.type = @textType${i}`);
    });
    where.push(`(${fields.join(' OR ')})`);
  }
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** ALM-10: every list sorts by priority, then the latest transition; `of`: the table's alias, if any. */
const priorityOrder = (of = '') =>
  `CASE ${of}priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, ${of}updated_at DESC, ${of}id DESC`;
const PRIORITY_ORDER = priorityOrder();
/** ALM-11: what the kiosk and the overview list: active, or a latched gas alarm not yet acknowledged. */
const LISTED = "(state = 'active' OR (latched = 1 AND ack_at IS NULL))";

export interface JournalEntry {
  id: number;
  alarm_id: number;
  at: number;
  kind: string;
  level: number | null;
  value: number | null;
  actor: string | null;
  detail: string | null;
}

export interface NewJournalEntry {
  alarmId: number;
  at: number;
  kind: string;
  level?: number | null;
  value?: number | null;
  actor?: string | null;
  detail?: string | null;
}

function journalWriter(db: Db) {
  const insert = db.prepare<[Required<NewJournalEntry>]>(
    'INSERT INTO alarm_journal (alarm_id, at, kind, level, value, actor, detail) VALUES (@alarmId, @at, @kind, @level, @value, @actor, @detail)',
  );
  return (entry: NewJournalEntry) => insert.run({ level: null, value: null, actor: null, detail: null, ...entry });
}

export function createAlarmRepository(db: Db) {
  const byId = db.prepare<[number], AlarmRecord>('SELECT * FROM alarms WHERE id = ?');
  const active = db.prepare<[], AlarmRecord>("SELECT * FROM alarms WHERE state = 'active' ORDER BY id");
  const listed = db.prepare<[], AlarmRecord>(`SELECT * FROM alarms WHERE ${LISTED} ORDER BY ${PRIORITY_ORDER}`);
  const journalOf = db.prepare<[number], JournalEntry>('SELECT * FROM alarm_journal WHERE alarm_id = ? ORDER BY id');
  const journal = journalWriter(db);
  const acknowledge = db.prepare<[{ id: number; by: string; comment: string; at: number }], AlarmRecord>(
    'UPDATE alarms SET ack_at = @at, ack_by = @by, ack_comment = @comment, updated_at = @at WHERE id = @id AND ack_at IS NULL RETURNING *',
  );

  return {
    get: (id: number): AlarmRecord | undefined => byId.get(id),
    active: (): AlarmRecord[] => active.all(),
    /** ALM-11: active records and latched gas alarms not yet acknowledged, by priority. */
    listed: (): AlarmRecord[] => listed.all(),
    /** ALM-12: an episode's events, oldest first. */
    journal: (alarmId: number): JournalEntry[] => journalOf.all(alarmId),
    /** A journal entry written outside the writer thread (a notification's delivery result, ALM-12). */
    addJournal: (entry: NewJournalEntry): void => void journal(entry),
    /**
     * Acknowledges those not yet acknowledged, in one transaction; returns the records that changed.
     * The appliance acknowledges through its writer thread (alarms/lifecycle.ts); this is for the
     * command line, a process of its own (IMMEDIATE: it waits for the lock, never upgrades a read).
     */
    acknowledge(ids: number[], by: string, comment: string, at: number): AlarmRecord[] {
      return db.transaction(() =>
        ids.flatMap((id) => {
          const record = acknowledge.get({ id, by, comment, at });
          if (record) journal({ alarmId: id, at, kind: 'acknowledged', actor: by, detail: comment || null });
          return record ?? [];
        }),
      ).immediate();
    },
    /** ALM-7, UI-3: a page of the records matching, by priority (ALM-10), each with its device's name and location. */
    list(filter: AlarmFilter = {}): { total: number; items: AlarmWithDevice[] } {
      const { clause, params } = whereOf(filter);
      const total = (db.prepare(`SELECT count(*) AS n FROM ${WITH_DEVICE} ${clause}`).get(params) as { n: number }).n;
      const items = db
        .prepare(`SELECT a.*, d.name AS device_name, d.location AS device_location FROM ${WITH_DEVICE} ${clause} ORDER BY ${priorityOrder('a.')} LIMIT @limit OFFSET @offset`)
        .all({ ...params, limit: filter.limit ?? -1, offset: filter.offset ?? 0 }) as AlarmWithDevice[];
      return { total, items };
    },
    /** Every record matching, oldest first, without loading them all at once (CSV export). */
    iterate(filter: AlarmFilter = {}): IterableIterator<AlarmRecord> {
      const { clause, params } = whereOf({ ...filter, limit: undefined, offset: undefined });
      return db.prepare(`SELECT a.* FROM ${WITH_DEVICE} ${clause} ORDER BY a.triggered_at, a.id`).iterate(params) as IterableIterator<AlarmRecord>;
    },
  };
}
export type AlarmRepository = ReturnType<typeof createAlarmRepository>;

/**
 * The writes of the alarm lifecycle (ALM-2, ALM-3, ALM-8), on the writer thread's connection and
 * inside its transactions only. Every write returns the record as stored, so the events carry
 * what the database holds (an acknowledgement made by the CLI included).
 */
export function createAlarmWriteRepository(db: Db) {
  const insert = db.prepare<[Required<NewAlarm>], AlarmRecord>(`
    INSERT INTO alarms (sn, source, type, state, level, priority, value, threshold, peak, detail, triggered_at, updated_at)
    VALUES (@sn, @source, @type, 'active', @level, @priority, @value, @threshold, @value, @detail, @at, @at) RETURNING *`);
  const latestOf = db.prepare<[string, string], AlarmRecord>(
    'SELECT * FROM alarms WHERE source = ? AND type = ? ORDER BY triggered_at DESC, id DESC LIMIT 1',
  );
  const active = db.prepare<[], AlarmRecord>("SELECT * FROM alarms WHERE state = 'active' ORDER BY id");
  const journal = journalWriter(db);
  // The peak stays the worst of the whole record (its repeats included).
  // ALM-11: the record's acknowledgement is for the excursion before; the journal keeps it.
  const reopen = db.prepare<[{ id: number; value: number | null; peak: number | null; detail: string | null; level: number | null; priority: string; threshold: number | null; at: number }], AlarmRecord>(`
    UPDATE alarms SET state = 'active', cleared_at = NULL, repeat_count = repeat_count + 1, value = @value, peak = @peak,
      detail = coalesce(@detail, detail), level = @level, priority = @priority, threshold = coalesce(@threshold, threshold),
      latched = 0, ack_at = NULL, ack_by = NULL, ack_comment = NULL, updated_at = @at
    WHERE id = @id RETURNING *`);
  const level = db.prepare<[{ id: number; level: number | null; threshold: number | null; priority: string; at: number }], AlarmRecord>(
    'UPDATE alarms SET level = @level, threshold = coalesce(@threshold, threshold), priority = @priority, updated_at = @at WHERE id = @id RETURNING *',
  );
  const peak = db.prepare<[{ id: number; peak: number | null; at: number }], AlarmRecord>(
    'UPDATE alarms SET peak = @peak, updated_at = @at WHERE id = @id RETURNING *',
  );
  // ALM-11: a gas alarm latches: cleared, it stays listed until acknowledged.
  const clear = db.prepare<[{ id: number; at: number }], AlarmRecord>(
    "UPDATE alarms SET state = 'cleared', cleared_at = @at, latched = (type IN ('HIGH', 'LOW')), updated_at = @at WHERE id = @id RETURNING *",
  );
  const notified = db.prepare<[{ id: number; at: number }], AlarmRecord>(
    'UPDATE alarms SET notified_at = @at, updated_at = @at WHERE id = @id RETURNING *',
  );
  const acknowledge = db.prepare<[{ id: number; by: string; comment: string; at: number }], AlarmRecord>(
    'UPDATE alarms SET ack_at = @at, ack_by = @by, ack_comment = @comment, updated_at = @at WHERE id = @id AND ack_at IS NULL RETURNING *',
  );
  // ALM-6: the outbox rows of an alarm event, in the alarm's own transaction (ALM-8).
  const outbox = db.prepare<[{ alarmId: number; event: string; channel: string; at: number }]>(`
    INSERT INTO notification_outbox (alarm_id, event, channel, status, next_attempt_at, created_at, updated_at)
    VALUES (@alarmId, @event, @channel, 'pending', @at, @at, @at)`);

  const one = (record: AlarmRecord | undefined, what: string, id: number): AlarmRecord => {
    if (!record) throw new Error(`alarm ${id} vanished while being ${what}`);
    return record;
  };

  return {
    active: (): AlarmRecord[] => active.all(),
    /** The newest record of a source and type, whatever its state. */
    latest: (source: string, type: string): AlarmRecord | undefined => latestOf.get(source, type),
    insert: (alarm: NewAlarm): AlarmRecord => insert.get({ level: null, priority: 'low', ...alarm })!,
    /** ALM-3: the condition came back within the debounce window: the same record, one repeat more. */
    reopen: (id: number, change: { value: number | null; peak: number | null; detail: string | null; level: number | null; priority: string; threshold: number | null }, at: number): AlarmRecord =>
      one(reopen.get({ id, ...change, at }), 're-opened', id),
    /** ALM-9: the gas level went up or down; the threshold and priority follow it. */
    level: (id: number, change: { level: number | null; threshold: number | null; priority: string }, at: number): AlarmRecord =>
      one(level.get({ id, ...change, at }), 'changed in level', id),
    /** ALM-12: one event of an episode, in the same transaction as the change it records. */
    journal: (entry: NewJournalEntry): void => void journal(entry),
    peak: (id: number, value: number | null, at: number): AlarmRecord => one(peak.get({ id, peak: value, at }), 'updated', id),
    clear: (id: number, at: number): AlarmRecord => one(clear.get({ id, at }), 'cleared', id),
    markNotified: (id: number, at: number): AlarmRecord => one(notified.get({ id, at }), 'notified', id),
    /** undefined when the record is unknown or already acknowledged. */
    acknowledge: (id: number, by: string, comment: string, at: number): AlarmRecord | undefined => acknowledge.get({ id, by, comment, at }),
    enqueueNotifications(alarmId: number, event: string, channels: readonly string[], at: number): void {
      for (const channel of channels) outbox.run({ alarmId, event, channel, at });
    },
  };
}
export type AlarmWriteRepository = ReturnType<typeof createAlarmWriteRepository>;
