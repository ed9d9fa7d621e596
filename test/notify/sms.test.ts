// ALM-5: Aliyun SMS SendSms against a local server that checks the request signature the way
// Aliyun's API does: recomputed from the received query with the caller's AccessKeySecret.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { CHANNELS, testSend } from '../../appliance/notify/channels/index.ts';
import { aliyunSignature } from '../../appliance/notify/channels/sms.ts';
import { renderAlarmMessage } from '../../appliance/notify/message.ts';
import { aliyunSpecEncode, assertAppError, closedPort, notice, startHttpServer, type LocalHttpServer } from './support.ts';

const ACCESS_KEYS: Record<string, string> = { LTAI5tTestKeyId: 'testAccessKeySecret/+=' };
const rendered = renderAlarmMessage(notice, { language: 'zh-CN', timezone: 'Asia/Shanghai' });

// ---- the server side, written from Aliyun's documentation, not from the client code ----

/** Decodes the raw query as Aliyun's gateway does (%XX; '+' is a literal only when encoded). */
function parseRawQuery(rawUrl: string): Map<string, string> {
  const query = rawUrl.slice(rawUrl.indexOf('?') + 1);
  return new Map(
    query.split('&').map((pair) => {
      const [name, value = ''] = pair.split('=');
      return [decodeURIComponent(name), decodeURIComponent(value)];
    }),
  );
}

type Verdict = { status: number; json: Record<string, string> };
const seenNonces = new Set<string>();
let businessAnswer: (params: Map<string, string>) => Verdict = () => ({
  status: 200,
  json: { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'F655A8D5-B967-440B-8683-DAD6FF8DE990' },
});

