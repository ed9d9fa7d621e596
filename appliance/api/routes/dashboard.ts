// API-1 kiosk settings and the floor plans (UI-2, issue 15.8: several plans, one per building or
// floor, each with its own image and detectors). An image is checked by its content (PNG or JPEG
// magic bytes, ≤ 5 MB), stored under a fixed name in the data dir (a client's file name never
// reaches the file system) and replaced atomically. The settings live as one JSON value in
// system_config; the single-plan shape saved before issue 15.8 is read as plan 1 (upgradeDashboard).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../../core/errors.ts';
import { iso, Message } from '../../contract/api.ts';
import { BACKGROUND_MAX_BYTES, DashboardSettings, DashboardUpdate, DashboardView, PlanParams, PlanPositions, PLANS_MAX, PlanWrite, planOf } from '../../contract/dashboard.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';
import { bearerToken } from '../access.ts';

const KEY = 'dashboard';
/** The first plan's image (the single-plan route, kept for older screens and scripts). */
const BG_URL = '/api/config/dashboard/bg';
const planBgUrl = (id: number) => `/api/config/dashboard/plans/${id}/bg`;

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

interface StoredImage {
  content_type: string;
  size: number;
  uploaded_at: number;
  file: string;
}
interface StoredPlan {
  id: number;
  name: string;
  background: StoredImage | null;
}
export interface StoredDashboard extends DashboardSettings {
  plans: StoredPlan[];
  device_plans: Record<string, number>;
}

/**
 * Issue 15.8, read-time upgrade: the settings saved before there were several plans had one
 * `background` at the top; that plan becomes plan 1 (unnamed, keeping its image file) and every
 * placed device stays on it (a device not in device_plans is on the first plan). No SQL migration:
 * the value is rewritten in the new shape the next time anything is saved.
 */
