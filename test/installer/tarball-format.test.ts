// PKG-1 / PKG-2: the release tarball is xz-compressed (issue 8: at most 35 MB, which gzip no
// longer reaches with Node 24), and install.sh unpacks it — and an older release's .tar.gz given
// with --from, the format read from the file's bytes. Without xz on the machine it says so, in
// English and Chinese, before changing anything.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeSha256Sums } from '../../installer/package.ts';
import {
  freePorts, INSTALL_LOG, pathWithout, releaseArtifacts, repackRelease, runInstaller, sha256, snapshotTree, tempRoot, withoutInstallLog, type ReleaseArtifacts,
} from './support.ts';

const XZ_MAGIC = 'fd377a585a00';
const GZIP_MAGIC = '1f8b';
const GOAL_BYTES = 35e6; // issue 8

function firstBytes(file: string, count = 6): string {
  const fd = openSync(file, 'r');
  try {
    const bytes = Buffer.alloc(count);
    readSync(fd, bytes, 0, count, 0);
    return bytes.toString('hex');
  } finally {
    closeSync(fd);
  }
}

describe('the release tarball and its formats', () => {
  let release: ReleaseArtifacts;
  let olderGzip: ReleaseArtifacts;
  let ports: number[];
  const scratch = mkdtempSync(join(tmpdir(), 'mcs-tarball-format-'));

  before(async () => {
    release = await releaseArtifacts();
    olderGzip = repackRelease(release, release.version, 'gzip');
    ports = await freePorts(2);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** install.sh --from the tarball into a fresh root, not started; the tree is checked by the caller. */
  function install(tarball: string, env: Record<string, string> = {}) {
    const root = tempRoot();
    try {
      const before = snapshotTree(root.dir);
      const run = runInstaller(release.installScript, ['--from', tarball, '--root', root.dir, '--unattended', '--no-start', '--tls', 'none',
        '--http-port', String(ports[0]), '--mqtt-port', String(ports[1])], env);
      const after = snapshotTree(root.dir);
      const installed = after.get('opt/mcs-edge/mcs-edge')?.sha256;
      return { ...run, before, after, installed, log: after.has(INSTALL_LOG) ? readFileSync(join(root.dir, INSTALL_LOG), 'utf8') : '' };
    } finally {
      root.remove();
    }
  }

  /** A copy of `tarball` under another name in its own dir, with the SHA256SUMS line for that name. */
  function renamed(tarball: string, name: string): string {
    const dir = mkdtempSync(join(scratch, 'renamed-'));
    const copy = join(dir, name);
    copyFileSync(tarball, copy);
    writeSha256Sums(join(dir, 'SHA256SUMS'), [copy]);
    return copy;
  }

  test('npm run package writes mcs-edge-<version>-linux-<arch>.tar.xz, within the 35 MB goal', () => {
    assert.equal(basename(release.tarball), `${release.name}.tar.xz`);
    assert.equal(firstBytes(release.tarball), XZ_MAGIC, 'xz magic bytes');
    const size = statSync(release.tarball).size;
    assert.ok(size <= GOAL_BYTES, `${(size / 1e6).toFixed(1)} MB, the goal is at most 35 MB (issue 8)`);
    assert.ok(readFileSync(release.sums, 'utf8').includes(`  ${basename(release.tarball)}\n`), 'SHA256SUMS names it');
    // The x86 branch filter before LZMA2 on x64 (installer/package.ts), and an intact stream.
    const listed = spawnSync('xz', ['--robot', '--list', '-vv', release.tarball], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const filters = listed.stdout.split('\n').filter((line) => line.startsWith('block\t')).map((line) => line.split('\t').at(-1));
    assert.ok(filters.length > 0, listed.stdout);
    const expected = process.arch === 'x64' ? /^--x86 --lzma2=/ : /^--lzma2=/;
    for (const chain of filters) assert.match(chain ?? '', expected);
  });

  test('install.sh unpacks the .tar.xz it downloads or is given', () => {
    const run = install(release.tarball);
    assert.equal(run.status, 0, run.output);
    assert.match(run.stdout, new RegExp(`✔ unpack: version ${release.version} \\(xz\\)`));
    assert.equal(run.installed, sha256(readFileSync(release.binary)));
  });

  test("an older release's .tar.gz given with --from still installs", () => {
    assert.equal(basename(olderGzip.tarball), `${release.name}.tar.gz`);
    assert.ok(firstBytes(olderGzip.tarball).startsWith(GZIP_MAGIC));
    const run = install(olderGzip.tarball);
    assert.equal(run.status, 0, run.output);
    assert.match(run.stdout, new RegExp(`✔ unpack: version ${release.version} \\(gzip\\)`));
    assert.equal(run.installed, sha256(readFileSync(olderGzip.binary)));
  });

  test('the format is read from the bytes, not the name: a gzip tarball named .tar.xz installs', () => {
    const run = install(renamed(olderGzip.tarball, `${release.name}.tar.xz`));
    assert.equal(run.status, 0, run.output);
    assert.match(run.stdout, /✔ unpack: version .* \(gzip\)/);
    assert.equal(run.installed, sha256(readFileSync(olderGzip.binary)));
  });

  test('a file that is no compressed tarball is refused, in English and Chinese, before any change', () => {
    const dir = mkdtempSync(join(scratch, 'not-a-tarball-'));
    const file = join(dir, `${release.name}.tar.xz`);
    writeFileSync(file, 'this is an HTML error page saved under the tarball name\n');
    writeSha256Sums(join(dir, 'SHA256SUMS'), [file]);
    const run = install(file);
    assert.equal(run.status, 1, run.output);
    assert.match(run.stderr, /✘ unpack: .*\.tar\.xz is not a release tarball: neither xz nor gzip compressed \/ .*不是发布包：既非 xz 也非 gzip 压缩/);
    assert.deepEqual(withoutInstallLog(run.after), withoutInstallLog(run.before), 'nothing but the install log changed');
    assert.match(run.log, /✘ unpack: /);
  });

  describe('on a machine without xz', () => {
    let env: Record<string, string>;
    before(() => {
      env = { PATH: pathWithout(['xz']) };
      assert.equal(spawnSync('bash', ['-c', 'command -v xz'], { env }).status, 1, 'the PATH has no xz');
      assert.equal(spawnSync('bash', ['-c', 'command -v tar'], { env }).status, 0, 'but the rest');
    });

    test('the .tar.xz is refused naming the program and its package, in English and Chinese, before any change', () => {
      const run = install(release.tarball, env);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /✘ unpack: missing program: xz, needed to unpack the release; install it \(Debian\/Ubuntu: apt-get install xz-utils\) and run again/);
      assert.match(run.stderr, /缺少程序 xz，解压发布包需要它；请先安装（Debian\/Ubuntu：apt-get install xz-utils）再重新运行/);
      assert.deepEqual(withoutInstallLog(run.after), withoutInstallLog(run.before), 'nothing but the install log changed');
    });

    test('a .tar.gz still installs: only the format at hand needs its program', () => {
      const run = install(olderGzip.tarball, env);
      assert.equal(run.status, 0, run.output);
      assert.match(run.stdout, /✔ unpack: version .* \(gzip\)/);
    });
  });
});
