// API-1 kiosk settings and the floor-plan image (UI-2). The image is checked by its content
// (PNG or JPEG magic bytes, ≤ 5 MB), stored under a fixed name in the data dir (a client's file
// name never reaches the file system) and replaced atomically.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../../core/errors.ts';
import { iso, Message } from '../../contract/api.ts';
import { BACKGROUND_MAX_BYTES, DashboardSettings, DashboardUpdate, DashboardView } from '../../contract/dashboard.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';
import { bearerToken } from '../access.ts';

const KEY = 'dashboard';
const BG_URL = '/api/config/dashboard/bg';

/**
 * Issue 16.10: the floor plan is drawn by an <img>/CSS background, which cannot send a header, and
 * a session token in an image URL ends up in the browser history, the network panel, proxy logs
 * and Referer headers. So GET /api/config/dashboard hands out the image URL signed for a few
 * minutes instead (HMAC-SHA256 over the path, the image version and the expiry). Chosen over an
 * HttpOnly cookie because it needs no cookie state and no CSRF thinking, works the same for the
 * admin UI and a kiosk screen (whose token is not a browser session), and a leaked URL opens only
 * this one picture, only until it expires. The key lives in memory: a restart ends the old URLs,
 * and the next settings read (the kiosk's is every minute) brings a fresh one.
 * The expiry is rounded up to a step so the URL stays the same (and cached) for a while.
 */
export const SIGNED_URL_STEP_MS = 5 * 60_000;
/** A signed URL expiring further ahead than this is refused (it was not made by us). */
const SIGNED_URL_MAX_MS = 2 * SIGNED_URL_STEP_MS;