export function upgradeDashboard(saved: Record<string, unknown> | null | undefined): StoredDashboard {
  const { background, plans, device_plans, ...rest } = (saved ?? {}) as Record<string, unknown> & { background?: StoredImage | null };
  const settings = Value.Default(DashboardSettings, Value.Clean(DashboardSettings, structuredClone(rest))) as DashboardSettings;
  const upgraded = Array.isArray(plans) && plans.length > 0
    ? (plans as StoredPlan[])
    : [{ id: 1, name: '', background: background ?? null }];
  return { ...settings, plans: upgraded, device_plans: (device_plans as Record<string, number> | undefined) ?? {} };
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

export function dashboardRoutes(deps: Pick<ApiDeps, 'audit' | 'clock' | 'config' | 'configRepo' | 'devices' | 'users'>) {
  const audit = auditor(deps.audit, deps.clock);
  const dir = join(deps.config.data_dir, 'dashboard');
  const signer = createUrlSigner();

  const stored = (): StoredDashboard => upgradeDashboard(deps.configRepo.get<Record<string, unknown>>(KEY));
  const save = (settings: StoredDashboard) => deps.configRepo.set(KEY, settings, deps.clock.now());
  function planIn(settings: StoredDashboard, id: number): StoredPlan {
    const plan = settings.plans.find((p) => p.id === id);
    if (!plan) throw new AppError('NOT_FOUND', { plan: id }, `there is no floor plan ${id} / 没有编号为 ${id} 的平面图`);
    return plan;
  }
  const imageInfo = (image: StoredImage, url: string) => ({
    content_type: image.content_type, size: image.size, uploaded_at: iso(image.uploaded_at), url: signer.sign(url, image.uploaded_at, deps.clock.now()),
  });

  function view(settings: StoredDashboard): DashboardView {
    const { plans, device_plans, ...rest } = settings;
    const updatedAt = deps.configRepo.updatedAt(KEY);
    const first = plans[0]!;
    return {
      ...rest,
      background: first.background && imageInfo(first.background, BG_URL),
      plans: plans.map((p) => ({ id: p.id, name: p.name, background: p.background && imageInfo(p.background, planBgUrl(p.id)) })),
      device_plans,
      updated_at: updatedAt ? iso(updatedAt) : null,
      timezone: deps.config.site.timezone,
      language: deps.config.site.language,
    };
  }

  /** What the audit log keeps (API-5): the settings without the images' short-lived signed URLs. */
  function audited(settings: StoredDashboard) {
    const { plans, device_plans: _placements, ...rest } = settings;
    return { ...rest, plans: plans.map((p) => ({ id: p.id, name: p.name, background: p.background && { content_type: p.background.content_type, size: p.background.size, uploaded_at: iso(p.background.uploaded_at) } })) };
  }
  const auditedPlan = (plan: StoredPlan | undefined) => (plan ? { id: plan.id, name: plan.name, background: plan.background && { content_type: plan.background.content_type, size: plan.background.size, uploaded_at: iso(plan.background.uploaded_at) } } : null);

  async function receiveImage(request: FastifyRequest): Promise<{ data: Buffer; contentType: string; ext: string }> {
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
    return { data, ...type };
  }

  /** Stores the image of plan `id` (plan 1 keeps the single-plan file name `background.*`). */
  async function setImage(request: FastifyRequest, id: number): Promise<DashboardView> {
    planIn(stored(), id); // an unknown plan is refused before the upload is read
    const image = await receiveImage(request);
    await mkdir(dir, { recursive: true });
    const name = `${id === 1 ? 'background' : `plan-${id}`}.${image.ext}`;
    await writeFile(join(dir, `${name}.tmp`), image.data);
    await rename(join(dir, `${name}.tmp`), join(dir, name));
    const before = stored();
    const old = planIn(before, id);
    const plan: StoredPlan = { ...old, background: { content_type: image.contentType, size: image.data.length, uploaded_at: deps.clock.now(), file: name } };
    const after = { ...before, plans: before.plans.map((p) => (p.id === id ? plan : p)) };
    save(after);
    if (old.background && old.background.file !== name) await rm(join(dir, old.background.file), { force: true });
    audit(request, 'config.dashboard.background', `${KEY}.plan.${id}`, auditedPlan(old)?.background ?? null, auditedPlan(plan)?.background ?? null);
    return view(after);
  }

  async function sendImage(request: FastifyRequest, reply: FastifyReply, url: string, pick: (s: StoredDashboard) => StoredPlan | undefined) {
    if (!signer.verify(url, request.query as Record<string, unknown>, deps.clock.now())) {
      const token = bearerToken(request);
      if (!token) throw new AppError('AUTH_TOKEN_EXPIRED', 'this image link has expired or is not signed; reload the settings for a fresh one, or send Authorization: Bearer <token>');
      deps.users.authenticate(token); // any valid session or kiosk token may see the plan (viewer)
    }
    const background = pick(stored())?.background;
    const path = background && join(dir, background.file);
    if (!background || !path || !(await stat(path).catch(() => null))) throw new AppError('NOT_FOUND', null, 'no floor-plan image uploaded');
    reply.header('content-type', background.content_type);
    reply.header('cache-control', 'private, max-age=86400');
    return reply.send(createReadStream(path));
  }

  async function removeImage(request: FastifyRequest, id: number) {
    const before = stored();
    const old = planIn(before, id);
    if (old.background) await rm(join(dir, old.background.file), { force: true });
    save({ ...before, plans: before.plans.map((p) => (p.id === id ? { ...p, background: null } : p)) });
    audit(request, 'config.dashboard.background', `${KEY}.plan.${id}`, auditedPlan(old)?.background ?? null, null);
    return { message: 'floor-plan image removed' };
  }

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['dashboard'];
    const admin = { access: 'admin' as const };
    const imageSummary = 'multipart/form-data, one PNG or JPEG file ≤ 5 MB';
    await api.register(multipart, { limits: { fileSize: BACKGROUND_MAX_BYTES, files: 1, fields: 0, parts: 1 } });

    api.get('/api/config/dashboard', { schema: { tags, response: { 200: DashboardView } }, config: { access: 'viewer' } }, async () => view(stored()));

    api.put('/api/config/dashboard', { schema: { tags, body: DashboardUpdate, response: { 200: DashboardView } }, config: admin }, async (request) => {
      const before = stored();
      const after = { ...before, ...request.body };
      save(after);
      audit(request, 'config.dashboard', KEY, audited(before), audited(after));
      return view(after);
    });

    // Issue 15.8: the plans themselves.
    api.post('/api/config/dashboard/plans', { schema: { tags, summary: 'add a floor plan (a building or a floor)', body: PlanWrite, response: { 201: DashboardView } }, config: admin }, async (request, reply) => {
      const before = stored();
      if (before.plans.length >= PLANS_MAX) throw new AppError('CONFLICT', { max: PLANS_MAX }, `at most ${PLANS_MAX} floor plans / 平面图最多 ${PLANS_MAX} 张`);
      const plan: StoredPlan = { id: Math.max(...before.plans.map((p) => p.id)) + 1, name: request.body.name.trim(), background: null };
      const after = { ...before, plans: [...before.plans, plan] };
      save(after);
      audit(request, 'config.dashboard.plan', `${KEY}.plan.${plan.id}`, null, auditedPlan(plan));
      return reply.status(201).send(view(after));
    });

    api.put('/api/config/dashboard/plans/:id', { schema: { tags, summary: 'rename a floor plan', params: PlanParams, body: PlanWrite, response: { 200: DashboardView } }, config: admin }, async (request) => {
      const before = stored();
      const old = planIn(before, request.params.id);
      const plan = { ...old, name: request.body.name.trim() };
      const after = { ...before, plans: before.plans.map((p) => (p.id === plan.id ? plan : p)) };
      save(after);
      audit(request, 'config.dashboard.plan', `${KEY}.plan.${plan.id}`, auditedPlan(old), auditedPlan(plan));
      return view(after);
    });

    api.delete('/api/config/dashboard/plans/:id', {
      schema: { tags, summary: 'delete a floor plan: its image goes, its devices go off the plan (they stay registered)', params: PlanParams, response: { 200: DashboardView } },
      config: admin,
    }, async (request) => {
      const before = stored();
      const old = planIn(before, request.params.id);
      if (before.plans.length === 1) throw new AppError('CONFLICT', { plan: old.id }, 'the last floor plan cannot be deleted; upload a new image instead / 最后一张平面图不能删除，可以换一张图片');
      const onIt = deps.devices.list().items.filter((d) => d.pos_x !== null && planOf(before, d.sn) === old.id).map((d) => d.sn);
      if (onIt.length) deps.devices.setPositions(onIt.map((sn) => ({ sn, x: null, y: null })));
      const device_plans = Object.fromEntries(Object.entries(before.device_plans).filter(([, id]) => id !== old.id));
      const after = { ...before, plans: before.plans.filter((p) => p.id !== old.id), device_plans };
      save(after);
      if (old.background) await rm(join(dir, old.background.file), { force: true });
      audit(request, 'config.dashboard.plan', `${KEY}.plan.${old.id}`, { ...auditedPlan(old), devices: onIt }, null);
      return view(after);
    });

    // A device is on at most one plan: placing it here takes it off the plan it was on.
    api.post('/api/config/dashboard/plans/:id/positions', {
      schema: { tags, summary: 'put devices on this plan (x, y in percent of its image) or off any plan (null), all or none', params: PlanParams, body: PlanPositions, response: { 200: DashboardView } },
      config: admin,
    }, async (request) => {
      const before = stored();
      const plan = planIn(before, request.params.id);
      const { positions } = request.body;
      const was = positions.map((p) => deps.devices.get(p.sn)).map((d) => ({ sn: d.sn, x: d.pos_x, y: d.pos_y, plan: d.pos_x === null ? null : planOf(before, d.sn) }));
      deps.devices.setPositions(positions); // all or none; names unknown serials (40001)
      const device_plans = { ...before.device_plans };
      for (const p of positions) {
        if (p.x === null) delete device_plans[p.sn];
        else device_plans[p.sn] = plan.id;
      }
      const after = { ...before, device_plans };
      save(after);
      audit(request, 'device.positions', `${KEY}.plan.${plan.id}`, was, positions.map((p) => ({ ...p, plan: p.x === null ? null : plan.id })));
      return view(after);
    });

    api.post(planBgUrl(0).replace('/0/', '/:id/'), {
      schema: { tags, summary: `upload the image of one floor plan: ${imageSummary}`, params: PlanParams, consumes: ['multipart/form-data'], response: { 200: DashboardView } },
      config: admin,
    }, async (request) => setImage(request, request.params.id));

    // Public as a route, but only with a valid signature (the URL from GET /api/config/dashboard) or a
    // viewer's Bearer header; a token in the query (?token=) is not accepted (issue 16.10).
    api.get(planBgUrl(0).replace('/0/', '/:id/'), {
      schema: { tags, summary: 'the image of one floor plan: the signed URL from GET /api/config/dashboard, or with a Bearer header', params: PlanParams },
      config: { access: 'public' },
    }, async (request, reply) => sendImage(request, reply, planBgUrl(request.params.id), (s) => s.plans.find((p) => p.id === request.params.id)));

    api.delete(planBgUrl(0).replace('/0/', '/:id/'), { schema: { tags, params: PlanParams, response: { 200: Message } }, config: admin }, async (request) => removeImage(request, request.params.id));

    // The single-plan routes: the first plan's image.
    api.post(BG_URL, {
      schema: { tags, summary: `upload the first floor plan's image: ${imageSummary}`, consumes: ['multipart/form-data'], response: { 200: DashboardView } },
      config: admin,
    }, async (request) => setImage(request, stored().plans[0]!.id));

    api.get(BG_URL, {
      schema: { tags, summary: "the first floor plan's image: the signed URL from GET /api/config/dashboard, or with a Bearer header" },
      config: { access: 'public' },
    }, async (request, reply) => sendImage(request, reply, BG_URL, (s) => s.plans[0]));

    api.delete(BG_URL, { schema: { tags, response: { 200: Message } }, config: admin }, async (request) => removeImage(request, stored().plans[0]!.id));
  };
}
