// LIC-3 / LIC-7: the vendor's license server. POST /api/verify answers every well-formed check-in
// with an answer signed by the vendor's key (valid or not, with the seed's code), binds a license
// to the first machine that activates it, refuses any other machine (20004), honours revocation
// and expiry, and logs every check-in. Built without listen() so tests can also inject().
import Fastify, { type FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { KeyObject } from 'node:crypto';
import type { CheckinAnswer, SignedCheckinAnswer } from '../checkin.ts';
import { expiresAt } from '../license-file.ts';
import { LicenseCode, TOKEN_VALID_MS } from '../gate.ts';
import { signJson } from '../signing.ts';
import type { LicenseStore } from './store.ts';

const VerifyBody = Type.Object(
  {
    machine_id: Type.String({ minLength: 1, maxLength: 64 }),
    license_key: Type.String({ minLength: 1, maxLength: 64 }),
    version: Type.String({ maxLength: 64, default: '' }),
    nonce: Type.String({ maxLength: 64, default: '' }),
  },
  { additionalProperties: true },
);
type VerifyBody = Static<typeof VerifyBody>;

export interface LicenseServerDeps {
  store: LicenseStore;
  privateKey: KeyObject;
  now?: () => number;
  logger?: boolean;
}

export function createLicenseServer({ store, privateKey, now = Date.now, logger = false }: LicenseServerDeps): FastifyInstance {
  const app = Fastify({ logger, bodyLimit: 16 * 1024 });

  function decide(body: VerifyBody, at: number): Pick<CheckinAnswer, 'valid' | 'code' | 'reason' | 'message'> {
    const row = store.get(body.license_key);
    if (!row) return { valid: false, code: LicenseCode.INVALID, reason: 'unknown_key', message: 'unknown license key' };
    if (row.revoked_at !== null) {
      return { valid: false, code: LicenseCode.INVALID, reason: 'revoked', message: `license revoked${row.revoke_reason ? ` (${row.revoke_reason})` : ''}` };
    }
    if (at >= expiresAt(row)) return { valid: false, code: LicenseCode.EXPIRED, reason: 'expired', message: `license expired on ${row.expire_date}` };
    const bound = row.bound_machine === null ? store.bindFirst(row.license_key, body.machine_id, at)! : row;
    if (bound.bound_machine !== body.machine_id) {
      return { valid: false, code: LicenseCode.MACHINE_MISMATCH, reason: 'machine_mismatch', message: 'license already activated on another machine' };
    }
    return { valid: true, code: 0, reason: 'ok', message: 'OK' };
  }

  app.post<{ Body: VerifyBody }>('/api/verify', { schema: { body: VerifyBody } }, async (request) => {
    const at = now();
    const body = request.body;
    const verdict = decide(body, at);
    store.logCheckin({
      ts: at, license_key: body.license_key, machine_id: body.machine_id, version: body.version, remote: request.ip,
      valid: verdict.valid ? 1 : 0, code: verdict.code, reason: verdict.reason,
    });
    const answer: CheckinAnswer = {
      ...verdict,
      token_expire: verdict.valid ? Math.floor((at + TOKEN_VALID_MS) / 1000) : 0,
      license_key: body.license_key,
      machine_id: body.machine_id,
      server_time: at,
      nonce: body.nonce,
    };
    const signed: SignedCheckinAnswer = { ...answer, signature: signJson(answer, privateKey) };
    return signed;
  });

  app.get('/api/health', async () => ({ status: 'ok' }));
  return app;
}
