// OPS-2: the job scheduler. node-cron only says "it is time" (in the site timezone); this file owns
// the rest: a job never overlaps itself (a tick or runNow() while it runs is skipped and counted),
// every run's start, duration and result is kept in memory and in job_runs, and a job that throws
// is logged — nothing ever escapes from a timer (ARCHITECTURE 8).
import cron, { type ScheduledTask } from 'node-cron';
import type { JobStatus } from '../contract/storage.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { JobRunRepository } from '../storage/job-runs.ts';

export interface Job {
  name: string;
  /** Cron expression (5 or 6 fields), site timezone. */
  schedule: string;
  /** A plain async function; its resolved value is the run's result (kept as JSON). */
  run: () => Promise<unknown>;
}

export interface JobRunOutcome {
  name: string;
  ok: boolean;
  skipped?: 'already running';
  result?: unknown;
  error?: string;
  duration_ms: number;
}

interface State {
  job: Job;
  task: ScheduledTask | null;
  running: Promise<JobRunOutcome> | null;
  lastStartedAt: number | null;
  lastDurationMs: number | null;
  lastOk: boolean | null;
  lastResult: unknown;
  runs: number;
  failures: number;
  skipped: number;
}

export interface SchedulerDeps {
  jobs: Job[];
  timezone: string;
  clock: Clock;
  log: Logger;
  runs?: JobRunRepository;
}

export function createScheduler({ jobs, timezone, clock, log: parentLog, runs }: SchedulerDeps) {
  const log = parentLog.child({ stage: 'jobs' });
  const states = new Map<string, State>();
  for (const job of jobs) {
    if (states.has(job.name)) throw new Error(`job '${job.name}' defined twice`);
    if (!cron.validate(job.schedule)) throw new Error(`job '${job.name}': invalid cron expression '${job.schedule}'`);
    states.set(job.name, {
      job, task: null, running: null, lastStartedAt: null, lastDurationMs: null, lastOk: null, lastResult: null, runs: 0, failures: 0, skipped: 0,
    });
  }
  const persist = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log.warn({ err }, 'job run not recorded');
    }
  };

  async function execute(state: State): Promise<JobRunOutcome> {
    const { name } = state.job;
    const started = clock.now();
    const t0 = performance.now();
    state.lastStartedAt = started;
    state.runs++;
    persist(() => runs?.started(name, started));
    let outcome: JobRunOutcome;
    try {
      const result = await state.job.run();
      outcome = { name, ok: true, result, duration_ms: Math.round(performance.now() - t0) };
    } catch (err) {
      outcome = { name, ok: false, error: (err as Error)?.message ?? String(err), duration_ms: Math.round(performance.now() - t0) };
      state.failures++;
      log.error({ job: name, err }, 'job failed');
    }
    state.lastDurationMs = outcome.duration_ms;
    state.lastOk = outcome.ok;
    state.lastResult = outcome.ok ? outcome.result ?? null : { error: outcome.error };
    persist(() => runs?.finished(name, clock.now(), outcome.duration_ms, outcome.ok, state.lastResult));
    return outcome;
  }

  /** Runs a job unless it is running already (no self-overlap). Never rejects. */
  function trigger(state: State, reason: 'scheduled' | 'manual'): Promise<JobRunOutcome> {
    if (state.running) {
      state.skipped++;
      log.warn({ job: state.job.name, reason }, 'job still running; this run is skipped');
      return Promise.resolve({ name: state.job.name, ok: false, skipped: 'already running', duration_ms: 0 });
    }
    state.running = execute(state).finally(() => {
      state.running = null;
    });
    return state.running;
  }

  // What job_runs remembers from before a restart, until this process runs the job itself.
  function restore() {
    if (!runs) return;
    try {
      for (const row of runs.all()) {
        const state = states.get(row.name);
        if (!state) continue;
        Object.assign(state, {
          lastStartedAt: row.started_at,
          lastDurationMs: row.duration_ms,
          lastOk: row.ok === null ? null : row.ok === 1,
          lastResult: row.result === null ? null : JSON.parse(row.result),
          runs: row.runs,
          failures: row.failures,
        });
      }
    } catch (err) {
      log.warn({ err }, 'job history not restored');
    }
  }

  return {
    start() {
      restore();
      for (const state of states.values()) {
        state.task = cron.schedule(state.job.schedule, () => void trigger(state, 'scheduled'), {
          timezone, name: state.job.name, noOverlap: false, suppressMissedWarning: true,
        });
      }
    },
    /**
     * Stops the timers and waits up to `graceMs` for running jobs (OPS-4: shutdown stays within its
     * deadline; a job cut short is safe to redo — the archive resumes from archive_log).
     */
    async stop(graceMs = 5000) {
      for (const state of states.values()) {
        await state.task?.destroy();
        state.task = null;
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all([...states.values()].map((s) => s.running)), deadline]);
      clearTimeout(timer);
    },
    /** Runs a job now (API "run now", tests); joins nothing, skips when it is running. */
    runNow(name: string): Promise<JobRunOutcome> {
      const state = states.get(name);
      if (!state) return Promise.reject(new Error(`no job '${name}'`));
      return trigger(state, 'manual');
    },
    /** OPS-2: each job's schedule, whether it runs, and its last run. */
    status(): JobStatus[] {
      return [...states.values()].map((s) => ({
        name: s.job.name,
        schedule: s.job.schedule,
        running: s.running !== null,
        last_started_at: s.lastStartedAt,
        last_duration_ms: s.lastDurationMs,
        last_ok: s.lastOk,
        last_result: s.lastResult,
        runs: s.runs,
        failures: s.failures,
        skipped_overlaps: s.skipped,
        next_run: s.task?.getNextRun()?.getTime() ?? null,
      }));
    },
    names: () => [...states.keys()],
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
