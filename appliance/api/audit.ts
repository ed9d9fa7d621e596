// API-5: one call per change, from the route that made it: who (the token's user), when, from
// which address, and the state before and after (secrets already redacted by the caller).
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { maskUrl } from '../core/secrets.ts';
import type { AuditRepository } from '../storage/audit.ts';

export type AuditFn = (request: FastifyRequest, action: string, target: string | null, before?: unknown, after?: unknown) => void;

export function auditor(audit: AuditRepository, clock: Clock): AuditFn {
  return (request, action, target, before, after) => {
    audit.record({
      at: clock.now(), username: request.principal?.username ?? 'anonymous', ip: request.ip, action,
      target: target === null ? null : maskUrlsIn(target), before: maskUrlsIn(before), after: maskUrlsIn(after),
    });
  };
}

const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Issue 16.6, a second line behind the callers' redaction: every absolute URL in an audit entry
 * is written with its secret parts masked (a robot's `key=`/`access_token=`, `user:password@`, a
 * token in the path; see maskUrl), so a route that forgets to redact a URL does not put its key
 * into the audit log, the database file and the backups.
 */
export function maskUrlsIn<T>(value: T): T {
  if (typeof value === 'string') return (ABSOLUTE_URL.test(value) ? maskUrl(value) : value) as T;
  if (Array.isArray(value)) return value.map((item) => maskUrlsIn(item)) as T;
  if (typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskUrlsIn(item)])) as T;
  }
  return value;
}
