// Issue 16.6 (API-7), the fast part: keys inside URLs and webhook header values are sealed at
// rest, masked for the API, and a masked value sent back keeps the stored one — only while the
// address stays on the same scheme, host and port.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createSecretBox, hasMaskedPart, keepRedactedSecrets, maskUrl, openSecrets, redact, REDACTED, restoreMaskedUrl, sealSecrets,
} from '../../appliance/core/secrets.ts';
import { CHANNELS } from '../../appliance/notify/channels/index.ts';
import { maskUrlsIn } from '../../appliance/api/audit.ts';
import { assertAppError } from './support.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-url-secrets-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const WECOM = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
const DINGTALK = 'https://oapi.dingtalk.com/robot/send?access_token=6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b';
const FEISHU = 'https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

describe('maskUrl', () => {
  test('the WeCom key, the DingTalk access_token and the Feishu hook id are masked; the rest stays as written', () => {
    assert.equal(maskUrl(WECOM), `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${REDACTED}`);
    assert.equal(maskUrl(DINGTALK), `https://oapi.dingtalk.com/robot/send?access_token=${REDACTED}`);
    assert.equal(maskUrl(FEISHU), `https://open.feishu.cn/open-apis/bot/v2/hook/${REDACTED}`);
  });

  test('userinfo, signed-URL parameters and several parameters in their order and encoding', () => {
    assert.equal(maskUrl('https://alarm:p%40ss@hooks.example.com/in'), `https://${REDACTED}@hooks.example.com/in`);
    assert.equal(
      maskUrl('https://h.example.com/api/x?plant=east%20wing&api_key=abc&sig=S1&code=AZ1&n=2#top'),
      `https://h.example.com/api/x?plant=east%20wing&api_key=${REDACTED}&sig=${REDACTED}&code=${REDACTED}&n=2#top`,
    );
    assert.equal(maskUrl('https://h.example.com/x?token=&flag'), 'https://h.example.com/x?token=&flag', 'empty and bare parameters stay');
  });

  test('an address without secrets, a masked one and text that is not a URL do not change', () => {
    for (const text of ['http://127.0.0.1:8080/hook', 'https://example.com/api/v2/alarms?site=3', maskUrl(WECOM), 'not a url', '']) {
      assert.equal(maskUrl(text), text);
    }
  });
});

describe('restoreMaskedUrl', () => {
  test('a masked key is filled from the stored URL on the same host, also when the path or other parameters change', () => {
    assert.equal(restoreMaskedUrl(maskUrl(WECOM), WECOM), WECOM);
    assert.equal(restoreMaskedUrl(maskUrl(FEISHU), FEISHU), FEISHU);
    assert.equal(
      restoreMaskedUrl(`https://oapi.dingtalk.com/robot/send?x=1&access_token=${REDACTED}`, DINGTALK),
      `https://oapi.dingtalk.com/robot/send?x=1&${DINGTALK.split('?')[1]}`,
    );
    assert.equal(restoreMaskedUrl(`https://${REDACTED}@h.example.com/v2`, 'https://u:pw@h.example.com/v1'), 'https://u:pw@h.example.com/v2');
  });

  test('another host, port or scheme keeps the mask: the key is not sent where it was not typed for', () => {
    for (const moved of [
      `https://attacker.example/cgi-bin/webhook/send?key=${REDACTED}`,
      `https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=${REDACTED}`,
      `http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${REDACTED}`,
    ]) {
      assert.equal(restoreMaskedUrl(moved, WECOM), moved);
      assert.ok(hasMaskedPart(moved));
    }
  });

  test('a masked part the stored URL does not have stays masked', () => {
    const other = `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?token=${REDACTED}`;
    assert.ok(hasMaskedPart(restoreMaskedUrl(other, WECOM)));
    const deeper = `https://open.feishu.cn/open-apis/bot/v3/x/hook/${REDACTED}`;
    assert.ok(hasMaskedPart(restoreMaskedUrl(deeper, FEISHU)), 'a path of another shape is not guessed at');
  });
});

