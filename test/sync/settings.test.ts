// Issue 17.4 / 17.7 (SYNC-4, API-7): the cloud sync settings store on a real SQLite file — off by
// default, secrets sealed at rest and kept only for the same target at the same address, every
// problem listed (and understood by the API's problem wording), an unreadable stored value leaving
// sync off with a logged error, and a stable box id.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { textProblem } from '../../appliance/api/validation.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { createSecretBox } from '../../appliance/core/secrets.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createUplinkSettings, GENERATED_BOX_ID_KEY } from '../../appliance/sync/settings.ts';
import { captureLogger, tempDir } from '../helpers/appliance.ts';

const MACHINE = '0123456789abcdef0123456789abcdef';

describe('cloud sync settings (issue 17, SYNC-4, API-7)', () => {
  let temp: ReturnType<typeof tempDir>;
  let db: Db;
  let logs: ReturnType<typeof captureLogger>;
  const clock = manualClock();
  const make = (machineId: string | (() => string | null) = MACHINE, dataDir = temp.dir) =>
    createUplinkSettings({ configRepo: createConfigRepository(db), secrets: createSecretBox(dataDir), machineId, clock, log: logs.log });
  const raw = () => (db.prepare("SELECT value FROM system_config WHERE key = 'uplink'").get() as { value: string } | undefined)?.value;
  const mqtt = (fields: Record<string, unknown> = {}) => ({ id: 'emqx', kind: 'mqtt', url: 'mqtts://broker.example.com', username: 'box', password: 'mqtt-pass-1', ...fields });
  const https = (fields: Record<string, unknown> = {}) => ({
    id: 'mes', kind: 'https', url: 'https://mes.example.com/ingest', hmac_secret: 'hmac-secret-1', sm4_key: '0123456789abcdef0123456789abcdef', ...fields,
  });
  const aliyun = (fields: Record<string, unknown> = {}) => ({ id: 'ali', kind: 'aliyun', product_key: 'a1B2c3', device_name: 'gw-1', device_secret: 'ali-secret-1', ...fields });
  /** The problems of a refused save, as `/path: words` lines. */
  const refused = (action: () => unknown): string[] => {
    try {
      action();
    } catch (err) {
      const e = err as { code: number; detail: string[] };
      assert.equal(e.code, 70001);
      return e.detail;
    }
    assert.fail('the save was not refused');
  };

  beforeEach(() => {
    temp = tempDir();
    db = openDb(dbFileIn(temp.dir));
    logs = captureLogger();
  });
  afterEach(() => {
    db.close();
    temp.remove();
  });

  test('off by default: no target, and the box id derived from the machine id is stable and not the id itself', () => {
    const store = make();
    assert.deepEqual(store.load(), { box_id: '', targets: [] });
    assert.deepEqual(store.redacted().targets, []);
    const expected = `box-${createHash('sha256').update(MACHINE).digest('hex').slice(0, 12)}`;
    assert.equal(store.boxId(), expected);
    assert.equal(make().boxId(), expected, 'the same after a restart');
    assert.doesNotMatch(store.boxId(), new RegExp(MACHINE.slice(0, 12)));
    store.save({ box_id: 'plant-7.line-2', targets: [] });
    assert.equal(store.boxId(), 'plant-7.line-2', 'one set by the admin wins');
  });

  test('without a machine id the box id is made up once and kept', () => {
    const first = make(() => null).boxId();
    assert.match(first, /^box-[0-9a-f]{12}$/);
    assert.equal(make(() => null).boxId(), first);
    assert.equal(createConfigRepository(db).get(GENERATED_BOX_ID_KEY), first);
    assert.equal(logs.lines.filter((l) => /no machine id/.test(l.msg)).length, 1, 'said once, when it was made');
  });

  test('secrets are sealed at rest, shown as ******, opened for the uplink; defaults of each kind are filled in', () => {
    const store = make();
    const saved = store.save({ targets: [mqtt(), https(), aliyun()] });
    assert.deepEqual(saved.targets.map((t) => Object.fromEntries(Object.entries(t).filter(([k]) => ['password', 'key', 'hmac_secret', 'sm4_key', 'device_secret'].includes(k)))), [
      { password: '******', key: '' },
      { hmac_secret: '******', sm4_key: '******' },
      { device_secret: '******' },
    ]);
    const text = raw()!;
    for (const secret of ['mqtt-pass-1', 'hmac-secret-1', '0123456789abcdef0123456789abcdef', 'ali-secret-1']) assert.ok(!text.includes(secret), `${secret} in clear`);
    assert.equal(JSON.parse(text).targets[0].password.startsWith('enc:v1:'), true);
    const [m, h, a] = make().load().targets;
    assert.equal(m.kind === 'mqtt' && m.password, 'mqtt-pass-1');
    assert.equal(m.kind === 'mqtt' && m.topic_template, 'mcs/{box}/{kind}');
    assert.equal(h.kind === 'https' && h.hmac_secret, 'hmac-secret-1');
    assert.equal(a.kind === 'aliyun' && a.device_secret, 'ali-secret-1');
    assert.equal(a.kind === 'aliyun' && a.region, 'cn-shanghai');
    assert.deepEqual([m.enabled, m.paused, m.telemetry], [true, false, 'raw']);
  });

  test('"******" keeps the stored secret for the same target at the same address, and only there (issue 16.6)', () => {
    const store = make();
    store.save({ targets: [mqtt(), https(), aliyun()] });
    const shown = store.redacted();
    // Sent back as shown, with a harmless change and the default port written out: kept.
    store.save({ targets: [{ ...shown.targets[0], url: 'mqtts://BROKER.example.com:8883', name: 'EMQX cloud' }, shown.targets[1], shown.targets[2]] });
    const kept = store.load().targets;
    assert.equal(kept[0].kind === 'mqtt' && kept[0].password, 'mqtt-pass-1');
    assert.equal(kept[1].kind === 'https' && kept[1].sm4_key, '0123456789abcdef0123456789abcdef');
    assert.equal(kept[2].kind === 'aliyun' && kept[2].device_secret, 'ali-secret-1');

    // Another host, another port, another scheme, another id, another device: typed again or refused.
    const before = raw();
    const problems = refused(() => store.save({
      targets: [
        { ...shown.targets[0], url: 'mqtts://attacker.example.net' },
        { ...shown.targets[1], url: 'http://mes.example.com/ingest' },
        { ...shown.targets[2], device_name: 'gw-2' },
        { ...shown.targets[0], id: 'copy', url: 'mqtts://broker.example.com' },
      ],
    }));
    assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), [
      '/targets/0/password', '/targets/1/hmac_secret', '/targets/1/sm4_key', '/targets/2/device_secret', '/targets/3/password',
    ]);
    assert.ok(problems.every((p) => /type it again/.test(p)));
    assert.equal(raw(), before, 'nothing stored');
    assert.deepEqual(refused(() => store.save({ targets: [{ ...shown.targets[0], url: 'mqtts://broker.example.com:9883' }] })), [
      '/targets/0/password: type it again: a stored secret is kept only for the same target at the same address',
    ]);
  });

  test('every problem is listed with its field, in words the API knows, and nothing is stored', async () => {
    const store = make();
    const other = await generate([{ name: 'commonName', value: 'other' }], { keyType: 'ec' });
    const mine = await generate([{ name: 'commonName', value: 'box' }], { keyType: 'ec' });
    const problems = refused(() => store.save({
      box_id: 'bad/box',
      targets: [
        mqtt({ topic_template: 'plants/{box}/+/{serial}', command_topic: '$SYS/{box}', ca: 'not a certificate', cert: mine.cert, key: other.private }),
        mqtt({ url: 'mqtt://', password: '' }),
        { id: 'ali', kind: 'aliyun', product_key: '', device_name: 'gw' },
        https({ sm4_key: 'xyz', url: 'ftp://x' }),
        { id: 'x', kind: 'kafka' },
        mqtt({ id: 'two', cert: mine.cert }),
        mqtt({ id: 'three', key: 'not a key' }),
      ],
    }));
    assert.deepEqual([...problems].sort(), [
      '/box_id: Expected string to match \'(^[A-Za-z0-9_.-]{1,64}$)|^$\'',
      '/targets/0/ca: must be a PEM certificate (-----BEGIN CERTIFICATE-----)',
      '/targets/0/key: does not belong to the client certificate',
      '/targets/0/topic_template: may use only the placeholders {box}, {kind}, {sn}',
      '/targets/0/command_topic: must not contain the MQTT wildcards + or #, nor start with $',
      '/targets/1/url: is not a valid address (scheme://host:port)',
      '/targets/2/device_secret: Expected required property',
      '/targets/2/product_key: Expected string length greater or equal to 1',
      '/targets/3/url: Expected string to match \'^https?://\'',
      '/targets/3/sm4_key: Expected string to match \'^([0-9a-fA-F]{32})?$\'',
      '/targets/4/kind: must be one of "mqtt", "aliyun", "https"',
      '/targets/5/key: is required with cert',
      '/targets/6/cert: is required with key',
      '/targets/6/key: must be a PEM private key without a passphrase (-----BEGIN PRIVATE KEY-----)',
      '/targets/1/id: is used by another target',
    ].sort());
    assert.equal(raw(), undefined);

    // The API's edge makes each one a structured problem the UI words in both languages (issue 16.11).
    const rules = Object.fromEntries(problems.map((p) => textProblem(p)).map((p) => [p.field, [p.rule, p.form ?? p.limit]]));
    assert.deepEqual(rules, {
      box_id: ['pattern', 'box_id'],
      'targets.0.ca': ['pemCertificate', undefined],
      'targets.0.key': ['keyPair', undefined],
      'targets.0.topic_template': ['placeholders', ['{box}', '{kind}', '{sn}']],
      'targets.0.command_topic': ['topicChars', undefined],
      'targets.1.url': ['address', undefined],
      'targets.1.id': ['duplicate', undefined],
      'targets.2.device_secret': ['required', undefined],
      'targets.2.product_key': ['required', undefined],
      'targets.3.url': ['pattern', 'http_url'],
      'targets.3.sm4_key': ['pattern', 'hex_key_16'],
      'targets.4.kind': ['enum', ['mqtt', 'aliyun', 'https']],
      'targets.5.key': ['requires', 'cert'],
      'targets.6.cert': ['requires', 'key'],
      'targets.6.key': ['pemKey', undefined],
    });
  });

  test('a client certificate with its key, a CA chain and topics with known placeholders are accepted', async () => {
    const store = make();
    const ca = await generate([{ name: 'commonName', value: 'Plant CA' }], { keyType: 'ec' });
    const ca2 = await generate([{ name: 'commonName', value: 'Second CA' }], { keyType: 'ec' });
    const client = await generate([{ name: 'commonName', value: 'box-7' }], { keyType: 'ec' });
    store.save({ targets: [mqtt({ ca: `${ca.cert}\n${ca2.cert}`, cert: client.cert, key: client.private, topic_template: 'plants/{box}/{sn}/{kind}' })] });
    const [target] = store.load().targets;
    assert.equal(target.kind === 'mqtt' && target.key, client.private);
    assert.equal(store.redacted().targets[0].kind === 'mqtt' && (store.redacted().targets[0] as { key: string }).key, '******');
    // The audit sees what the certificates are, not their text, and no secret.
    const audited = store.auditView() as { targets: Record<string, Record<string, string>> };
    assert.match(audited.targets.emqx.ca, /CN=Plant CA \(until \d{4}-\d\d-\d\d, sha256 [0-9a-f]{16}\); CN=Second CA/);
    assert.equal(audited.targets.emqx.key, '******');
    assert.equal(audited.targets.emqx.password, '******');
    assert.equal(audited.targets.emqx.url, 'mqtts://broker.example.com');
  });

  test('the test button\'s unsaved target is checked and its "******" filled from the saved one', () => {
    const store = make();
    store.save({ targets: [mqtt()] });
    const target = store.resolveTarget({ ...store.redacted().targets[0], username: 'other' });
    assert.equal(target.kind === 'mqtt' && target.password, 'mqtt-pass-1');
    assert.throws(() => store.resolveTarget({ ...store.redacted().targets[0], url: 'mqtt://elsewhere.example.com' }),
      (err: { code: number; detail: string[] }) => err.code === 70001 && err.detail[0] === '/password: type it again: a stored secret is kept only for the same target at the same address');
  });

  test('pausing is kept in the target\'s settings; an unknown target is not paused', () => {
    const store = make();
    store.save({ targets: [mqtt()] });
    assert.equal(store.setPaused('emqx', true), true);
    assert.equal(make().load().targets[0].paused, true);
    assert.equal(store.setPaused('nope', true), false);
    assert.equal(store.setPaused('emqx', false), true);
    assert.equal(store.load().targets[0].paused, false);
  });

  test('a stored value that cannot be read leaves sync off with a logged error, never a crash', () => {
    const repo = createConfigRepository(db);
    repo.set('uplink', { targets: [{ id: 'x', kind: 'mqtt', url: 'gopher://nowhere', inflight: -1 }] }, 1);
    const store = make();
    assert.deepEqual(store.load().targets, []);
    assert.deepEqual(store.redacted().targets, []);
    store.load();
    const errors = logs.errors();
    assert.equal(errors.length, 1, 'said once for the stored value, not at every read');
    assert.match(errors[0].msg, /cannot be read: cloud sync stays off/);
    assert.match(String((errors[0].err as { message: string }).message), /\/targets\/0\/url/);

    // Sealed under another key file (the data dir restored without its secret.key): the same.
    const other = tempDir();
    try {
      make(MACHINE, other.dir).save({ targets: [mqtt()] });
      clock.advance(1000);
      assert.deepEqual(make().load().targets, []);
      assert.match(logs.errors().at(-1)!.msg, /cannot be read/);
      // The admin saves again (the secret typed again): sync works again.
      const store2 = make();
      assert.match(refused(() => store2.save({ targets: [mqtt({ password: '******' })] }))[0], /type it again/);
      store2.save({ targets: [mqtt()] });
      assert.equal(store2.load().targets.length, 1);
    } finally {
      other.remove();
    }
  });
});
