// LIC-3 in the appliance: what the license guard keeps across restarts in
// `<data_dir>/license-token.json` — the last signed check-in answer (the token) and when this
// appliance first ran the current license without one (`first_seen`, which starts the first 72 h
// grace). The file format and its signature check are licensing/token-file.ts; this store holds
// the record, reads it at start for this machine (a token edited by hand or signed for another
// machine is ignored, with a warning), starts a fresh record when a license key not seen before
// is installed, and keeps each signed answer. A failed write is an error in the log: the grace
// state would then not survive a restart.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { SignedCheckinAnswer } from '../../licensing/checkin.ts';
import { readTokenFile, writeTokenFile, type TokenFileContent } from '../../licensing/token-file.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';

export const TOKEN_FILE_NAME = 'license-token.json';

export interface TokenStoreDeps {
  /** The token file's path (`<data_dir>/license-token.json`). */
  file: string;
  /** The vendor's public key the kept token's signature is checked with. */
  key: () => KeyObject;
  clock: Clock;
  log: Logger;
}

export function createTokenStore({ file, key, clock, log }: TokenStoreDeps) {
  let kept: TokenFileContent | null = null;

  function save() {
    if (!kept) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeTokenFile(file, kept);
    } catch (err) {
      log.error({ err, file }, 'could not keep the license token; grace state is not saved across restarts');
    }
  }

  return {
    /** Reads the kept record for this machine; an unusable file or token is ignored, saying so. */
    load(machineId: string) {
      const read = readTokenFile(file, key(), machineId);
      if (read.status === 'unreadable') log.warn({ file, problem: read.problem }, 'license token file unusable; ignored');
      if (read.status !== 'ok') return;
      if (read.tokenProblem) log.warn({ problem: read.tokenProblem }, 'stored check-in token is not valid (edited or for another machine); ignored');
      kept = { license_key: read.licenseKey, first_seen: read.firstSeen, token: read.signed };
    },
    /** The kept check-in answer (its signature checked when read), or null. */
    token: (): SignedCheckinAnswer | null => kept?.token ?? null,
    /** When this appliance first ran the kept license without a token, or null. */
    firstSeen: (): number | null => kept?.first_seen ?? null,
    /** A license key not seen before starts a fresh record: no token, first seen now (its first grace, LIC-3). */
    adopt(licenseKey: string) {
      if (kept?.license_key === licenseKey) return;
      kept = { license_key: licenseKey, first_seen: clock.now(), token: null };
      save();
    },
    /** LIC-3: a fresh signed answer (valid or refused) replaces the token of the license it is for. */
    keepAnswer(licenseKey: string, signed: SignedCheckinAnswer) {
      if (kept?.license_key !== licenseKey) return;
      kept.token = signed;
      save();
    },
  };
}
