// STO-2 alarms: the records the alarm engine keeps (ALM-2) and the queries of ALM-7.
import type { AlarmRecord } from '../contract/alarm.ts';
import type { Db } from './db.ts';

export type { AlarmRecord };

export interface NewAlarm {
  sn: string | null;
  source: string;
  type: string;
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
  limit?: number;
  offset?: number;
}

function whereOf(filter: AlarmFilter): { clause: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.sn !== undefined) (where.push('sn = @sn'), (params.sn = filter.sn));
  if (filter.type !== undefined) (where.push('type = @type'), (params.type = filter.type));
  if (filter.state !== undefined) (where.push('state = @state'), (params.state = filter.state));
  if (filter.acknowledged !== undefined) where.push(filter.acknowledged ? 'ack_at IS NOT NULL' : 'ack_at IS NULL');
  if (filter.from !== undefined) (where.push('triggered_at >= @from'), (params.from = filter.from));
  if (filter.to !== undefined) (where.push('triggered_at < @to'), (params.to = filter.to));
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

export function createAlarmRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO alarms (sn, source, type, state, value, threshold, peak, detail, triggered_at, updated_at)
    VALUES (@sn, @source, @type, 'active', @value, @threshold, @value, @detail, @at, @at)`);
  const byId = db.prepare<[number], AlarmRecord>('SELECT * FROM alarms WHERE id = ?');
  const active = db.prepare<[], AlarmRecord>("SELECT * FROM alarms WHERE state = 'active' ORDER BY id");
  const latestOf = db.prepare<[string, string], AlarmRecord>(
    'SELECT * FROM alarms WHERE source = ? AND type = ? ORDER BY triggered_at DESC, id DESC LIMIT 1',
  );
  const reopen = db.prepare<[{ id: number; value: number | null; detail: string | null; at: number }]>(`
    UPDATE alarms SET state = 'active', cleared_at = NULL, repeat_count = repeat_count + 1, value = @value, peak = @value,
      detail = coalesce(@detail, detail), ack_at = NULL, ack_by = NULL, ack_comment = NULL, updated_at = @at
    WHERE id = @id`);
  const clear = db.prepare<[{ id: number; peak: number | null; at: number }]>(
    "UPDATE alarms SET state = 'cleared', cleared_at = @at, peak = @peak, updated_at = @at WHERE id = @id",
  );
  const notified = db.prepare<[{ id: number; at: number }]>('UPDATE alarms SET notified_at = @at, updated_at = @at WHERE id = @id');
  const acknowledge = db.prepare<[{ id: number; by: string; comment: string; at: number }]>(
    'UPDATE alarms SET ack_at = @at, ack_by = @by, ack_comment = @comment, updated_at = @at WHERE id = @id AND ack_at IS NULL',
  );

  return {
    get: (id: number): AlarmRecord | undefined => byId.get(id),
    active: (): AlarmRecord[] => active.all(),
    /** The newest record of a source and type, whatever its state. */
    latest: (source: string, type: string): AlarmRecord | undefined => latestOf.get(source, type),
    insert(alarm: NewAlarm): AlarmRecord {
      const id = Number(insert.run(alarm).lastInsertRowid);
      return byId.get(id)!;
    },
    /** ALM-3: the condition came back within the debounce window: the same record, one repeat more. */
    reopen(id: number, value: number | null, detail: string | null, at: number): AlarmRecord {
      reopen.run({ id, value, detail, at });
      return byId.get(id)!;
    },
    clear(id: number, peak: number | null, at: number): AlarmRecord {
      clear.run({ id, peak, at });
      return byId.get(id)!;
    },
    markNotified(id: number, at: number): void {
      notified.run({ id, at });
    },
    /** Acknowledges those not yet acknowledged; returns the records that changed. */
    acknowledge(ids: number[], by: string, comment: string, at: number): AlarmRecord[] {
      return db.transaction(() => ids.filter((id) => acknowledge.run({ id, by, comment, at }).changes > 0).map((id) => byId.get(id)!))();
    },
    list(filter: AlarmFilter = {}): { total: number; items: AlarmRecord[] } {
      const { clause, params } = whereOf(filter);
      const total = (db.prepare(`SELECT count(*) AS n FROM alarms ${clause}`).get(params) as { n: number }).n;
      const items = db
        .prepare(`SELECT * FROM alarms ${clause} ORDER BY triggered_at DESC, id DESC LIMIT @limit OFFSET @offset`)
        .all({ ...params, limit: filter.limit ?? -1, offset: filter.offset ?? 0 }) as AlarmRecord[];
      return { total, items };
    },
    /** Every record matching, oldest first, without loading them all at once (CSV export). */
    iterate(filter: AlarmFilter = {}): IterableIterator<AlarmRecord> {
      const { clause, params } = whereOf({ ...filter, limit: undefined, offset: undefined });
      return db.prepare(`SELECT * FROM alarms ${clause} ORDER BY triggered_at, id`).iterate(params) as IterableIterator<AlarmRecord>;
    },
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
  };
}
export type AlarmRepository = ReturnType<typeof createAlarmRepository>;
