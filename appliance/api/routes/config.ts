// API-1 alarm channel settings (ALM-4, ALM-5) with test send. Secrets leave only as "******"
// (API-7) and a "******" sent back keeps the stored secret; every change is audited redacted.
// Issue 16.6: that includes the key inside a robot's URL (`…/send?key=******`) and every webhook
// header value; a masked URL part is kept only while the address stays on the same host
// (core/secrets.ts restoreMaskedUrl), also for a test send of unsaved settings.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.ts';
import { iso } from '../../contract/api.ts';
import { AlarmSettingsSchema, CHANNEL_KINDS, type ChannelKind } from '../../contract/alarm.ts';
import { keepRedactedSecrets } from '../../core/secrets.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

const KEY = 'alarm';
const AlarmConfigView = Type.Object({ ...AlarmSettingsSchema.properties, updated_at: Type.Union([Type.String(), Type.Null()]) });
const TestRequest = Type.Object(
  {
    channel: Type.Union(CHANNEL_KINDS.map((kind) => Type.Literal(kind))),
    /** Settings to try before saving them; "******" keeps the stored secret. Default: the saved ones. */
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export function configRoutes(deps: Pick<ApiDeps, 'alarmSettings' | 'audit' | 'channels' | 'clock' | 'configRepo'>) {
  const audit = auditor(deps.audit, deps.clock);
  const { alarmSettings, configRepo } = deps;
  const view = () => ({ ...alarmSettings.redacted(), updated_at: configRepo.updatedAt(KEY) ? iso(configRepo.updatedAt(KEY)) : null });

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['config'];
    const admin = { access: 'admin' as const, invalid: 'ALARM_CONFIG_INVALID' as const };

    api.get('/api/config/alarm', { schema: { tags, response: { 200: AlarmConfigView } }, config: admin }, async () => view());

    api.put('/api/config/alarm', {
      schema: { tags, summary: 'save rules, debounce, schedule and channels (50001 lists every problem)', body: AlarmSettingsSchema, response: { 200: AlarmConfigView } },
      config: admin,
    }, async (request) => {
      const before = alarmSettings.redacted();
      alarmSettings.save(request.body);
      const after = view();
      audit(request, 'config.alarm', KEY, before, { ...after, updated_at: undefined });
      return after;
    });

    api.post('/api/config/alarm/test', {
      schema: { tags, summary: 'send a test notice through one channel now', body: TestRequest, response: { 200: Type.Object({ message: Type.String(), detail: Type.String() }) } },
      config: admin,
    }, async (request) => {
      const kind = request.body.channel as ChannelKind;
      const saved = alarmSettings.current().channels[kind]?.settings;
      const settings = request.body.settings ? keepRedactedSecrets(request.body.settings, saved ?? {}, deps.channels.secretsOf(kind)) : saved;
      if (!settings) throw new AppError('ALARM_CONFIG_INVALID', { channel: kind }, `no ${kind} channel saved; send its settings to test them`);
      const result = await deps.channels.testSend(kind, settings);
      return { message: `test sent through ${kind}`, detail: String(result.detail ?? '') };
    });
  };
}
