// LIC-1: the machine identity a license is bound to: systemd's /etc/machine-id, or D-Bus's copy
// on systems without it. A test (or a container that mounts the host's id elsewhere) passes an
// override. The id is 32 lowercase hex characters; anything else is refused, not guessed at.
import { readFileSync } from 'node:fs';

export const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const MACHINE_ID_RE = /^[0-9a-f]{32}$/;

export type MachineIdResult = { ok: true; machineId: string; source: string } | { ok: false; error: string };

export function isMachineId(text: string): boolean {
  return MACHINE_ID_RE.test(text);
}

export function readMachineId(options: { override?: string; files?: string[] } = {}): MachineIdResult {
  if (options.override) {
    const id = options.override.trim().toLowerCase();
    return isMachineId(id) ? { ok: true, machineId: id, source: 'override' } : { ok: false, error: `machine id override '${options.override}' is not 32 hex characters` };
  }
  const tried: string[] = [];
  for (const file of options.files ?? MACHINE_ID_FILES) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim().toLowerCase();
    } catch (err) {
      tried.push(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    if (isMachineId(text)) return { ok: true, machineId: text, source: file };
    tried.push(`${file}: not a machine id`);
  }
  return { ok: false, error: `no machine id (${tried.join('; ')})` };
}
