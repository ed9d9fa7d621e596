// ALM-13: the Aliyun voice-call channel (dyvmsapi SingleCallByTts) against a local gateway that
// checks the request signature as Aliyun does; its escalation recipients; its secret sealed at rest;
// and the policy that calls only for critical alarms.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmRecord } from '../../appliance/contract/alarm.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { createSecretBox, REDACTED } from '../../appliance/core/secrets.ts';
import { createAlarmSettings } from '../../appliance/notify/alarm-settings.ts';
import { CHANNELS, deliverNotice, testSend } from '../../appliance/notify/channels/index.ts';
import { renderAlarmMessage } from '../../appliance/notify/message.ts';
import { channelsFor, DEFAULT_POLICY } from '../../appliance/notify/policy.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { tempDir } from '../helpers/appliance.ts';
import { assertAppError, closedPort, notice, startAliyunGateway, type AliyunGateway } from './support.ts';

const KEY_ID = 'LTAI5tVoiceKeyId';
const KEY_SECRET = 'voiceAccessKeySecret/+=';
const site = { language: 'zh-CN' as const, timezone: 'Asia/Shanghai' };
const level2 = { ...notice, level: 2, gas: 'CH4' };

let gateway: AliyunGateway;
let answerFor: (number: string) => { status: number; json: Record<string, string> } | undefined = () => undefined;
before(async () => {
  gateway = await startAliyunGateway({ [KEY_ID]: KEY_SECRET }, (params) =>
    answerFor(params.get('CalledNumber')!) ?? { status: 200, json: { Code: 'OK', Message: 'OK', CallId: `call-${params.get('CalledNumber')}` } });
});
after(() => gateway.close());

const settings = (extra: Record<string, unknown> = {}) => ({
  access_key_id: KEY_ID,
  access_key_secret: KEY_SECRET,
  tts_code: 'TTS_272265079',
  called_numbers: ['13800000001', '13800000002'],
  escalation_phones: ['13900000009'],
  endpoint: `${gateway.url}/`,
  ...extra,
});

function send(input: Record<string, unknown>, alarm = level2) {
  const valid = CHANNELS.voice.validate(input);
  return CHANNELS.voice.send(alarm, renderAlarmMessage(alarm, site), valid, { timeoutMs: 5000 });
}

test('a critical alarm calls each number with a signed SingleCallByTts: detector, location, gas and level in TtsParam', async () => {
  const before = gateway.accepted.length;
  const result = await send(settings({ called_show_number: '057100005678' }));
  assert.deepEqual(result, { ok: true, detail: '13800000001: OK CallId=call-13800000001; 13800000002: OK CallId=call-13800000002' });
  const calls = gateway.accepted.slice(before);
  assert.deepEqual(calls.map((p) => p.get('CalledNumber')), ['13800000001', '13800000002']);
  for (const params of calls) {
    assert.equal(params.get('Action'), 'SingleCallByTts');
    assert.equal(params.get('Version'), '2017-05-25');
    assert.equal(params.get('TtsCode'), 'TTS_272265079');
    assert.equal(params.get('CalledShowNumber'), '057100005678');
    assert.equal(params.get('PlayTimes'), '3');
    const said = JSON.parse(params.get('TtsParam')!);
    assert.deepEqual(Object.keys(said), ['detector', 'location', 'gas', 'level']);
    assert.deepEqual([said.detector, said.location, said.gas], ['1号车间探测器', '一车间东侧', 'CH4']);
    assert.match(said.level, /二级/, 'the second gas level (GB/T 50493), in the site language');
  }
  assert.notEqual(calls[0].get('SignatureNonce'), calls[1].get('SignatureNonce'), 'a fresh nonce per call');
});

test('without a shown number the call is made in public mode (no CalledShowNumber)', async () => {
  const before = gateway.accepted.length;
  assert.equal((await send(settings({ called_numbers: ['13800000003'] }))).ok, true);
  assert.equal(gateway.accepted[before].has('CalledShowNumber'), false);
});

test('a wrong AccessKeySecret is refused by the gateway (SignatureDoesNotMatch) and not retried', async () => {
  const result = await send(settings({ access_key_secret: 'not-the-secret', called_numbers: ['13800000004'] }));
  assert.deepEqual(result, { ok: false, detail: '13800000004: SignatureDoesNotMatch: Specified signature is not matched with our calculation.', retryable: false });
  assert.equal(gateway.codes.at(-1), 'SignatureDoesNotMatch');
});

test('one number refused fails the attempt with each number\'s result; a rate limit is retried, a bad number is not', async () => {
  answerFor = (number) => number === '13800000002' ? { status: 200, json: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发流控' } } : undefined;
  const limited = await send(settings());
  assert.equal(limited.ok, false);
  assert.match(limited.detail, /^13800000001: OK CallId=call-13800000001; 13800000002: isv\.BUSINESS_LIMIT_CONTROL: 触发流控$/);
  assert.equal(!limited.ok && limited.retryable, true);
  answerFor = (number) => number === '13800000002' ? { status: 200, json: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '号码格式非法' } } : undefined;
  const illegal = await send(settings());
  assert.equal(!illegal.ok && illegal.retryable, false);
  answerFor = () => undefined;
});

