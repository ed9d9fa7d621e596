// Issue 17.7 (SYNC-7, API-1, API-5, API-7): the cloud uplink's settings, its status per target, a
// connection test and pause/resume. Secrets leave only as "******", and a "******" sent back keeps
// the stored secret only for the same target at the same address (sync/settings.ts, issue 16.6).
// Every change is audited (`config.uplink` with the targets keyed by id, so the log reads
// `targets.emqx.url: old → new`; `uplink.pause` / `uplink.resume`). Registered only when app.ts
// hands the API an uplink (deps.uplink).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isoOrNull } from '../../contract/api.ts';
import {
  AliyunTargetSchema, HttpsTargetSchema, MqttTargetSchema, UPLINK_CONFIG_KEY, UPLINK_TARGET_ID_PATTERN, UplinkSettingsSchema, UplinkStatusSchema,
} from '../../contract/uplink.ts';
import { AppError } from '../../core/errors.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

/** A test that has not answered by then is reported as failed (the transport keeps its own timeouts). */
const TEST_TIMEOUT_MS = 30_000;

/** The defaults of a new target of each kind, so the admin form has one source of them (the contract). */
const TARGET_DEFAULTS = {
  mqtt: Value.Default(MqttTargetSchema, { kind: 'mqtt' }),
  aliyun: Value.Default(AliyunTargetSchema, { kind: 'aliyun' }),
  https: Value.Default(HttpsTargetSchema, { kind: 'https' }),
};

const UplinkConfigView = Type.Object({
  ...UplinkSettingsSchema.properties,
  effective_box_id: Type.String({ description: 'box_id, or the one derived from the machine id when box_id is empty' }),
  updated_at: Type.Union([Type.String(), Type.Null()]),
  defaults: Type.Record(Type.String(), Type.Unknown(), { description: 'the defaults of a new target of each kind' }),
});

/** A target as sent: only its kind is checked here, the rest against the kind's own schema by the store (a union explains nothing). */
const TargetInput = Type.Object(
  { kind: Type.String({ description: 'mqtt, aliyun or https; the other fields as in contract/uplink.ts' }) },
  { additionalProperties: true },
);
const SettingsInput = Type.Object(
  {
    box_id: Type.Optional(Type.String()),
    targets: Type.Optional(Type.Array(TargetInput, { maxItems: UplinkSettingsSchema.properties.targets.maxItems })),
    // What GET answers besides the settings may be sent back as it came; it is ignored.
    effective_box_id: Type.Optional(Type.Unknown()),
    updated_at: Type.Optional(Type.Unknown()),
    defaults: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
const TestResult = Type.Object({ ok: Type.Boolean(), message: Type.String() });
const PauseResult = Type.Object({ id: Type.String(), paused: Type.Boolean() });
const IdParams = Type.Object({ id: Type.String({ pattern: UPLINK_TARGET_ID_PATTERN }) });

export function uplinkRoutes(deps: Pick<ApiDeps, 'audit' | 'clock' | 'configRepo' | 'uplink'> & { uplink: NonNullable<ApiDeps['uplink']> }) {
  const audit = auditor(deps.audit, deps.clock);
  const { settings, control } = deps.uplink;
  const view = () => ({
    ...settings.redacted(),
    effective_box_id: settings.boxId(),
    updated_at: isoOrNull(deps.configRepo.updatedAt(UPLINK_CONFIG_KEY) || null),
    defaults: TARGET_DEFAULTS,
  });

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['uplink'];
    const admin = { access: 'admin' as const, invalid: 'UPLINK_CONFIG_INVALID' as const };

    api.get('/api/config/uplink', {
      schema: { tags, summary: 'the cloud sync targets; secrets as "******"', response: { 200: UplinkConfigView } },
      config: admin,
    }, async () => view());

    api.put('/api/config/uplink', {
      schema: {
        tags, body: SettingsInput, response: { 200: UplinkConfigView },
        summary: 'save the box id and the targets (UplinkSettings); "******" keeps a stored secret of the same target at the same address; 70001 lists every problem',
      },
      config: admin,
    }, async (request) => {
      const { box_id, targets } = request.body;
      const before = settings.auditView();
      settings.save({ ...(box_id !== undefined ? { box_id } : {}), ...(targets !== undefined ? { targets } : {}) });
      audit(request, 'config.uplink', UPLINK_CONFIG_KEY, before, settings.auditView());
      control.reload(); // targets are started, changed or stopped
      return view();
    });

    api.get('/api/system/uplink', {
      schema: { tags, summary: 'per target: connection, backlog per lane, lag, pace, drain estimate, bytes today (SYNC-7)', response: { 200: UplinkStatusSchema } },
      config: { access: 'operator' },
    }, async () => control.status());

    api.post('/api/system/uplink/test', {
      schema: {
        tags, body: TargetInput, response: { 200: TestResult },
        summary: 'connect to a target as the form has it (unsaved; "******" filled from the saved target of the same id and address) and say whether it works',
      },
      config: admin,
    }, async (request) => {
      const target = settings.resolveTarget(request.body);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ ok: boolean; message: string }>((resolve) => {
        timer = setTimeout(() => resolve({
          ok: false, message: `no answer within ${TEST_TIMEOUT_MS / 1000} s / ${TEST_TIMEOUT_MS / 1000} 秒内无应答`,
        }), TEST_TIMEOUT_MS);
      });
      try {
        return await Promise.race([control.test(target), timeout]);
      } catch (err) {
        // A refused connection is the answer to the question asked, not a failure of the API.
        request.log.warn({ err, target: target.id }, 'cloud sync connection test failed');
        return { ok: false, message: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    });

    for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
      api.post(`/api/system/uplink/:id/${action}`, {
        schema: {
          tags, params: IdParams, response: { 200: PauseResult },
          summary: paused ? 'stop sending to a target (the backlog keeps growing, kept after a restart)' : 'send to a paused target again',
        },
        config: admin,
      }, async (request) => {
        const { id } = request.params;
        const before = settings.load().targets.find((t) => t.id === id);
        if (!before || !settings.setPaused(id, paused)) {
          throw new AppError('UPLINK_TARGET_NOT_FOUND', { id }, `no cloud sync target "${id}" / 没有云端同步目标“${id}”`);
        }
        audit(request, `uplink.${action}`, id, { paused: before.paused }, { paused });
        control.setPaused(id, paused);
        return { id, paused };
      });
    }
  };
}
