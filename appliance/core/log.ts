// OPS-3: one pino logger for the process, a child per stage; JSON lines. With a log file set,
// pino-roll rotates it daily and by size. It runs in-process (not as a pino transport thread) so
// the single executable (PKG-1) needs no module resolution at run time.
import { pino, type Logger } from 'pino';
import roll from 'pino-roll';

export type { Logger };

export interface LogOptions {
  level: string;
  file?: string;
}

export async function createLogger(options: LogOptions): Promise<Logger> {
  const base = { level: options.level, base: { app: 'mcs-edge' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!options.file) return pino(base);
  const stream = await roll({ file: options.file, frequency: 'daily', size: '20m', limit: { count: 14 }, mkdir: true });
  return pino(base, stream);
}

/** A logger that drops everything, for tests and CLI commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