test('an escalation step calls the escalation phones, not the usual numbers, and says which step', async () => {
  const before = gateway.accepted.length;
  const result = await deliverNotice('voice', settings({ tts_params: { step: 'escalation', detector: 'device' } }), { ...level2, escalation: 2 }, site, { timeoutMs: 5000 });
  assert.equal(result.ok, true);
  const calls = gateway.accepted.slice(before);
  assert.deepEqual(calls.map((p) => p.get('CalledNumber')), ['13900000009']);
  assert.deepEqual(JSON.parse(calls[0].get('TtsParam')!), { step: '报警升级 第2级', detector: '1号车间探测器' });
  const none = await deliverNotice('voice', settings({ escalation_phones: [] }), { ...level2, escalation: 1 }, site, { timeoutMs: 5000 });
  assert.deepEqual(none, { ok: false, detail: 'no escalation recipients in the voice settings', retryable: false });
});

test('the network down is a retryable failure; the test send reports it with code 50006', async () => {
  const port = await closedPort();
  const down = await send(settings({ endpoint: `http://127.0.0.1:${port}/`, called_numbers: ['13800000005'] }));
  assert.equal(!down.ok && down.retryable, true);
  await assert.rejects(testSend('voice', settings({ endpoint: `http://127.0.0.1:${port}/` }), { language: 'en', timezone: 'UTC' }), (err) => assertAppError(err, 50006));
});

test('the settings are validated at the edge, every problem listed', () => {
  assert.throws(
    () => CHANNELS.voice.validate(settings({ access_key_secret: '', called_numbers: ['12ab'], escalation_phones: ['x'], endpoint: 'https://dyvmsapi.aliyuncs.com/?a=1', play_times: 4, called_show_number: '05 71' })),
    (err) => assertAppError(err, 50001, ['access_key_secret', 'called_numbers.0', 'escalation_phones.0', 'endpoint', 'play_times', 'called_show_number']),
  );
  assert.throws(() => CHANNELS.voice.validate(settings({ called_numbers: [] })), (err) => assertAppError(err, 50001, ['called_numbers']));
  const valid = CHANNELS.voice.validate({ access_key_id: KEY_ID, access_key_secret: 'x', tts_code: 'TTS_1', called_numbers: ['13800000001'] });
  assert.deepEqual([valid.endpoint, valid.region_id, valid.play_times, valid.escalation_phones], ['https://dyvmsapi.aliyuncs.com/', 'cn-hangzhou', 3, []]);
});

test('the AccessKeySecret is sealed at rest and redacted for display, like the other channel secrets', () => {
  const temp = tempDir();
  const db = openDb(dbFileIn(temp.dir));
  try {
    const store = createAlarmSettings({ config: createConfigRepository(db), box: createSecretBox(temp.dir), clock: manualClock() });
    store.save({ channels: { voice: { enabled: true, settings: settings() } } });
    const raw = JSON.stringify(createConfigRepository(db).get('alarm'));
    assert.ok(!raw.includes(KEY_SECRET), 'not stored in clear');
    assert.equal(store.redacted().channels.voice!.settings.access_key_secret, REDACTED);
    assert.equal(store.current().channels.voice!.settings.access_key_secret, KEY_SECRET);
  } finally {
    db.close();
    temp.remove();
  }
});

test('the policy calls only for a critical alarm raised or rising to it, never for a clearing or a lower priority', () => {
  const alarm = (fields: Partial<AlarmRecord>): AlarmRecord => ({
    id: 1, sn: 'A001', source: 'A001', type: 'HIGH', state: 'active', level: 2, priority: 'critical', latched: 0, value: 60, threshold: 50, peak: 60,
    detail: null, triggered_at: Date.UTC(2026, 0, 1), cleared_at: null, repeat_count: 0, notified_at: Date.UTC(2026, 0, 1), ack_at: null, ack_by: null,
    ack_comment: null, updated_at: Date.UTC(2026, 0, 1), ...fields,
  });
  const notify = { policy: DEFAULT_POLICY, channels: ['email', 'voice'], timezone: 'UTC' };
  assert.deepEqual(channelsFor({ kind: 'raised', alarm: alarm({}) }, notify), ['email', 'voice']);
  assert.deepEqual(channelsFor({ kind: 'level', alarm: alarm({}) }, notify), ['email', 'voice']);
  assert.deepEqual(channelsFor({ kind: 'raised', alarm: alarm({ level: 1, priority: 'high' }) }, notify), ['email']);
  assert.deepEqual(channelsFor({ kind: 'cleared', alarm: alarm({ state: 'cleared', cleared_at: Date.UTC(2026, 0, 1, 1) }) }, notify), ['email']);
});
