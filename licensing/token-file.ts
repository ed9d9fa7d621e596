// LIC-3: what survives a restart: the last signed check-in answer (the token) and when this
// appliance first ran the current license without one. The token is kept exactly as the vendor's
// server signed it, naming this machine and license key, so editing the file (a later expiry, a
// refusal turned into `valid: true`) breaks the signature and the token is simply not used.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { verifyCheckinAnswer, type CheckinAnswer, type SignedCheckinAnswer } from './checkin.ts';

export interface TokenFileContent {
  license_key: string;
  /** UTC ms: the first start with this license and no token (starts the first grace, LIC-3). */
  first_seen: number;
  token: SignedCheckinAnswer | null;
}

export type TokenFileRead =
  | { status: 'absent' }
  | { status: 'ok'; licenseKey: string; firstSeen: number; token: CheckinAnswer | null; signed: SignedCheckinAnswer | null; tokenProblem: string | null }
  | { status: 'unreadable'; problem: string };

export function readTokenFile(file: string, publicKey: KeyObject, machineId: string): TokenFileRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent' };
    return { status: 'unreadable', problem: (err as Error).message };
  }
  let content: Partial<TokenFileContent>;
  try {
    content = JSON.parse(text) as Partial<TokenFileContent>;
  } catch {
    return { status: 'unreadable', problem: 'not JSON' };
  }
  if (typeof content?.license_key !== 'string' || typeof content.first_seen !== 'number' || !Number.isFinite(content.first_seen)) {
    return { status: 'unreadable', problem: 'missing license_key or first_seen' };
  }
  let token: CheckinAnswer | null = null;
  let tokenProblem: string | null = null;
  if (content.token) {
    const checked = verifyCheckinAnswer(content.token, publicKey, { machineId, licenseKey: content.license_key });
    if (checked.ok) token = checked.answer;
    else tokenProblem = checked.problem;
  }
  return { status: 'ok', licenseKey: content.license_key, firstSeen: content.first_seen, token, signed: token ? content.token! : null, tokenProblem };
}

/** Written to a temporary file and renamed, so a power cut leaves the old or the new file. */
export function writeTokenFile(file: string, content: TokenFileContent): void {
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}
