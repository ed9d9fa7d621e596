// DEV-5 generated device passwords: letters and digits only (a leading '-' broke the README's own
// simulator command, `--password '-iA…'` being taken for an option), at least the 144 random bits
// of before, and still verified against their salted SHA-256.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { GENERATED_PASSWORD_LENGTH, generateDevicePassword, hashGeneratedPassword, verifyPassword } from '../../appliance/core/device-credentials.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

test('generated passwords use letters and digits only, never begin with "-", and keep at least 144 bits', () => {
  assert.ok(GENERATED_PASSWORD_LENGTH * Math.log2(ALPHABET.length) >= 144);
  const passwords = Array.from({ length: 20_000 }, generateDevicePassword);
  for (const password of passwords) assert.match(password, /^[A-Za-z0-9]{25}$/);
  assert.equal(new Set(passwords).size, passwords.length, 'no repeats');
  // Every letter and digit shows up in every position: drawn from the whole alphabet, not a part of it.
  for (let position = 0; position < GENERATED_PASSWORD_LENGTH; position++) {
    const seen = new Set(passwords.map((password) => password[position]));
    assert.equal(seen.size, ALPHABET.length, `position ${position}`);
  }
  // Roughly uniform: each character is expected 20,000 × 25 / 62 ≈ 8,065 times.
  const counts = new Map<string, number>();
  for (const password of passwords) for (const char of password) counts.set(char, (counts.get(char) ?? 0) + 1);
  for (const [char, count] of counts) assert.ok(count > 7_500 && count < 8_650, `${char}: ${count}`);
});

test('a generated password is taken as a value by an option parser and a shell, as in the README command', () => {
  for (let i = 0; i < 200; i++) {
    const password = generateDevicePassword();
    const { values } = parseArgs({ args: ['--password', password, '--interval', '2'], options: { password: { type: 'string' }, interval: { type: 'string' } } });
    assert.equal(values.password, password);
  }
  const password = generateDevicePassword();
  assert.equal(execFileSync('sh', ['-c', `printf %s '${password}'`]).toString(), password);
});

test('generated passwords still verify against their salted SHA-256 hash, and nothing else does', async () => {
  for (let i = 0; i < 100; i++) {
    const password = generateDevicePassword();
    const hash = hashGeneratedPassword(password);
    assert.match(hash, /^sha256\$/);
    assert.equal(await verifyPassword(hash, password), true);
    assert.equal(await verifyPassword(hash, password.slice(1)), false);
    assert.equal(await verifyPassword(hash, `-${password}`), false);
  }
});
