// Issue 15.1 masking (屏蔽, ISA-18.2 shelving) over the API: operators mask and unmask detectors
// (audited, API-5; journaled on their alarms by the writer), everyone may see the masks in force.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { iso } from '../../contract/api.ts';
import { MaskBody, MaskingSettingsSchema, MaskListView, MaskViewSchema, UnmaskBody, type OpenMask } from '../../contract/masking.ts';
import { AppError } from '../../core/errors.ts';
import type { MaskService } from '../../alarms/masks.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

export const maskView = (mask: OpenMask) => ({
  id: mask.id, sn: mask.sn, reason: mask.reason, masked_by: mask.masked_by, masked_at: iso(mask.masked_at), until: iso(mask.until),
});

export function maskRoutes(deps: Pick<ApiDeps, 'audit' | 'clock' | 'devices' | 'masks'> & { masks: MaskService }) {
  const audit = auditor(deps.audit, deps.clock);
  const { masks } = deps;
  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['masks'];
    // Masking is maintenance on a running plant: it stays possible when the license is locked (LIC-4).
    const operator = { access: 'operator' as const, licensed: false };
    const Masks = Type.Object({ data: Type.Array(MaskViewSchema) });

    api.post('/api/devices/mask', { schema: { tags, summary: 'mask detectors for a bounded time (no notifications; alarms journaled)', body: MaskBody, response: { 200: Masks } }, config: operator }, async (request) => {
      const { sns, minutes, reason } = request.body;
      for (const sn of sns) deps.devices.get(sn); // an unknown detector: 404 naming it, nothing masked
      const made = await masks.mask(sns, minutes, reason, request.principal?.username ?? 'anonymous');
      const views = made.map(maskView);
      audit(request, 'device.mask', sns.join(','), null, { reason, until: views[0]?.until ?? null, minutes: minutes ?? null });
      return { data: views };
    });

    api.post('/api/devices/unmask', { schema: { tags, summary: 'end masks by hand; alarms still standing are notified now', body: UnmaskBody, response: { 200: Masks } }, config: operator }, async (request) => {
      const { sns } = request.body;
      const before = sns.flatMap((sn) => masks.of(sn) ?? []).map(maskView);
      if (!before.length) throw new AppError('NOT_FOUND', { sns }, `none of these detectors is masked / 这些探测器均未屏蔽: ${sns.join(', ')}`);
      const ended = await masks.unmask(sns, request.principal?.username ?? 'anonymous');
      audit(request, 'device.unmask', sns.join(','), before, null);
      return { data: ended.map(maskView) };
    });

    api.get('/api/masks', { schema: { tags, summary: 'the masks in force and the masking settings', response: { 200: MaskListView } }, config: { access: 'viewer' } }, async () =>
      ({ data: masks.list().map(maskView), settings: masks.settings() }));

    api.put('/api/masks/settings', { schema: { tags, summary: 'masking settings (default and longest mask, level-2 sound)', body: MaskingSettingsSchema, response: { 200: MaskingSettingsSchema } }, config: { access: 'admin' } }, async (request) => {
      const before = masks.settings();
      if (request.body.default_minutes > request.body.max_minutes) {
        throw new AppError('REQUEST_INVALID', request.body, 'default_minutes must not exceed max_minutes / 默认屏蔽时长不能超过最长时长');
      }
      masks.saveSettings(request.body);
      audit(request, 'masking.settings', null, before, request.body);
      return masks.settings();
    });
  };
}
