// LIC-2: the license file. A JSON text holding the license fields and the vendor's Ed25519
// signature of them. The appliance accepts it only byte for byte as the vendor rendered it: the
// signature covers the fields, and the text must be the one rendering of those fields, so no byte
// of the file can be edited — not even spacing — without the file being refused.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { KeyObject } from 'node:crypto';
import { canonicalJson, signJson, verifyJson } from './signing.ts';

export const LICENSE_KEY_PATTERN = '^MCS(-[A-Z0-9]{4}){3,4}$';

export const LicenseSchema = Type.Object(
  {
    license_key: Type.String({ pattern: LICENSE_KEY_PATTERN, description: 'e.g. MCS-7Q2K-M9XD-4TPA' }),
    customer: Type.String({ minLength: 1, maxLength: 200 }),
    max_devices: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    expire_date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'last valid day (UTC), YYYY-MM-DD' }),
    machine_id: Type.Union([Type.String({ pattern: '^[0-9a-f]{32}$' }), Type.Null()], {
      description: 'null: bound by the license server to the first machine that activates it',
    }),
    features: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
    issued_at: Type.String({ description: 'ISO 8601 UTC' }),
  },
  { additionalProperties: false },
);
export type License = Static<typeof LicenseSchema>;
const licenseCheck = TypeCompiler.Compile(LicenseSchema);

/** A machine-bound license with this feature needs no check-in: the vendor chose offline licensing. */
export const OFFLINE_FEATURE = 'offline';

/** The first moment the license is no longer valid: the day after `expire_date`, 00:00 UTC. */
export function expiresAt(license: Pick<License, 'expire_date'>): number {
  const [y, m, d] = license.expire_date.split('-').map(Number);
  return Date.UTC(y, m - 1, d + 1);
}

/** The one text of a signed license file. */
export function renderLicenseFile(license: License, signature: string): string {
  const ordered = JSON.parse(canonicalJson(license)) as License; // keys in canonical order
  return `${JSON.stringify({ license: ordered, signature }, null, 2)}\n`;
}

export function signLicense(license: License, privateKey: KeyObject): string {
  if (!licenseCheck.Check(license)) {
    const first = [...licenseCheck.Errors(license)][0];
    throw new Error(`invalid license fields: ${first?.path || '(root)'} ${first?.message}`);
  }
  return renderLicenseFile(license, signJson(license, privateKey));
}

export type LicenseFileResult = { ok: true; license: License } | { ok: false; problem: string };

/** LIC-2: verifies a license file's text with the vendor's public key. */
export function verifyLicenseText(text: string, publicKey: KeyObject): LicenseFileResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not a license file (not JSON)' };
  }
  const file = parsed as { license?: unknown; signature?: unknown };
  if (typeof file !== 'object' || file === null || typeof file.license !== 'object' || file.license === null || typeof file.signature !== 'string') {
    return { ok: false, problem: 'not a license file (no license and signature)' };
  }
  if (!verifyJson(file.license, file.signature, publicKey)) {
    return { ok: false, problem: "the signature does not match: the file was edited or was not issued by the vendor" };
  }
  if (renderLicenseFile(file.license as License, file.signature) !== text) {
    return { ok: false, problem: 'the file was edited after it was issued (its text differs from what the vendor signed)' };
  }
  if (!licenseCheck.Check(file.license)) return { ok: false, problem: 'the license fields are not valid for this version' };
  return { ok: true, license: file.license };
}

/** A key as the UI shows it: the first and last group only. */
export function maskLicenseKey(key: string): string {
  const groups = key.split('-');
  if (groups.length < 3) return '****';
  return [groups[0], ...groups.slice(1, -1).map(() => '****'), groups[groups.length - 1]].join('-');
}
