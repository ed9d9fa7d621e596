// LIC-1: the machine identity a license is bound to: systemd's /etc/machine-id, or D-Bus's copy
// on systems without it. The id is 32 lowercase hex characters; anything else is refused, not
// guessed at. Development and tests pass an override (license.machine_id, MCS_LICENSE_MACHINE_ID);
// the packaged single executable ignores it (issue 16.5): an override there would let one offline
// license, bound to one box, run on any number of copies.
import { readFileSync } from 'node:fs';
import * as sea from 'node:sea';

export const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const MACHINE_ID_RE = /^[0-9a-f]{32}$/;

export type MachineIdResult =
  | { ok: true; machineId: string; source: string; /** an override given and not honoured (packaged binary) */ ignoredOverride?: string }
  | { ok: false; error: string; ignoredOverride?: string };

export function isMachineId(text: string): boolean {
  return MACHINE_ID_RE.test(text);
}

export interface ReadMachineIdOptions {
  override?: string;
  files?: string[];
  /** whether this is the packaged single executable, which never honours the override; default: node:sea says */
  packaged?: boolean;
}

export function readMachineId(options: ReadMachineIdOptions = {}): MachineIdResult {
  const packaged = options.packaged ?? sea.isSea();
  if (options.override && packaged) {
    const read = readMachineId({ files: options.files, packaged });
    return { ...read, ignoredOverride: options.override };
  }
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
