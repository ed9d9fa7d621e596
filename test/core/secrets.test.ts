// API-7: sensitive settings are sealed with AES-256-GCM under a key file in the data dir and never
// leave the API in clear.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createSecretBox,
  keepRedactedSecrets,
  openSecrets,
  redact,
  REDACTED,
  SECRET_KEY_FILE,
  sealSecrets,
} from '../../appliance/core/secrets.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-secrets-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `data-${++dirs}`);

describe('secret box', () => {
  test('a sealed text opens to the same text, including non-ASCII and empty strings', () => {
    const box = createSecretBox(freshDir());
    for (const text of ['smtp-authorization-code', '元芯传感 SEC123', '']) {
      const sealed = box.encrypt(text);
      assert.match(sealed, /^enc:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/);
      assert.ok(!sealed.includes(text) || text === '', 'the clear text is not in the sealed value');
      assert.equal(box.decrypt(sealed), text);
    }
  });

  test('sealing the same text twice gives different values (a random 12-byte IV each time)', () => {
    const box = createSecretBox(freshDir());
    const a = box.encrypt('same secret');
    const b = box.encrypt('same secret');
    assert.notEqual(a, b);
    const ivOf = (sealed: string) => Buffer.from(sealed.split(':')[2], 'base64');
    assert.equal(ivOf(a).length, 12);
    assert.notDeepEqual(ivOf(a), ivOf(b));
  });

  test('the key file is created on first use with mode 0600 and reused by the next box', () => {
    const dir = freshDir();
    const first = createSecretBox(dir);
    assert.equal(fs.existsSync(path.join(dir, SECRET_KEY_FILE)), false, 'the factory does no I/O');
    const sealed = first.encrypt('kept across restarts');
    const keyFile = path.join(dir, SECRET_KEY_FILE);
    const stat = fs.statSync(keyFile);
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal(stat.size, 32);
    const key = fs.readFileSync(keyFile);

    const second = createSecretBox(dir);
    assert.equal(second.decrypt(sealed), 'kept across restarts');
    second.encrypt('x');
    assert.deepEqual(fs.readFileSync(keyFile), key, 'the key file is not rewritten');
  });

  test('a key file of the wrong size is refused with a clear error and left alone', () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, SECRET_KEY_FILE), Buffer.alloc(16));
    const box = createSecretBox(dir);
    assert.throws(() => box.encrypt('x'), /secret\.key holds 16 bytes, an AES-256 key is 32/);
    assert.equal(fs.statSync(path.join(dir, SECRET_KEY_FILE)).size, 16);
  });

  test('a tampered ciphertext, tag or IV fails authentication instead of opening to garbage', () => {
    const box = createSecretBox(freshDir());
    const sealed = box.encrypt('the SMS access key secret');
    const parts = sealed.split(':');
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] ^= 0x01;
      return bytes.toString('base64');
    };
    for (const index of [2, 3, 4]) {
      const tampered = parts.map((part, i) => (i === index ? flip(part) : part)).join(':');
      assert.throws(() => box.decrypt(tampered), /failed authentication \(tampered, or sealed under another/);
    }
  });

  test('a value sealed under another data dir key does not open', () => {
    const sealed = createSecretBox(freshDir()).encrypt('secret');
    assert.throws(() => createSecretBox(freshDir()).decrypt(sealed), /failed authentication/);
  });

  test('isSealed tells sealed values from clear text, and decrypt refuses clear text', () => {
    const box = createSecretBox(freshDir());
    assert.equal(box.isSealed(box.encrypt('x')), true);
    for (const value of ['plain password', 'enc:v1:only-two:parts', '', null, 42]) assert.equal(box.isSealed(value), false);
    assert.throws(() => box.decrypt('plain password'), /not a sealed value/);
  });
});

describe('settings helpers', () => {
  const settings = { host: 'smtp.example.com', user: 'alarm', pass: 'hunter2', token: '', other: null };

  test('redact shows a set secret as ****** and an unset one as null, without touching the input', () => {
    const shown = redact(settings, ['pass', 'token', 'other', 'missing']);
    assert.deepEqual(shown, { host: 'smtp.example.com', user: 'alarm', pass: REDACTED, token: null, other: null, missing: null });
    assert.equal(settings.pass, 'hunter2');
    assert.ok(!JSON.stringify(shown).includes('hunter2'));
  });

  test('an update that sends ****** back keeps the stored secret; a new value or null replaces it', () => {
    const stored = { host: 'a', pass: 'old' };
    assert.deepEqual(keepRedactedSecrets({ host: 'b', pass: REDACTED }, stored, ['pass']), { host: 'b', pass: 'old' });
    assert.deepEqual(keepRedactedSecrets({ host: 'b' }, stored, ['pass']), { host: 'b', pass: 'old' });
    assert.deepEqual(keepRedactedSecrets({ host: 'b', pass: 'new' }, stored, ['pass']), { host: 'b', pass: 'new' });
    assert.deepEqual(keepRedactedSecrets({ host: 'b', pass: null }, stored, ['pass']), { host: 'b', pass: null });
  });

  test('sealSecrets seals only the secret fields (once) and openSecrets restores them', () => {
    const box = createSecretBox(freshDir());
    const sealed = sealSecrets(box, settings, ['pass', 'token']);
    assert.equal(box.isSealed(sealed.pass), true);
    assert.equal(sealed.token, '', 'an empty secret stays empty');
    assert.equal(sealed.user, 'alarm');
    assert.equal(sealSecrets(box, sealed, ['pass']).pass, sealed.pass, 'sealing twice does not double-seal');
    assert.deepEqual(openSecrets(box, sealed, ['pass', 'token']), settings);
  });
});
