// What the subcommands say about a wrong command line: one line that names the problem and where
// the usage is, exit 64 (sysexits EX_USAGE, README: exit codes) — never a stack trace.

export const EXIT_USAGE = 64;

/** node's parseArgs explains an unknown option at length; its first sentence names it. */
export function parseArgsProblem(err: unknown): string {
  return (err as Error).message.split('. To specify')[0];
}

export function usageLine(command: string, problem: string): string {
  return `mcs-edge ${command}: ${problem} (see mcs-edge ${command} --help)\n`;
}
