// The API's shared shapes (API-2): the one error body, paging, and time ranges. Times on the wire
// are ISO 8601 UTC strings as in the seed's examples (§10.2); queries accept ISO or epoch ms.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** {code, message, detail}: code is the seed's business code (§10.5), or the HTTP status when none applies. */
export const ErrorBody = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  detail: Type.Unknown(),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
export const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);
/** A time in a query: ISO 8601 or epoch milliseconds. */
export const TimeParam = Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 or epoch ms' });

export const PageQuery = {
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  size: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
};

export const Paged = <T extends TSchema>(item: T) =>
  Type.Object({ total: Type.Integer(), page: Type.Integer(), size: Type.Integer(), data: Type.Array(item) });

export const Message = Type.Object({ message: Type.String() });

/** API-5: one audit log entry as GET /api/system/logs and the admin UI show it. */
export const AuditEntryView = Type.Object({
  id: Type.Integer(),
  at: IsoTime,
  username: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
});
export type AuditEntryView = Static<typeof AuditEntryView>;

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

/** Parses a TimeParam: epoch ms digits or an ISO date; NaN when neither. */
export function parseTime(text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return Number.NaN;
  return Date.parse(text);
}
