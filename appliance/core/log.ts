// OPS-3: one pino logger for the process, a child per stage; JSON lines. With a log file set,
// pino-roll rotates it daily and by size.
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level: string;
  file?: string;
}

export function createLogger(options: LogOptions): Logger {
  const base = { level: options.level, base: { app: 'mcs-edge' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!options.file) return pino(base);
  const transport = pino.transport({
    target: 'pino-roll',
    options: { file: options.file, frequency: 'daily', size: '20m', limit: { count: 14 }, mkdir: true },
  });
  return pino(base, transport);
}

/** A logger that drops everything, for tests and CLI commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
