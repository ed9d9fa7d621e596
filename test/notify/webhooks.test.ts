// ALM-5/ALM-6: DingTalk, Feishu, WeCom and generic webhooks against a real local HTTP server.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { CHANNELS, deliverNotice, testSend } from '../../appliance/notify/channels/index.ts';
import { renderAlarmMessage } from '../../appliance/notify/message.ts';
import { assertAppError, closedPort, notice, startHttpServer, type Answer, type LocalHttpServer, type Received } from './support.ts';

const rendered = renderAlarmMessage(notice, { language: 'zh-CN', timezone: 'Asia/Shanghai' });
const options = { timeoutMs: 1000 };

// One server for the suite; each test says how it answers.
let answer: (request: Received) => Answer = () => ({ status: 204 });
let server: LocalHttpServer;
before(async () => {
  server = await startHttpServer((request) => answer(request));
});
after(() => server.close());
const lastRequest = () => server.received[server.received.length - 1];

// DingTalk's algorithm, written out here independently of the channel's code.
const dingtalkSign = (timestamp: string, secret: string) =>
  createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
const feishuSign = (timestamp: string, secret: string) => createHmac('sha256', `${timestamp}\n${secret}`).digest('base64');

describe('DingTalk', () => {
  const channel = CHANNELS.dingtalk;
  const secret = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';

  test('a signed markdown message carries a timestamp and a sign DingTalk would accept', async () => {
    answer = () => ({ json: { errcode: 0, errmsg: 'ok' } });
    const settings = channel.validate({ url: `${server.url}/robot/send?access_token=tok123`, secret, at_mobiles: ['13800138000'] });
    const result = await channel.send(notice, rendered, settings, options);
    assert.deepEqual(result, { ok: true, detail: '0 ok' });

    const request = lastRequest();
    assert.equal(request.method, 'POST');
    assert.equal(request.url.pathname, '/robot/send');
    assert.equal(request.url.searchParams.get('access_token'), 'tok123');
    const timestamp = request.url.searchParams.get('timestamp')!;
    assert.ok(Math.abs(Number(timestamp) - Date.now()) < 60_000, 'timestamp in ms, now');
    assert.equal(request.url.searchParams.get('sign'), dingtalkSign(timestamp, secret));
    assert.match(request.rawUrl, /&sign=[A-Za-z0-9%]+$/, 'the sign is URL-encoded');

    const body = JSON.parse(request.body);
    assert.equal(body.msgtype, 'markdown');
    assert.equal(body.markdown.title, rendered.title);
    assert.ok(body.markdown.text.startsWith(rendered.markdown));
    assert.ok(body.markdown.text.endsWith('@13800138000'), 'mentions appear in the text too');
    assert.deepEqual(body.at, { atMobiles: ['13800138000'], isAtAll: false });
  });

  test('without a secret no timestamp or sign is added', async () => {
    answer = () => ({ json: { errcode: 0, errmsg: 'ok' } });
    const settings = channel.validate({ url: `${server.url}/robot/send?access_token=tok123` });
    assert.equal((await channel.send(notice, rendered, settings, options)).ok, true);
    assert.equal(lastRequest().url.searchParams.has('sign'), false);
    assert.equal(lastRequest().url.searchParams.has('timestamp'), false);
  });

  test('an answer with errcode ≠ 0 is a failure with errmsg as detail; only rate limits retry', async () => {
    const settings = channel.validate({ url: `${server.url}/robot/send?access_token=tok123`, secret });
    answer = () => ({ json: { errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' } });
    const refused = await channel.send(notice, rendered, settings, options);
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /^310000 sign not match/);
    assert.equal(!refused.ok && refused.retryable, false);

    answer = () => ({ json: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } });
    const limited = await channel.send(notice, rendered, settings, options);
    assert.deepEqual(limited, { ok: false, detail: '130101 send too fast, exceed 20 times per minute', retryable: true });
  });

  test('test send turns a refusal into AppError 50003 with the server reason', async () => {
    answer = () => ({ json: { errcode: 300001, errmsg: 'token is not exist' } });
    await assert.rejects(
      testSend('dingtalk', { url: `${server.url}/robot/send?access_token=bad` }, { language: 'en', timezone: 'UTC' }),
      (err) => assertAppError(err, 50003) && (err as { detail: unknown }).detail === '300001 token is not exist',
    );
    const body = JSON.parse(lastRequest().body);
    assert.match(body.markdown.title, /^\[TEST\]/);
  });
});

describe('Feishu', () => {
  const channel = CHANNELS.feishu;

  test('the body carries timestamp (seconds) and sign as Feishu verifies them', async () => {
    answer = () => ({ json: { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' } });
    const settings = channel.validate({ url: `${server.url}/open-apis/bot/v2/hook/abc`, secret: 'feishu-secret' });
    const result = await channel.send(notice, rendered, settings, options);
    assert.deepEqual(result, { ok: true, detail: '0 success' });

    const body = JSON.parse(lastRequest().body);
    assert.match(body.timestamp, /^\d{10}$/);
    assert.ok(Math.abs(Number(body.timestamp) - Date.now() / 1000) < 60);
    assert.equal(body.sign, feishuSign(body.timestamp, 'feishu-secret'));
    assert.equal(body.msg_type, 'interactive');
    assert.equal(body.card.header.title.content, rendered.title);
    assert.equal(body.card.header.template, 'red');
    assert.match(body.card.elements[0].text.content, /\*\*位置\*\*：一车间东侧/);
  });

  test('an answer with code ≠ 0 is a failure with msg as detail', async () => {
    answer = () => ({ json: { code: 19021, data: {}, msg: 'sign match fail or timestamp is not within one hour from current time' } });
    const settings = channel.validate({ url: `${server.url}/open-apis/bot/v2/hook/abc`, secret: 'wrong' });
    const result = await channel.send(notice, rendered, settings, options);
    assert.equal(result.ok, false);
    assert.match(result.detail, /^19021 sign match fail/);
    assert.equal(!result.ok && result.retryable, false);
  });
});

describe('WeCom', () => {
  const channel = CHANNELS.wecom;

  test('a markdown message goes to the robot URL with its key', async () => {
    answer = () => ({ json: { errcode: 0, errmsg: 'ok' } });
    const settings = channel.validate({ url: `${server.url}/cgi-bin/webhook/send?key=693a91f6-7xxx` });
    assert.deepEqual(await channel.send(notice, rendered, settings, options), { ok: true, detail: '0 ok' });
    const request = lastRequest();
    assert.equal(request.url.searchParams.get('key'), '693a91f6-7xxx');
    assert.deepEqual(JSON.parse(request.body), { msgtype: 'markdown', markdown: { content: rendered.markdown } });
  });

  test('an invalid key answer is a failure that does not retry, a frequency limit retries', async () => {
    const settings = channel.validate({ url: `${server.url}/cgi-bin/webhook/send?key=bad` });
    answer = () => ({ json: { errcode: 93000, errmsg: 'invalid webhook url, hint: [1735700000_1]' } });
    const bad = await channel.send(notice, rendered, settings, options);
    assert.deepEqual(bad, { ok: false, detail: '93000 invalid webhook url, hint: [1735700000_1]', retryable: false });
    answer = () => ({ json: { errcode: 45009, errmsg: 'api freq out of limit' } });
    assert.equal((await channel.send(notice, rendered, settings, options) as { retryable?: boolean }).retryable, true);
  });
});

describe('generic webhook', () => {
  const channel = CHANNELS.webhook;

  test('posts {notice, title, text} with the extra headers and an HMAC signature the receiver can check', async () => {
    answer = () => ({ status: 204 });
    const settings = channel.validate({ url: `${server.url}/hooks/mcs`, headers: { Authorization: 'Bearer abc' }, secret: 's3cret' });
    assert.deepEqual(await channel.send(notice, rendered, settings, options), { ok: true, detail: 'HTTP 204' });

    const request = lastRequest();
    assert.equal(request.headers.authorization, 'Bearer abc');
    assert.match(String(request.headers['content-type']), /^application\/json/);
    const expected = `sha256=${createHmac('sha256', 's3cret').update(request.body).digest('hex')}`;
    assert.equal(request.headers['x-mcs-signature'], expected);
    const body = JSON.parse(request.body);
    assert.deepEqual(body, { notice, title: rendered.title, text: rendered.text });
  });

  test('without a secret there is no signature header', async () => {
    answer = () => ({ status: 200, text: 'fine' });
    assert.equal((await channel.send(notice, rendered, channel.validate({ url: `${server.url}/x` }), options)).ok, true);
    assert.equal(lastRequest().headers['x-mcs-signature'], undefined);
  });

  test('5xx and 429 answers are retryable failures, 4xx and redirects are not', async () => {
    const settings = channel.validate({ url: `${server.url}/hooks/mcs` });
    const cases: [Answer, boolean, RegExp][] = [
      [{ status: 500, text: 'Internal Server Error' }, true, /^HTTP 500: Internal Server Error$/],
      [{ status: 503 }, true, /^HTTP 503$/],
      [{ status: 429, text: 'slow down' }, true, /^HTTP 429: slow down$/],
      [{ status: 400, json: { error: 'bad payload' } }, false, /^HTTP 400: \{"error":"bad payload"\}$/],
      [{ status: 404 }, false, /^HTTP 404$/],
      [{ status: 301, headers: { location: 'https://elsewhere.example/hook' } }, false, /redirected to https:\/\/elsewhere\.example\/hook/],
    ];
    for (const [reply, retryable, detail] of cases) {
      answer = () => reply;
      const result = await channel.send(notice, rendered, settings, options);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.retryable, retryable, JSON.stringify(reply));
      assert.match(result.detail, detail);
    }
  });
});

describe('dead or slow servers', () => {
  test('a server that never answers gives a retryable failure once the timeout passes', async () => {
    answer = () => 'never';
    const started = Date.now();
    const result = await CHANNELS.webhook.send(notice, rendered, CHANNELS.webhook.validate({ url: `${server.url}/slow` }), { timeoutMs: 300 });
    const elapsed = Date.now() - started;
    assert.deepEqual(result, { ok: false, detail: 'timed out after 300 ms', retryable: true });
    assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
  });

  test('a closed port gives a retryable failure at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const settings = CHANNELS.dingtalk.validate({ url: `http://127.0.0.1:${port}/robot/send?access_token=x` });
    const result = await CHANNELS.dingtalk.send(notice, rendered, settings, options);
    assert.equal(result.ok, false);
    assert.match(result.detail, /ECONNREFUSED/);
    assert.equal(!result.ok && result.retryable, true);
    assert.ok(Date.now() - started < 500);
  });

  test("the caller's abort signal ends an attempt early", async () => {
    answer = () => 'never';
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const settings = CHANNELS.feishu.validate({ url: `${server.url}/open-apis/bot/v2/hook/abc` });
    const result = await CHANNELS.feishu.send(notice, rendered, settings, { timeoutMs: 5000, signal: controller.signal });
    assert.deepEqual(result, { ok: false, detail: 'aborted', retryable: true });
  });
});

describe('webhook settings', () => {
  test('invalid settings list every problem under AppError 50001', () => {
    assert.throws(
      () => CHANNELS.dingtalk.validate({ url: 'ftp://example.com/x', secret: 123, at_mobiles: ['1380013800a'], extra: true }),
      (err) => assertAppError(err, 50001, ['url', 'secret', 'at_mobiles.0', 'extra']),
    );
    assert.throws(() => CHANNELS.feishu.validate({}), (err) => assertAppError(err, 50001, ['url']));
    assert.throws(() => CHANNELS.wecom.validate({ url: 'not a url' }), (err) => assertAppError(err, 50001, ['url']));
    assert.throws(
      () => CHANNELS.wecom.validate({ url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send' }),
      (err) => assertAppError(err, 50001, ['url']),
    );
    assert.throws(
      () => CHANNELS.webhook.validate({ url: 'https://example.com/', headers: { 'Bad Name': 'x', 'Content-Type': 'text/plain', 'X-Ok': 'a\nb' } }),
      (err) => assertAppError(err, 50001, ['headers.Bad Name', 'headers.Content-Type', 'headers.X-Ok']),
    );
    assert.throws(() => CHANNELS.webhook.validate('https://example.com/'), (err) => assertAppError(err, 50001, ['(root)']));
  });

  test('a redacted or still sealed secret is refused rather than sent as the secret', () => {
    assert.throws(
      () => CHANNELS.dingtalk.validate({ url: 'https://oapi.dingtalk.com/robot/send?access_token=x', secret: '******' }),
      (err) => assertAppError(err, 50001, ['secret']),
    );
    assert.throws(
      () => CHANNELS.webhook.validate({ url: 'https://example.com/', secret: 'enc:v1:AAAA:BBBB:CCCC' }),
      (err) => assertAppError(err, 50001, ['secret']),
    );
  });

  test('defaults fill what is not given and null means unset', () => {
    assert.deepEqual(CHANNELS.dingtalk.validate({ url: 'https://oapi.dingtalk.com/robot/send?access_token=x', secret: null }), {
      url: 'https://oapi.dingtalk.com/robot/send?access_token=x',
      at_mobiles: [],
      at_all: false,
      escalation_at_mobiles: [],
    });
    assert.deepEqual(CHANNELS.webhook.validate({ url: 'https://example.com/' }).headers, {});
  });

  test('test send validates first: invalid settings are AppError 50001 and nothing is sent', async () => {
    const before = server.received.length;
    await assert.rejects(testSend('webhook', { url: '' }, { language: 'en', timezone: 'UTC' }), (err) => assertAppError(err, 50001, ['url']));
    await assert.rejects(testSend('pager' as never, {}, { language: 'en', timezone: 'UTC' }), (err) => assertAppError(err, 50001, ['kind']));
    assert.equal(server.received.length, before);
  });

  test('a successful test send returns the server answer', async () => {
    answer = () => ({ status: 200, json: { received: true } });
    const result = await testSend('webhook', { url: `${server.url}/hooks/mcs` }, { language: 'zh-CN', timezone: 'Asia/Shanghai' });
    assert.deepEqual(result, { ok: true, detail: 'HTTP 200' });
    assert.equal(JSON.parse(lastRequest().body).notice.event, 'test');
  });
});

describe('outbox delivery', () => {
  test('stored settings are validated, the notice rendered in the site language and sent', async () => {
    answer = () => ({ json: { errcode: 0, errmsg: 'ok' } });
    const result = await deliverNotice('wecom', { url: `${server.url}/cgi-bin/webhook/send?key=k` }, notice, { language: 'en', timezone: 'UTC' }, options);
    assert.deepEqual(result, { ok: true, detail: '0 ok' });
    assert.match(JSON.parse(lastRequest().body).markdown.content, /^### \[ALARM\] High gas concentration/);
  });

  test('stored settings that no longer validate are a failure that does not retry, and nothing is sent', async () => {
    const before = server.received.length;
    const result = await deliverNotice('wecom', { url: 'nonsense' }, notice, { language: 'en', timezone: 'UTC' }, options);
    assert.equal(result.ok, false);
    assert.match(result.detail, /^invalid wecom settings: url: /);
    assert.equal(!result.ok && result.retryable, false);
    assert.equal(server.received.length, before);
  });
});
