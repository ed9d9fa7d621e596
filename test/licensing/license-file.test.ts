// LIC-2: the signed license file: accepted only byte for byte as the vendor issued it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maskLicenseKey, signLicense, verifyLicenseText } from '../../licensing/license-file.ts';
import { canonicalJson, signJson, verifyJson } from '../../licensing/signing.ts';
import { issue, licenseFields, vendorKeys } from './support.ts';

const keys = vendorKeys();

describe('license file', () => {
  test('a file issued with the vendor key verifies and reads back its fields', () => {
    const { license, text } = issue(keys, { customer: '某化工厂', max_devices: 250 });
    const result = verifyLicenseText(text, keys.publicKey);
    assert.ok(result.ok);
    assert.deepEqual(result.license, license);
    assert.match(text, /^\{\n {2}"license": \{\n/, 'readable JSON');
  });

  test('changing any single byte of the file makes it refused', () => {
    const { text } = issue(keys);
    const bytes = Buffer.from(text, 'utf8');
    const accepted: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x20]) {
        const edited = Buffer.from(bytes);
        edited[i] ^= flip;
        if (verifyLicenseText(edited.toString('utf8'), keys.publicKey).ok) accepted.push(i);
      }
    }
    assert.deepEqual(accepted, [], `edits at byte offsets ${accepted.join(',')} were accepted`);
  });

  test('a changed field, a re-indented file and a file signed by another key are each refused with a reason', () => {
    const { text } = issue(keys, { max_devices: 100 });
    const more = text.replace('"max_devices": 100', '"max_devices": 1000');
    assert.deepEqual(verifyLicenseText(more, keys.publicKey), { ok: false, problem: 'the signature does not match: the file was edited or was not issued by the vendor' });
    const reindented = JSON.stringify(JSON.parse(text), null, 4);
    const r = verifyLicenseText(reindented, keys.publicKey);
    assert.ok(!r.ok && /edited after it was issued/.test(r.problem));
    const forged = issue(vendorKeys()).text;
    assert.ok(!verifyLicenseText(forged, keys.publicKey).ok);
    assert.ok(!verifyLicenseText('not json', keys.publicKey).ok);
    assert.ok(!verifyLicenseText('{"license":{}}', keys.publicKey).ok);
  });

  test('the vendor cannot sign a license with invalid fields', () => {
    assert.throws(() => signLicense({ ...licenseFields(), max_devices: 0 }, keys.privateKey), /max_devices/);
    assert.throws(() => signLicense({ ...licenseFields(), license_key: 'nope' }, keys.privateKey), /license_key/);
  });

  test('license keys are masked to their first and last group', () => {
    assert.equal(maskLicenseKey('MCS-7Q2K-M9XD-4TPA'), 'MCS-****-****-4TPA');
    assert.equal(maskLicenseKey('x'), '****');
  });
});

describe('signing', () => {
  test('canonical JSON sorts keys at every level, so key order does not change the signature', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 'é' }], c: null } }), '{"a":{"c":null,"d":[1,{"y":"é","z":0}]},"b":1}');
    const signature = signJson({ b: 1, a: 2 }, keys.privateKey);
    assert.ok(verifyJson({ a: 2, b: 1 }, signature, keys.publicKey));
    assert.ok(!verifyJson({ a: 2, b: 2 }, signature, keys.publicKey));
  });

  test('a signature whose base64 text was altered is refused even where base64 decoding would forgive it', () => {
    const signature = signJson({ a: 1 }, keys.privateKey);
    assert.ok(!verifyJson({ a: 1 }, signature.replace(/==$/, '='), keys.publicKey));
    assert.ok(!verifyJson({ a: 1 }, `${signature} `, keys.publicKey));
    // The last data character carries 4 unused bits: a sibling character decodes to the same bytes.
    const last = signature[85];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    const lenient = `${signature.slice(0, 85)}${sibling}==`;
    assert.deepEqual(Buffer.from(lenient, 'base64'), Buffer.from(signature, 'base64'));
    assert.ok(!verifyJson({ a: 1 }, lenient, keys.publicKey));
    assert.ok(!verifyJson({ a: 1 }, undefined, keys.publicKey));
  });
});
