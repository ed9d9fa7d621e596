// API-5 audit log: every change through the API, with who, when, from where, and before/after.
import type { Db } from './db.ts';

export interface AuditEntry {
  id: number;
  at: number;
  username: string;
  ip: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
}

export interface NewAuditEntry {
  at: number;
  username: string;
  ip: string | null;
  action: string;
  target: string | null;
  before?: unknown;
  after?: unknown;
}

export interface AuditFilter {
  username?: string;
  /** An action, or an action prefix ending in '.' (e.g. 'device.'). */
  action?: string;
  target?: string;
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}

interface AuditRow extends Omit<AuditEntry, 'before' | 'after'> {
  before: string | null;
  after: string | null;
}

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

export function createAuditRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO audit_log (at, username, ip, action, target, before, after)
    VALUES (@at, @username, @ip, @action, @target, @before, @after)`);
  return {
    record(entry: NewAuditEntry): number {
      return Number(insert.run({ ...entry, before: json(entry.before), after: json(entry.after) }).lastInsertRowid);
    },
    list(filter: AuditFilter): { total: number; items: AuditEntry[] } {
      const where: string[] = [];
      const params: Record<string, unknown> = {};
      if (filter.username !== undefined) (where.push('username = @username'), (params.username = filter.username));
      if (filter.action !== undefined) {
        if (filter.action.endsWith('.')) (where.push('substr(action, 1, @n) = @action'), (params.n = filter.action.length));
        else where.push('action = @action');
        params.action = filter.action;
      }
      if (filter.target !== undefined) (where.push('target = @target'), (params.target = filter.target));
      if (filter.from !== undefined) (where.push('at >= @from'), (params.from = filter.from));
      if (filter.to !== undefined) (where.push('at < @to'), (params.to = filter.to));
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = (db.prepare(`SELECT count(*) AS n FROM audit_log ${clause}`).get(params) as { n: number }).n;
      const rows = db
        .prepare(`SELECT * FROM audit_log ${clause} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`)
        .all({ ...params, limit: filter.limit, offset: filter.offset }) as AuditRow[];
      return { total, items: rows.map((row) => ({ ...row, before: parse(row.before), after: parse(row.after) })) };
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
