// PKG-1: the single executable's assets extracted once per build and checked at every start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractRuntime, SEA_MANIFEST_KEY, type AssetSource } from '../../appliance/core/sea-runtime.ts';
import { tempDir } from '../helpers/appliance.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function assets(build: string, files: Record<string, string>, lie: Record<string, string> = {}): AssetSource {
  const manifest = { build, files: Object.entries(files).map(([key, text]) => ({ key, sha256: sha(lie[key] ?? text) })) };
  return {
    read(key) {
      if (key === SEA_MANIFEST_KEY) return Buffer.from(JSON.stringify(manifest));
      if (!(key in files)) throw new Error(`no asset ${key}`);
      return Buffer.from(files[key]);
    },
  };
}

test('assets are written under runtime/<build>, kept when identical, rewritten when damaged, older builds removed', () => {
  const temp = tempDir();
  try {
    mkdirSync(join(temp.dir, 'runtime', '0.0.9-old'), { recursive: true });
    const files = { 'addon.node': 'binary', 'ui/index.html': '<html>', 'ui/assets/app.js': 'js' };
    const dir = extractRuntime(temp.dir, assets('1.0.0-abc', files));
    assert.equal(dir, join(temp.dir, 'runtime', '1.0.0-abc'));
    assert.equal(readFileSync(join(dir, 'ui', 'assets', 'app.js'), 'utf8'), 'js');
    assert.deepEqual(readdirSync(join(temp.dir, 'runtime')), ['1.0.0-abc']);

    const past = new Date('2026-01-01T00:00:00Z');
    utimesSync(join(dir, 'addon.node'), past, past);
    writeFileSync(join(dir, 'ui', 'index.html'), '<html>tampered');
    extractRuntime(temp.dir, assets('1.0.0-abc', files));
    assert.equal(statSync(join(dir, 'addon.node')).mtime.getTime(), past.getTime(), 'an identical file is not rewritten');
    assert.equal(readFileSync(join(dir, 'ui', 'index.html'), 'utf8'), '<html>', 'a changed file is replaced');
    assert.equal(readdirSync(dir).some((name) => name.includes('.partial-')), false);
  } finally {
    temp.remove();
  }
});

test("a command line (no prune) adds its build's directory and leaves the others to the service", () => {
  const temp = tempDir();
  try {
    extractRuntime(temp.dir, assets('1.0.0-svc', { 'w.cjs': 'service' }));
    extractRuntime(temp.dir, assets('1.1.0-cli', { 'w.cjs': 'cli' }), { prune: false });
    assert.deepEqual(readdirSync(join(temp.dir, 'runtime')).sort(), ['1.0.0-svc', '1.1.0-cli']);
  } finally {
    temp.remove();
  }
});

test('an asset that does not match its manifest, or a key leaving the directory, stops the extraction', () => {
  const temp = tempDir();
  try {
    assert.throws(() => extractRuntime(temp.dir, assets('b1', { 'a.node': 'real' }, { 'a.node': 'other' })), /does not match its manifest/);
    assert.equal(existsSync(join(temp.dir, 'runtime', 'b1', 'a.node')), false);
    assert.throws(() => extractRuntime(temp.dir, assets('b2', { '../../escape': 'x' })), /escapes the runtime directory/);
  } finally {
    temp.remove();
  }
});
