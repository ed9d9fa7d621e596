// LIC-3: the daily check-in. POST {server}/api/verify {machine_id, license_key, version, nonce}
// → the server's answer, signed with the vendor's key and naming the machine, the license key and
// our nonce. Only such an answer counts: a fake server (or a proxy) answering `valid: true` without
// the vendor's signature, or replaying another machine's answer, unlocks nothing — and a forged
// refusal locks nothing: both are treated like an unreachable server.
import { randomBytes, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { verifyJson } from './signing.ts';

/** The signed part of the server's answer; kept on disk as the check-in token. */
export const CheckinAnswerSchema = Type.Object(
  {
    valid: Type.Boolean(),
    /** Unix seconds (the seed's unit): the token is good until then (24 h after the answer). */
    token_expire: Type.Integer({ minimum: 0 }),
    message: Type.String({ maxLength: 1000 }),
    /** 0 when valid; else the seed's license code (20001 invalid or revoked, 20002 expired, 20004 another machine). */
    code: Type.Integer({ minimum: 0 }),
    /** Why, in one word: ok, revoked, unknown_key, expired, machine_mismatch. */
    reason: Type.String({ maxLength: 64 }),
    license_key: Type.String({ maxLength: 64 }),
    machine_id: Type.String({ maxLength: 64 }),
    /** The server's clock, unix ms. */
    server_time: Type.Integer({ minimum: 0 }),
    nonce: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type CheckinAnswer = Static<typeof CheckinAnswerSchema>;
export type SignedCheckinAnswer = CheckinAnswer & { signature: string };
const answerCheck = TypeCompiler.Compile(CheckinAnswerSchema);

export interface CheckinRequest {
  machine_id: string;
  license_key: string;
  version: string;
  nonce: string;
}

export type AnswerCheck = { ok: true; answer: CheckinAnswer } | { ok: false; problem: string };

/**
 * Whether `body` is an answer signed by the vendor for this machine and license key (and, for a
 * fresh answer, this request's nonce). Used for fresh answers and for the token kept on disk.
 */
export function verifyCheckinAnswer(
  body: unknown,
  publicKey: KeyObject,
  expect: { machineId: string; licenseKey: string; nonce?: string },
): AnswerCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problem: 'not a JSON object' };
  const { signature, ...answer } = body as Record<string, unknown>;
  if (signature === undefined) return { ok: false, problem: "answer not signed by the vendor's key" };
  if (!verifyJson(answer, signature, publicKey)) return { ok: false, problem: "signature does not match the vendor's key" };
  if (!answerCheck.Check(answer)) return { ok: false, problem: 'signed answer with unexpected fields' };
  if (answer.machine_id !== expect.machineId) return { ok: false, problem: 'answer is for another machine' };
  if (answer.license_key !== expect.licenseKey) return { ok: false, problem: 'answer is for another license key' };
  if (expect.nonce !== undefined && answer.nonce !== expect.nonce) return { ok: false, problem: 'answer is not for this request (replayed)' };
  return { ok: true, answer };
}

export type CheckinOutcome =
  | { kind: 'answer'; answer: CheckinAnswer; signed: SignedCheckinAnswer }
  /** Network failure, timeout, a server error: run on the token (grace). */
  | { kind: 'unreachable'; problem: string }
  /** Something answered, but not the vendor's server: treated like unreachable, and logged. */
  | { kind: 'untrusted'; problem: string };

export interface CheckinOptions {
  serverUrl: string;
  machineId: string;
  licenseKey: string;
  version: string;
  publicKey: KeyObject;
  timeoutMs?: number;
  /** Ends the request early (the appliance stopping). */
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

export async function checkIn(options: CheckinOptions): Promise<CheckinOutcome> {
  const { serverUrl, machineId, licenseKey, version, publicKey, timeoutMs = 15_000, fetchImpl = fetch } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const nonce = randomBytes(16).toString('hex');
  const request: CheckinRequest = { machine_id: machineId, license_key: licenseKey, version, nonce };
  let status: number;
  let text: string;
  try {
    const response = await fetchImpl(new URL('/api/verify', serverUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    status = response.status;
    text = await response.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { kind: 'unreachable', problem: `${(err as Error).message}${cause ? ` (${cause})` : ''}` };
  }
  if (status >= 500) return { kind: 'unreachable', problem: `server error HTTP ${status}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'untrusted', problem: `HTTP ${status}: not JSON` };
  }
  const checked = verifyCheckinAnswer(body, publicKey, { machineId, licenseKey, nonce });
  if (!checked.ok) return { kind: 'untrusted', problem: `HTTP ${status}: ${checked.problem}` };
  return { kind: 'answer', answer: checked.answer, signed: body as SignedCheckinAnswer };
}
