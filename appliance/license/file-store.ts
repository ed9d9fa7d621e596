// LIC-2 in the appliance: the license file as the guard knows it. It owns where the file is
// (`license.file`, default `<data_dir>/license.key`), whether it changed on disk since it was last
// read (a stamp of mtime, size and inode, so a file copied into place is noticed by the guard's
// poll), what it says once its vendor signature is checked (licensing/license-file.ts: absent,
// refused with the problem, or a verified license), and writing a new one atomically (written
// beside it and renamed, so a power cut leaves the old file or the new one, never half of one).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { LicenseFileState } from '../../licensing/gate.ts';
import { verifyLicenseText } from '../../licensing/license-file.ts';

export const DEFAULT_LICENSE_FILE_NAME = 'license.key';

export interface LicenseFileStoreDeps {
  /** The license file's path. */
  file: string;
  /** The vendor's public key the file's signature is checked with. */
  key: () => KeyObject;
}

export function createLicenseFileStore({ file, key }: LicenseFileStoreDeps) {
  let state: LicenseFileState = { status: 'absent' };
  let stamp = '';

  const stampOf = () => {
    try {
      const s = statSync(file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'absent';
    }
  };

  return {
    path: file,
    /** What the file said when it was last read. */
    state: (): LicenseFileState => state,
    /** The file on disk is not the one last read (copied into place, replaced or removed). */
    changed: (): boolean => stampOf() !== stamp,
    /** Reads the file and checks its signature; an unreadable file is refused, saying why. */
    load(): LicenseFileState {
      stamp = stampOf();
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        state = code === 'ENOENT' ? { status: 'absent' } : { status: 'invalid', problem: `cannot read ${file} (${code})` };
        return state;
      }
      const result = verifyLicenseText(text, key());
      state = result.ok ? { status: 'ok', license: result.license } : { status: 'invalid', problem: result.problem };
      return state;
    },
    /** Puts a new license file's text in place (the next load reads it). */
    write(text: string) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    },
  };
}
