export const m006_archive_jobs = {
  version: 6,
  name: 'archive log (one row per attempt) and scheduled job runs',
  sql: /* sql */ `
-- ARC-1/ARC-2, seed archive_logs: one row per attempt to archive a site day (or a later part of
-- it: readings of an archived day that arrived afterwards go to part 2, 3, ... never over part 1).
--   status   running → verified (uploaded; size and sha256 checked against the bucket) → done
--            (local rows deleted); or failed. A crash leaves 'running' (redone) or 'verified'
--            (resumed: checked again, then deleted) — never a deletion without a verified object.
--   received_before  the export took exactly the rows of the day received before this time; the
--            deletion removes exactly those, so rows arriving meanwhile are neither lost nor doubled.
CREATE TABLE archive_log (
  id INTEGER PRIMARY KEY,
  day TEXT NOT NULL,              -- site day, YYYY-MM-DD
  part INTEGER NOT NULL,
  object_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'verified', 'done', 'failed')),
  day_start INTEGER NOT NULL,     -- UTC ms, [day_start, day_end)
  day_end INTEGER NOT NULL,
  received_before INTEGER NOT NULL,
  rows INTEGER,
  bytes INTEGER,
  sha256 TEXT,
  deleted_rows INTEGER,
  error_code INTEGER,
  error TEXT,
  started_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX archive_log_by_day ON archive_log (day, part);

-- OPS-2: the last run of each scheduled job, visible after a restart.
CREATE TABLE job_runs (
  name TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  duration_ms INTEGER,
  ok INTEGER,
  result TEXT,
  runs INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0
);
`,
};
