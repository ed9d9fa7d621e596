// API-3 JWT, HS256 only (seed §7.3): the header is fixed, so a token claiming another algorithm
// ("none", RS256 with the secret as a public key) is refused before its signature is looked at.
// The secret is generated at first start and kept in the data dir (mode 0600).
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeEqual } from '../core/passwords.ts';

export const JWT_SECRET_FILE = 'jwt.key';
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export interface TokenClaims {
  /** user name, or `kiosk:<id>` for a kiosk token */
  sub: string;
  role: string;
  /** seconds */
  iat: number;
  exp: number;
  /** the user's token_version when issued (a password or role change ends older sessions) */
  ver?: number;
  /** kiosk token id */
  kid?: number;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

export function loadJwtSecret(dataDir: string): Buffer {
  const file = join(dataDir, JWT_SECRET_FILE);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (secret.length < 32) throw new Error(`${file}: the JWT secret must be at least 32 bytes (base64)`);
  return secret;
}

export function createJwt(secret: Buffer) {
  const mac = (data: string) => createHmac('sha256', secret).update(data).digest();
  return {
    sign(claims: TokenClaims): string {
      const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token: string, nowMs: number): VerifyResult {
      const parts = token.split('.');
      if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'malformed' };
      if (!safeEqual(mac(`${parts[0]}.${parts[1]}`), Buffer.from(parts[2], 'base64url'))) return { ok: false, reason: 'signature' };
      let claims: TokenClaims;
      try {
        claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || typeof claims.role !== 'string') {
        return { ok: false, reason: 'malformed' };
      }
      if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
      return { ok: true, claims };
    },
  };
}
export type Jwt = ReturnType<typeof createJwt>;