function aliyunGateway(rawUrl: string, method: string): Verdict {
  const params = parseRawQuery(rawUrl);
  const signature = params.get('Signature');
  params.delete('Signature');
  for (const name of ['AccessKeyId', 'Action', 'Format', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version']) {
    if (!params.has(name)) return { status: 400, json: { Code: 'MissingParameter', Message: `${name} is mandatory for this action.` } };
  }
  const secret = ACCESS_KEYS[params.get('AccessKeyId')!];
  if (secret === undefined) return { status: 404, json: { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' } };
  const canonical = [...params.keys()]
    .sort()
    .map((name) => `${aliyunSpecEncode(name)}=${aliyunSpecEncode(params.get(name)!)}`)
    .join('&');
  const stringToSign = `${method}&${aliyunSpecEncode('/')}&${aliyunSpecEncode(canonical)}`;
  const expected = createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
  if (signature !== expected) {
    return { status: 400, json: { Code: 'SignatureDoesNotMatch', Message: `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}` } };
  }
  const timestamp = params.get('Timestamp')!;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(timestamp) || Math.abs(Date.parse(timestamp) - Date.now()) > 15 * 60_000) {
    return { status: 400, json: { Code: 'InvalidTimeStamp.Expired', Message: 'Specified time stamp or date value is expired.' } };
  }
  if (seenNonces.has(params.get('SignatureNonce')!)) {
    return { status: 400, json: { Code: 'SignatureNonceUsed', Message: 'Specified signature nonce was used already.' } };
  }
  seenNonces.add(params.get('SignatureNonce')!);
  return businessAnswer(params);
}

let server: LocalHttpServer;
let lastParams: Map<string, string> | undefined;
before(async () => {
  server = await startHttpServer((request) => {
    const verdict = aliyunGateway(request.rawUrl, request.method);
    lastParams = parseRawQuery(request.rawUrl);
    return verdict;
  });
});
after(() => server.close());

const settingsFor = (overrides: Record<string, unknown> = {}) =>
  CHANNELS.sms.validate({
    access_key_id: 'LTAI5tTestKeyId',
    access_key_secret: ACCESS_KEYS.LTAI5tTestKeyId,
    sign_name: '元芯传感',
    template_code: 'SMS_123456789',
    phone_numbers: ['13800138000', '13900139000'],
    endpoint: `${server.url}/`,
    ...overrides,
  });

describe('Aliyun SMS', () => {
  test('the signature matches the example in Aliyun’s signature documentation', () => {
    const params = {
      Timestamp: '2016-02-23T12:46:24Z',
      Format: 'XML',
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      Version: '2014-05-26',
      SignatureVersion: '1.0',
    };
    assert.equal(aliyunSignature(params, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  test('SendSms is accepted by a server that recomputes the signature from the received query', async () => {
    const result = await CHANNELS.sms.send(notice, rendered, settingsFor(), { timeoutMs: 1000 });
    assert.deepEqual(result, { ok: true, detail: 'OK BizId=900619746936498440^0' });
    const params = lastParams!;
    assert.equal(params.get('Action'), 'SendSms');
    assert.equal(params.get('Version'), '2017-05-25');
    assert.equal(params.get('SignatureMethod'), 'HMAC-SHA1');
    assert.equal(params.get('SignatureVersion'), '1.0');
    assert.equal(params.get('Format'), 'JSON');
    assert.equal(params.get('RegionId'), 'cn-hangzhou');
    assert.equal(params.get('PhoneNumbers'), '13800138000,13900139000');
    assert.equal(params.get('SignName'), '元芯传感');
    assert.equal(params.get('TemplateCode'), 'SMS_123456789');
    assert.deepEqual(JSON.parse(params.get('TemplateParam')!), { device: '1号车间探测器', type: '浓度高报', value: '3516.1 ppm' });
  });

  test('each request has a fresh nonce, so a second send is accepted too', async () => {
    const settings = settingsFor();
    assert.equal((await CHANNELS.sms.send(notice, rendered, settings, { timeoutMs: 1000 })).ok, true);
    assert.equal((await CHANNELS.sms.send(notice, rendered, settings, { timeoutMs: 1000 })).ok, true);
  });

  test('template variables can be mapped to any alarm fact', async () => {
    const settings = settingsFor({ template_params: { name: 'device', where: 'location', ppm: 'value', at: 'time', sn: 'sn' } });
    assert.equal((await CHANNELS.sms.send(notice, rendered, settings, { timeoutMs: 1000 })).ok, true);
    assert.deepEqual(JSON.parse(lastParams!.get('TemplateParam')!), {
      name: '1号车间探测器',
      where: '一车间东侧',
      ppm: '3516.1 ppm',
      at: '2026-01-01 08:30:05 UTC+8',
      sn: 'A001',
    });
  });

  test('a wrong AccessKeySecret is caught by the server’s signature check and does not retry', async () => {
    const result = await CHANNELS.sms.send(notice, rendered, settingsFor({ access_key_secret: 'not-the-secret' }), { timeoutMs: 1000 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /^SignatureDoesNotMatch: Specified signature is not matched/);
    assert.equal(!result.ok && result.retryable, false);
  });

  test('a business error is a failure with its Message; the rate limit retries, a bad number does not', async () => {
    businessAnswer = () => ({ status: 200, json: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号', RequestId: 'x' } });
    const bad = await CHANNELS.sms.send(notice, rendered, settingsFor(), { timeoutMs: 1000 });
    assert.deepEqual(bad, { ok: false, detail: 'isv.MOBILE_NUMBER_ILLEGAL: 非法手机号', retryable: false });

    businessAnswer = () => ({ status: 200, json: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发小时级流控Permits:5', RequestId: 'x' } });
    const limited = await CHANNELS.sms.send(notice, rendered, settingsFor(), { timeoutMs: 1000 });
    assert.equal(limited.ok, false);
    assert.equal(!limited.ok && limited.retryable, true);

    businessAnswer = () => ({ status: 503, json: { Code: 'ServiceUnavailable', Message: 'The request has failed due to a temporary failure of the server.' } });
    const down = await CHANNELS.sms.send(notice, rendered, settingsFor(), { timeoutMs: 1000 });
    assert.equal(!down.ok && down.retryable, true);
  });

  test('an unreachable endpoint is a retryable failure', async () => {
    const port = await closedPort();
    const result = await CHANNELS.sms.send(notice, rendered, settingsFor({ endpoint: `http://127.0.0.1:${port}/` }), { timeoutMs: 1000 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /ECONNREFUSED/);
    assert.equal(!result.ok && result.retryable, true);
  });

  test('test send maps a refusal to AppError 50004 with the server reason', async () => {
    businessAnswer = () => ({ status: 200, json: { Code: 'isv.SMS_TEMPLATE_ILLEGAL', Message: '模板不合法(不存在或被拉黑)', RequestId: 'x' } });
    const raw = {
      access_key_id: 'LTAI5tTestKeyId',
      access_key_secret: ACCESS_KEYS.LTAI5tTestKeyId,
      sign_name: '元芯传感',
      template_code: 'SMS_000',
      phone_numbers: ['13800138000'],
      endpoint: `${server.url}/`,
    };
    await assert.rejects(
      testSend('sms', raw, { language: 'zh-CN', timezone: 'Asia/Shanghai' }),
      (err) => assertAppError(err, 50004) && (err as { detail: unknown }).detail === 'isv.SMS_TEMPLATE_ILLEGAL: 模板不合法(不存在或被拉黑)',
    );
    assert.equal(JSON.parse(lastParams!.get('TemplateParam')!).device, '测试设备');
  });

  test('invalid settings list every problem under AppError 50001', () => {
    assert.throws(
      () =>
        CHANNELS.sms.validate({
          access_key_id: '',
          access_key_secret: '',
          template_code: 'SMS_1',
          phone_numbers: ['13800138000', 'call me'],
          template_params: { device: 'nickname' },
          endpoint: 'dysmsapi.aliyuncs.com',
        }),
      (err) =>
        assertAppError(err, 50001, ['access_key_id', 'access_key_secret', 'sign_name', 'phone_numbers.1', 'template_params.device', 'endpoint']),
    );
    assert.throws(
      () => CHANNELS.sms.validate({ access_key_id: 'id', sign_name: 's', template_code: 't', phone_numbers: [] }),
      (err) => assertAppError(err, 50001, ['access_key_secret', 'phone_numbers']),
    );
  });

  test('defaults: region cn-hangzhou, the public endpoint and device/type/value template variables', () => {
    const settings = CHANNELS.sms.validate({ access_key_id: 'id', access_key_secret: 'k', sign_name: 's', template_code: 't', phone_numbers: ['13800138000'] });
    assert.equal(settings.region_id, 'cn-hangzhou');
    assert.equal(settings.endpoint, 'https://dysmsapi.aliyuncs.com/');
    assert.deepEqual(settings.template_params, { device: 'device', type: 'type', value: 'value' });
    assert.deepEqual(CHANNELS.sms.secretFields, ['access_key_secret']);
  });
});
