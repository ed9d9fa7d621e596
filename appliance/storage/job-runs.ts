// OPS-2 job_runs (migration 006): the last run of each scheduled job, kept across restarts.
import type { Db } from './db.ts';

export interface JobRunRow {
  name: string;
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  ok: number | null;
  result: string | null;
  runs: number;
  failures: number;
}

export function createJobRunRepository(db: Db) {
  const started = db.prepare<[string, number]>(`
    INSERT INTO job_runs (name, started_at, runs) VALUES (?, ?, 1)
    ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL, duration_ms = NULL,
      ok = NULL, result = NULL, runs = runs + 1`);
  const finished = db.prepare<[number, number, number, string, number, string]>(`
    UPDATE job_runs SET finished_at = ?, duration_ms = ?, ok = ?, result = ?, failures = failures + ? WHERE name = ?`);
  const all = db.prepare<[], JobRunRow>('SELECT * FROM job_runs');
  return {
    started: (name: string, at: number) => void started.run(name, at),
    finished: (name: string, at: number, durationMs: number, ok: boolean, result: unknown) =>
      void finished.run(at, durationMs, ok ? 1 : 0, JSON.stringify(result ?? null).slice(0, 4000), ok ? 0 : 1, name),
    all: (): JobRunRow[] => all.all(),
  };
}
export type JobRunRepository = ReturnType<typeof createJobRunRepository>;
