// STO-2 system_config: settings kept in the database as JSON under a key (seed §5.1), written
// with the connection's FULL synchronous mode so a saved setting survives a power cut.
import type { Db } from './db.ts';

export function createConfigRepository(db: Db) {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM system_config WHERE key = ?');
  const version = db.prepare<[string], { updated_at: number }>('SELECT updated_at FROM system_config WHERE key = ?');
  const upsert = db.prepare<[string, string, number]>(`
    INSERT INTO system_config (key, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  return {
    get<T>(key: string): T | undefined {
      const row = select.get(key);
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    /** When the key was last written (by any process), or 0: a cheap freshness check for caches. */
    updatedAt: (key: string): number => version.get(key)?.updated_at ?? 0,
    set(key: string, value: unknown, now: number): void {
      upsert.run(key, JSON.stringify(value), now);
    },
  };
}
export type ConfigRepository = ReturnType<typeof createConfigRepository>;
