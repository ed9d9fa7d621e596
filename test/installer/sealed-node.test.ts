// Issue 16.5: the NODE_OPTIONS / OPENSSL_CONF lookups emptied in the release's node binary, on
// synthetic binaries (the real one is checked by packageRelease and test/installer/binary-tamper.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cStringOffsets, sealNodeEnvironment } from '../../installer/sealed-node.ts';

/** A C string as in .rodata, and the same text as a V8 snapshot string (length before it). */
const cString = (text: string) => Buffer.from(`msg\0${text}\0next`, 'latin1');
function snapshotString(text: string): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(text.length);
  return Buffer.concat([Buffer.from([0x10]), length, Buffer.from(`${text}\0\0`, 'latin1')]);
}

test('only the C string of each name is emptied; snapshot strings and other text stay', () => {
  const binary = Buffer.concat([
    snapshotString('NODE_OPTIONS'), cString('NODE_OPTIONS'), Buffer.from('invalid value for NODE_OPTIONS\0'),
    cString('OPENSSL_CONF'), snapshotString('OPENSSL_CONF'), cString('OPENSSL_CONF_INCLUDE'),
  ]);
  const original = Buffer.from(binary);
  const sealed = sealNodeEnvironment(binary);
  assert.deepEqual(sealed.map((s) => s.name), ['NODE_OPTIONS', 'OPENSSL_CONF']);
  const changed = [...binary.keys()].filter((i) => binary[i] !== original[i]);
  assert.deepEqual(changed, sealed.map((s) => s.offset));
  for (const { offset } of sealed) assert.equal(binary[offset], 0);
  assert.deepEqual(cStringOffsets(binary, 'NODE_OPTIONS'), []);
  assert.ok(binary.includes(snapshotString('NODE_OPTIONS')) && binary.includes(snapshotString('OPENSSL_CONF')));
});

test('a binary without exactly one C string of a name fails the build', () => {
  assert.throws(() => sealNodeEnvironment(cString('OPENSSL_CONF')), /cannot seal NODE_OPTIONS .*0 C strings/);
  assert.throws(() => sealNodeEnvironment(Buffer.concat([cString('NODE_OPTIONS'), cString('NODE_OPTIONS'), cString('OPENSSL_CONF')])), /2 C strings/);
});
