// ALM-13 and ALM-11 through the real parts: a detector over real MQTT, the writer's transaction,
// the outbox, a real SMTP server, local webhook receivers and a local Aliyun gateway that checks
// SMS and voice-call signatures, and the REST API. An unacknowledged level-2 (critical) alarm is
// sent to the usual recipients (with a phone call), escalates after 5 minutes on the injected clock
// to the escalation recipients of every channel, shows so in its journal, and stops once
// acknowledged — which needs a comment for a critical alarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { startAliyunGateway, startHttpServer } from '../notify/support.ts';

const SN = 'ESC-1';
const MIN = 60_000;
const KEY_ID = 'LTAI5tPlantKey';
const KEY_SECRET = 'plant-access-key-secret';

test('an unacknowledged level-2 alarm escalates after 5 min to the escalation recipients, is journaled, and stops once acknowledged (with the comment critical needs)', async () => {
  const smtp = await startSmtp();
  const shiftHook = await startHttpServer(() => ({ status: 200, json: { ok: true } }));
  const supervisorHook = await startHttpServer(() => ({ status: 200, json: { ok: true } }));
  const aliyun = await startAliyunGateway({ [KEY_ID]: KEY_SECRET }, (params) => ({
    status: 200, json: { Code: 'OK', Message: 'OK', ...(params.get('Action') === 'SendSms' ? { BizId: 'biz-1' } : { CallId: 'call-1' }) },
  }));
  const api = await startApi({ site: { timezone: 'Asia/Shanghai', language: 'en' } });
  try {
    const { testApi } = api.app;
    const aliyunAccess = { access_key_id: KEY_ID, access_key_secret: KEY_SECRET, endpoint: `${aliyun.url}/` };
    const saved = await api.call('PUT', '/api/config/alarm', {
      token: api.tokens.admin,
      body: {
        escalation: { critical: [5, 15] },
        schedule: { notify_cleared: false },
        channels: {
          email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['shift@plant.example'], escalation_to: ['supervisor@plant.example'] } },
          webhook: { enabled: true, settings: { url: `${shiftHook.url}/alarm`, escalation_url: `${supervisorHook.url}/escalation` } },
          sms: { enabled: true, settings: { ...aliyunAccess, sign_name: 'MCS', template_code: 'SMS_1', phone_numbers: ['13800000001'], escalation_phones: ['13900000009'] } },
          voice: { enabled: true, settings: { ...aliyunAccess, tts_code: 'TTS_1', called_numbers: ['13800000001'], escalation_phones: ['13900000009'] } },
        },
      },
    });
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.body.channels.voice.settings.access_key_secret, '******', 'the voice secret is redacted');
    const policy = await api.call('GET', '/api/alarms/ack-policy', { token: api.tokens.viewer });
    assert.deepEqual([policy.status, policy.body], [200, { data: { critical: true, high: false, medium: false, low: false } }]);

    const created = await api.call('POST', '/api/devices', {
      token: api.tokens.admin, body: { sn: SN, name: 'Compressor house', location: 'Unit 2', high_limit: 1000, high2_limit: 2000, calib: { k: 1, b: 0 } },
    });
    assert.equal(created.status, 201, created.text);
    const client = await connectDevice(api.url, SN, created.body.password);
    await publishReading(client, SN, { seq: 1, ts: Math.floor(api.clock.now() / 1000), v_raw: 2600 });
    const [alarm] = (await api.call('GET', `/api/alarms?sn=${SN}`, { token: api.tokens.viewer })).body.data;
    assert.deepEqual([alarm.type, alarm.level, alarm.priority, alarm.isa_state], ['HIGH', 2, 'critical', 'active_unacknowledged']);

    // The usual recipients: e-mail, webhook, SMS, and — critical — a phone call.
    const calls = (action: string, number: string) => aliyun.accepted.filter((p) => p.get('Action') === action && (p.get('PhoneNumbers') ?? p.get('CalledNumber')) === number);
    await eventually(() => smtp.mails.length === 1 && shiftHook.received.length === 1 && calls('SendSms', '13800000001').length === 1
      && calls('SingleCallByTts', '13800000001').length === 1, 5000, 'the first notifications');
    assert.deepEqual(smtp.mails[0].to, ['shift@plant.example']);
    assert.equal(aliyun.codes.filter((code) => code !== 'OK').length, 0, 'every Aliyun request correctly signed');

    // 5 minutes on the injected clock, nobody acknowledged: step 1 to the escalation recipients.
    api.clock.advance(5 * MIN - 1000);
    assert.deepEqual(testApi.runEscalation(), [], 'not before 5 minutes');
    api.clock.advance(1000);
    assert.deepEqual(testApi.runEscalation(), [{ alarmId: alarm.id, step: 1, channels: ['email', 'webhook', 'sms', 'voice'] }]);
    await eventually(() => smtp.mails.length === 2 && supervisorHook.received.length === 1 && calls('SendSms', '13900000009').length === 1
      && calls('SingleCallByTts', '13900000009').length === 1, 5000, 'the escalation to every channel');
    assert.deepEqual(smtp.mails[1].to, ['supervisor@plant.example']);
    assert.match(smtp.mails[1].raw, /Subject: \[ESCALATION step 1\]/);
    assert.match(smtp.mails[1].raw, /Compressor house \(ESC-1\)/);
    const hook = JSON.parse(supervisorHook.received[0].body);
    assert.equal(hook.notice.escalation, 1);
    assert.match(hook.title, /^\[ESCALATION step 1\]/);
    assert.equal(shiftHook.received.length, 1, 'the usual webhook is not sent the escalation');
    assert.deepEqual(JSON.parse(calls('SingleCallByTts', '13900000009')[0].get('TtsParam')!).location, 'Unit 2');
    assert.equal(aliyun.codes.filter((code) => code !== 'OK').length, 0);

    // The journal: the step and each channel's delivery.
    const deliveries = () => testApi.alarmJournal(alarm.id).filter((e) => e.kind === 'notification' && /^escalation step 1: sent/.test(e.detail ?? ''));
    await eventually(() => deliveries().length === 4, 5000, 'the escalation deliveries in the journal');
    const journal = (await api.call('GET', `/api/alarms/${alarm.id}/journal`, { token: api.tokens.viewer })).body.data as { kind: string; step?: number; detail: string }[];
    const step = journal.filter((e) => e.kind === 'escalated');
    assert.deepEqual(step.map((e) => [e.step, e.detail]), [[1, 'step 1, 5 min unacknowledged: to the escalation recipients of email, webhook, sms, voice']]);

    // ALM-11: a critical alarm is not acknowledged without a comment — one or in bulk.
    api.clock.advance(2 * MIN);
    const bare = await api.call('POST', `/api/alarms/${alarm.id}/ack`, { token: api.tokens.operator, body: {} });
    assert.deepEqual([bare.status, bare.body.code], [400, 50005]);
    assert.match(bare.body.message, /a comment is required to acknowledge critical priority alarm #\d+/);
    assert.match(bare.body.message, /确认优先级为「紧急」的报警 #\d+ 须填写处理说明/);
    const bulk = await api.call('POST', '/api/alarms/ack', { token: api.tokens.operator, body: { ids: [alarm.id], comment: '   ' } });
    assert.deepEqual([bulk.status, bulk.body.code], [400, 50005]);
    assert.equal(testApi.alarmRecord(alarm.id)!.ack_at, null, 'still unacknowledged');
    const acked = await api.call('POST', `/api/alarms/${alarm.id}/ack`, { token: api.tokens.operator, body: { comment: 'compressor seal leaking, isolated' } });
    assert.equal(acked.status, 200, acked.text);

    // Acknowledged: step 2 (15 min) never comes.
    api.clock.advance(60 * MIN);
    assert.deepEqual(testApi.runEscalation(), []);
    await testApi.notificationsSettled();
    assert.equal(smtp.mails.length, 2);
    assert.equal(supervisorHook.received.length, 1);
    assert.equal(calls('SingleCallByTts', '13900000009').length, 1);
    const kinds = testApi.alarmJournal(alarm.id).filter((e) => e.kind !== 'notification').map((e) => e.kind);
    assert.deepEqual(kinds, ['raised', 'escalated', 'acknowledged']);
    await client.endAsync();
  } finally {
    await api.stop();
    await smtp.close();
    await shiftHook.close();
    await supervisorHook.close();
    await aliyun.close();
  }
});
