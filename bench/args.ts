// The command line of every benchmark: node's parseArgs, strict, with --help. `--help` prints the
// script's usage and exits 0; an unknown option or a stray argument prints one line naming it and
// exits 2 (the simulator's usage-error code), never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export const EXIT_USAGE = 2;

export function benchArgs<const O extends Options>(name: string, usage: string, options: O) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs explains an unknown option at length; its first sentence names it.
    const message = (err as Error).message.split('. To specify')[0];
    process.stderr.write(`${name}: ${message} (see --help)\n`);
    process.exit(EXIT_USAGE);
  }
}

/** A numeric option's value, or a one-line usage error. */
export function numberOption(name: string, option: string, raw: string | undefined, min = 0): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < min) {
    process.stderr.write(`${name}: --${option} must be a number ≥ ${min}, got ${String(raw)}\n`);
    process.exit(EXIT_USAGE);
  }
  return value;
}