describe('channel settings', () => {
  const box = createSecretBox(path.join(root, 'data'));
  const webhook = {
    url: 'https://user:pw-9f8e7d@hooks.example.com/in?token=tok-1a2b3c4d',
    headers: { Authorization: 'Bearer auth-5e6f7a8b', 'X-Plant': 'east-wing-7' },
    secret: 'hmac-0c1d2e3f',
  };

  test('sealed at rest: no secret of the settings appears in what is stored, and opening restores them', () => {
    const stored = sealSecrets(box, CHANNELS.webhook.validate(webhook), CHANNELS.webhook);
    const text = JSON.stringify(stored);
    for (const secret of ['pw-9f8e7d', 'tok-1a2b3c4d', 'auth-5e6f7a8b', 'east-wing-7', 'hmac-0c1d2e3f']) assert.ok(!text.includes(secret), secret);
    assert.deepEqual(Object.keys(stored.headers), ['Authorization', 'X-Plant'], 'header names stay readable');
    assert.deepEqual(openSecrets(box, stored, CHANNELS.webhook), CHANNELS.webhook.validate(webhook));
    assert.deepEqual(sealSecrets(box, stored, CHANNELS.webhook), stored, 'sealing twice does not seal again');
  });

  test('redacted for the API from the sealed form: masked URL, every header value masked, names kept', () => {
    const stored = sealSecrets(box, CHANNELS.webhook.validate(webhook), CHANNELS.webhook);
    const shown = redact(stored, CHANNELS.webhook, box);
    assert.equal(shown.url, `https://${REDACTED}@hooks.example.com/in?token=${REDACTED}`);
    assert.deepEqual(shown.headers, { Authorization: REDACTED, 'X-Plant': REDACTED });
    assert.equal(shown.secret, REDACTED);
    const otherKey = createSecretBox(path.join(root, 'other'));
    assert.equal(redact(stored, CHANNELS.webhook, otherKey).url, REDACTED, 'a URL the key file cannot open is shown masked whole');
    assert.equal(redact(stored, CHANNELS.webhook).url, REDACTED, 'and so without a box');
  });

  test('sent back masked: the stored values stay; header names match case-insensitively; a new header must be typed', () => {
    const open = CHANNELS.webhook.validate(webhook);
    const form = redact(open, CHANNELS.webhook);
    const kept = keepRedactedSecrets({ ...form, headers: { authorization: REDACTED, 'X-New': 'v' } }, open, CHANNELS.webhook);
    assert.deepEqual(CHANNELS.webhook.validate(kept), { ...open, headers: { authorization: 'Bearer auth-5e6f7a8b', 'X-New': 'v' } });
    const unknown = keepRedactedSecrets({ ...form, headers: { 'X-Other': REDACTED } }, open, CHANNELS.webhook);
    assert.throws(() => CHANNELS.webhook.validate(unknown), (err) => assertAppError(err, 50001, ['headers.X-Other']));
    const none = keepRedactedSecrets({ url: form.url }, open, CHANNELS.webhook);
    assert.deepEqual(CHANNELS.webhook.validate(none).headers, {}, 'leaving the headers out removes them');
  });

  test('a masked URL that cannot be filled is refused in both languages, not sent with "******" as the key', () => {
    for (const kind of ['wecom', 'dingtalk', 'feishu'] as const) {
      const stored = { wecom: { url: WECOM }, dingtalk: { url: DINGTALK }, feishu: { url: FEISHU } }[kind];
      const moved = maskUrl(stored.url).replace(/^https:\/\/[^/]+/, 'https://elsewhere.example');
      const input = keepRedactedSecrets({ url: moved }, stored, CHANNELS[kind]);
      assert.throws(
        () => CHANNELS[kind].validate(input),
        (err) => assertAppError(err, 50001, ['url']) && /type the whole address again/.test(String((err as Error).message)) && /请重新输入完整地址/.test(String((err as Error).message)),
      );
    }
  });

  test('escalation URLs (ALM-13) are secret URLs too, and URLs with spaces or backslashes are refused', () => {
    assert.ok(CHANNELS.wecom.secretUrls?.includes('escalation_url'));
    assert.ok(CHANNELS.feishu.secretUrls?.includes('escalation_url'));
    assert.ok(CHANNELS.webhook.secretUrls?.includes('escalation_url'));
    assert.throws(() => CHANNELS.wecom.validate({ url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?k\tey=abc' }), (err) => assertAppError(err, 50001, ['url']));
    assert.throws(() => CHANNELS.webhook.validate({ url: 'https://h.example.com\\x?token=abc' }), (err) => assertAppError(err, 50001, ['url']));
  });
});

test('the audit writer masks any URL it is given, however deep', () => {
  const entry = { channels: { wecom: { settings: { url: WECOM } } }, list: [DINGTALK], n: 1, none: null };
  const masked = maskUrlsIn(entry);
  assert.equal(masked.channels.wecom.settings.url, maskUrl(WECOM));
  assert.deepEqual(masked.list, [maskUrl(DINGTALK)]);
  assert.equal(masked.n, 1);
  assert.equal(masked.none, null);
});
