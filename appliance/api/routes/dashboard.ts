// API-1 kiosk settings and the floor-plan image (UI-2). The image is checked by its content
// (PNG or JPEG magic bytes, ≤ 5 MB), stored under a fixed name in the data dir (a client's file
// name never reaches the file system) and replaced atomically.
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

const KEY = 'dashboard';
const BG_URL = '/api/config/dashboard/bg';

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

  function stored(): StoredDashboard {
    const saved = deps.configRepo.get<Partial<StoredDashboard>>(KEY) ?? {};
    return { ...(Value.Default(DashboardSettings, {}) as DashboardSettings), background: null, ...saved };
  }
  function view(settings: StoredDashboard): DashboardView {
    const { background, ...rest } = settings;
    const updatedAt = deps.configRepo.updatedAt(KEY);
    return {
      ...rest,
      background: background && { content_type: background.content_type, size: background.size, uploaded_at: iso(background.uploaded_at), url: `${BG_URL}?v=${background.uploaded_at}` },
      updated_at: updatedAt ? iso(updatedAt) : null,
      timezone: deps.config.site.timezone,
      language: deps.config.site.language,
    };
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
      audit(request, 'config.dashboard', KEY, view(before), view(after));
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
      audit(request, 'config.dashboard.background', KEY, view(before).background, view(after).background);
      return view(after);
    });

    api.get(BG_URL, { schema: { tags, summary: 'the floor-plan image' }, config: { access: 'viewer', queryToken: true } }, async (_request, reply) => {
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
      audit(request, 'config.dashboard.background', KEY, view(before).background, null);
      return { message: 'floor-plan image removed' };
    });
  };
}
