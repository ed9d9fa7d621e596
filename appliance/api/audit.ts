// API-5: one call per change, from the route that made it: who (the token's user), when, from
// which address, and the state before and after (secrets already redacted by the caller).
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { AuditRepository } from '../storage/audit.ts';

export type AuditFn = (request: FastifyRequest, action: string, target: string | null, before?: unknown, after?: unknown) => void;

export function auditor(audit: AuditRepository, clock: Clock): AuditFn {
  return (request, action, target, before, after) => {
    audit.record({ at: clock.now(), username: request.principal?.username ?? 'anonymous', ip: request.ip, action, target, before, after });
  };
}