export function createUrlSigner(key: Buffer = randomBytes(32)) {
  const mac = (data: string) => createHmac('sha256', key).update(data).digest('base64url');
  return {
    sign(path: string, version: number, now: number): string {
      const exp = (Math.floor(now / SIGNED_URL_STEP_MS) + 2) * SIGNED_URL_STEP_MS;
      const unsigned = `${path}?v=${version}&exp=${exp}`;
      return `${unsigned}&sig=${mac(unsigned)}`;
    },
    /** Whether the query of a request for `path` is a valid, unexpired signature. */
    verify(path: string, query: { v?: unknown; exp?: unknown; sig?: unknown }, now: number): boolean {
      const { v, exp, sig } = query;
      if (typeof v !== 'string' || typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,16}$/.test(v) || !/^\d{1,16}$/.test(exp)) return false;
      const expires = Number(exp);
      if (expires <= now || expires - now > SIGNED_URL_MAX_MS) return false;
      const expected = Buffer.from(mac(`${path}?v=${v}&exp=${exp}`));
      const given = Buffer.from(sig);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

interface StoredDashboard extends DashboardSettings {
  background: { content_type: string; size: number; uploaded_at: number; file: string } | null;
}

/** The image type by its first bytes, or null. */
export function imageType(head: Buffer): { contentType: string; ext: string } | null {
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { contentType: 'image/png', ext: 'png' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { contentType: 'image/jpeg', ext: 'jpg' };
  return null;
}

/**
 * API-2: a malformed or cut-off upload is the client's error (400 in words), not a 500. The
 * multipart parser reports its limits with FST_* codes and a broken body (cut off, no boundary)
 * with plain errors from busboy; anything else is a fault of ours and stays a 500.
 */
export function uploadError(err: unknown): Error {
  if (err instanceof AppError) return err;
  const { code, message = '' } = err as { code?: string; message?: string };
  const invalid = (text: string, detail: unknown = null) => new AppError('REQUEST_INVALID', detail, text);
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return invalid('the image is larger than 5 MB', { max_bytes: BACKGROUND_MAX_BYTES });
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return invalid('send exactly one file (the image) and no other form fields');
    case 'FST_PROTO_VIOLATION':
      return invalid('a form field name in the upload is not allowed');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return invalid('upload the image as multipart/form-data', { content_type: 'multipart/form-data' });
    case 'FST_MP_PREMATURE_CLOSE':
      return invalid('the upload was cut off before the image was complete; send it again');
  }
  if (/unexpected end of multipart data/i.test(message)) return invalid('the upload was cut off before the image was complete; send it again');
  if (/^(Multipart: Boundary not found|Boundary required)$/.test(message)) {
    return invalid('the upload has no multipart boundary; send the image as a form file (multipart/form-data)');
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function dashboardRoutes(deps: ApiDeps) {
  const audit = auditor(deps.audit, deps.clock);
  const dir = join(deps.config.data_dir, 'dashboard');
  const signer = createUrlSigner();

  function stored(): StoredDashboard {
    const saved = deps.configRepo.get<Partial<StoredDashboard>>(KEY) ?? {};
    return { ...(Value.Default(DashboardSettings, {}) as DashboardSettings), background: null, ...saved };
  }
  function view(settings: StoredDashboard): DashboardView {
    const { background, ...rest } = settings;
    const updatedAt = deps.configRepo.updatedAt(KEY);
    return {
      ...rest,
      background: background && { content_type: background.content_type, size: background.size, uploaded_at: iso(background.uploaded_at), url: signer.sign(BG_URL, background.uploaded_at, deps.clock.now()) },
      updated_at: updatedAt ? iso(updatedAt) : null,
      timezone: deps.config.site.timezone,
      language: deps.config.site.language,
    };
  }

  /** What the audit log keeps (API-5): the settings without the image's short-lived signed URL. */
  function audited(settings: StoredDashboard) {
    const { background, ...rest } = view(settings);
    return { ...rest, background: background && { content_type: background.content_type, size: background.size, uploaded_at: background.uploaded_at } };
  }

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['dashboard'];
    await api.register(multipart, { limits: { fileSize: BACKGROUND_MAX_BYTES, files: 1, fields: 0, parts: 1 } });

    api.get('/api/config/dashboard', { schema: { tags, response: { 200: DashboardView } }, config: { access: 'viewer' } }, async () => view(stored()));

    api.put('/api/config/dashboard', { schema: { tags, body: DashboardUpdate, response: { 200: DashboardView } }, config: { access: 'admin' } }, async (request) => {
      const before = stored();
      const after = { ...before, ...request.body };
      deps.configRepo.set(KEY, after, deps.clock.now());
      audit(request, 'config.dashboard', KEY, audited(before), audited(after));
      return view(after);
    });

    api.post('/api/config/dashboard/bg', {
      schema: { tags, summary: 'upload the floor plan: multipart/form-data, one PNG or JPEG file ≤ 5 MB', consumes: ['multipart/form-data'], response: { 200: DashboardView } },
      config: { access: 'admin' },
    }, async (request) => {
      if (!request.isMultipart()) throw new AppError('REQUEST_INVALID', { content_type: 'multipart/form-data' }, 'upload the image as multipart/form-data');
      let data: Buffer;
      try {
        const file = await request.file();
        if (!file) throw new AppError('REQUEST_INVALID', null, 'no file in the upload');
        data = await file.toBuffer();
      } catch (err) {
        throw uploadError(err);
      }
      const type = imageType(data);
      if (!type) throw new AppError('REQUEST_INVALID', { accepted: ['image/png', 'image/jpeg'] }, 'the file is not a PNG or JPEG image');
      await mkdir(dir, { recursive: true });
      const name = `background.${type.ext}`;
      await writeFile(join(dir, `${name}.tmp`), data);
      await rename(join(dir, `${name}.tmp`), join(dir, name));
      const before = stored();
      const after: StoredDashboard = { ...before, background: { content_type: type.contentType, size: data.length, uploaded_at: deps.clock.now(), file: name } };
      deps.configRepo.set(KEY, after, deps.clock.now());
      if (before.background && before.background.file !== name) await rm(join(dir, before.background.file), { force: true });
      audit(request, 'config.dashboard.background', KEY, audited(before).background, audited(after).background);
      return view(after);
    });

    // Public as a route, but only with a valid signature (the URL from GET /api/config/dashboard) or a
    // viewer's Bearer header; a token in the query (?token=) is not accepted here any more.
    api.get(BG_URL, {
      schema: { tags, summary: 'the floor-plan image: the signed URL from GET /api/config/dashboard, or with a Bearer header' },
      config: { access: 'public' },
    }, async (request, reply) => {
      if (!signer.verify(BG_URL, request.query as Record<string, unknown>, deps.clock.now())) {
        const token = bearerToken(request);
        if (!token) throw new AppError('AUTH_TOKEN_EXPIRED', 'this image link has expired or is not signed; reload the settings for a fresh one, or send Authorization: Bearer <token>');
        deps.users.authenticate(token); // any valid session or kiosk token may see the plan (viewer)
      }
      const { background } = stored();
      const path = background && join(dir, background.file);
      if (!background || !path || !(await stat(path).catch(() => null))) throw new AppError('NOT_FOUND', null, 'no floor-plan image uploaded');
      reply.header('content-type', background.content_type);
      reply.header('cache-control', 'private, max-age=86400');
      return reply.send(createReadStream(path));
    });

    api.delete(BG_URL, { schema: { tags, response: { 200: Message } }, config: { access: 'admin' } }, async (request) => {
      const before = stored();
      if (before.background) await rm(join(dir, before.background.file), { force: true });
      deps.configRepo.set(KEY, { ...before, background: null }, deps.clock.now());
      audit(request, 'config.dashboard.background', KEY, audited(before).background, null);
      return { message: 'floor-plan image removed' };
    });
  };
}
