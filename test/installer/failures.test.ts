// PKG-2: every way an install can fail says why and leaves nothing half-installed — before the
// first change nothing is written (but the install log), and a failure after it is undone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  configRejectingRelease, freePorts, INSTALL_LOG, releaseArtifacts, runInstaller, snapshotTree, tempRoot, withoutInstallLog, type ReleaseArtifacts,
} from './support.ts';

/** A root holding an earlier, unrelated file, so "unchanged" is not just "empty". */
function seededRoot() {
  const root = tempRoot();
  mkdirSync(join(root.dir, 'etc'), { recursive: true });
  writeFileSync(join(root.dir, 'etc/hostname'), 'edge-box\n');
  return root;
}

describe('install.sh failures', () => {
  let release: ReleaseArtifacts;
  let ports: number[];

  before(async () => {
    release = await releaseArtifacts();
    ports = await freePorts(3);
  });

  /** Runs the installer on a fresh root and checks the tree did not change apart from the install log. */
  function failingInstall(args: string[], env: Record<string, string> = {}, installScript = release.installScript) {
    const root = seededRoot();
    try {
      const before = snapshotTree(root.dir);
      const run = runInstaller(installScript, [
        '--root', root.dir, '--unattended', '--http-port', String(ports[0]), '--mqtt-port', String(ports[1]), '--mqtts-port', String(ports[2]), ...args,
      ], env);
      const after = snapshotTree(root.dir);
      const log = after.has(INSTALL_LOG) ? readFileSync(join(root.dir, INSTALL_LOG), 'utf8') : null;
      assert.deepEqual(withoutInstallLog(after), withoutInstallLog(before), `nothing but the install log changed:\n${run.output}`);
      return { ...run, log, after };
    } finally {
      root.remove();
    }
  }

  describe('bad usage exits 64 and touches nothing, not even the log', () => {
    const cases: [string, string[], RegExp][] = [
      ['a non-numeric port', ['--http-port', 'eighty'], /--http-port: not a port number: eighty/],
      ['a port out of range', ['--mqtt-port', '70000'], /--mqtt-port: not a port number: 70000/],
      ['--purge without --uninstall', ['--purge'], /--purge only goes with --uninstall/],
      ['a missing --from file', ['--from', '/nonexistent/mcs-edge.tar.xz'], /--from: no such file/],
      ['an unknown flag', ['--fast'], /unknown option: --fast/],
      ['a flag without its value', ['--from'], /--from needs a value/],
      ['a short admin password', ['--admin-password', 'short'], /--admin-password: must have 8 to 128 characters/],
      ['an unknown TLS mode', ['--tls', 'letsencrypt'], /--tls: expected self-signed, none or CERT.pem,KEY.pem/],
      ['the same port twice', ['--mqtts-port', '0'], /not a port number/],
      ['--upgrade with --uninstall', ['--upgrade', '--uninstall'], /exclude each other/],
    ];
    for (const [what, args, message] of cases) {
      test(what, () => {
        const run = failingInstall(['--from', release.tarball, ...args]);
        assert.equal(run.status, 64, run.output);
        assert.match(run.stderr, message);
        assert.equal(run.log, null, 'no install log for a usage error');
      });
    }

    test('two services on one port', () => {
      const run = failingInstall(['--from', release.tarball, '--mqtt-port', String(ports[0])]);
      assert.equal(run.status, 64, run.output);
      assert.match(run.stderr, /the HTTP, MQTT and MQTTS ports must differ/);
    });
  });

  test('a license file the appliance would refuse stops the install before any change, with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcs-license-'));
    try {
      const license = join(dir, 'license.key');
      writeFileSync(license, '{"license":"edited by hand"}\n');
      const run = failingInstall(['--from', release.tarball, '--license-file', license]);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /✘ license check: .*license\.key is not a valid license/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a tarball that does not match SHA256SUMS is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcs-tampered-'));
    try {
      const tarball = join(dir, basename(release.tarball));
      copyFileSync(release.tarball, tarball);
      const bytes = readFileSync(tarball);
      bytes[bytes.length - 20] ^= 0xff; // one flipped byte
      writeFileSync(tarball, bytes);
      copyFileSync(release.sums, join(dir, 'SHA256SUMS'));
      const run = failingInstall(['--from', tarball]);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /✘ checksum: checksum mismatch for mcs-edge-.*-linux-x64\.tar\.xz \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/);
      assert.match(run.log ?? '', /✘ checksum: checksum mismatch/, 'the failure is in the install log');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a tarball without SHA256SUMS beside it is refused unless --skip-checksum', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcs-nosums-'));
    try {
      const tarball = join(dir, basename(release.tarball));
      copyFileSync(release.tarball, tarball);
      const run = failingInstall(['--from', tarball]);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /✘ checksum: no SHA256SUMS beside .*\(give --skip-checksum to install without it\)/);
      const root = tempRoot();
      try {
        const skipped = runInstaller(release.installScript, ['--from', tarball, '--root', root.dir, '--unattended', '--no-start', '--skip-checksum', '--tls', 'none',
          '--http-port', String(ports[0]), '--mqtt-port', String(ports[1])]);
        assert.equal(skipped.status, 0, skipped.output);
        assert.match(skipped.stdout, /✔ checksum: skipped \(--skip-checksum\)/);
      } finally {
        root.remove();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('too little free disk is refused (MCS_INSTALL_MIN_DISK_MB)', () => {
    const run = failingInstall(['--from', release.tarball], { MCS_INSTALL_MIN_DISK_MB: '1000000000' });
    assert.equal(run.status, 1, run.output);
    assert.match(run.stderr, /✘ disk: \d+ MB free at \/.*, at least 1000000000 MB needed/);
  });

  test('too little memory is refused (MCS_INSTALL_MIN_MEM_MB)', () => {
    const run = failingInstall(['--from', release.tarball], { MCS_INSTALL_MIN_MEM_MB: '100000000' });
    assert.equal(run.status, 1, run.output);
    assert.match(run.stderr, /✘ memory: \d+ MB of memory, at least 100000000 MB needed/);
  });

  describe('a port another program listens on', () => {
    let server: Server;
    let busyPort: number;
    before(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      busyPort = (server.address() as { port: number }).port;
    });
    after(() => server.close());

    test('is refused with the flag that moves it', () => {
      const run = failingInstall(['--from', release.tarball, '--mqtt-port', String(busyPort)]);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, new RegExp(`✘ ports: port ${busyPort} \\(mqtt\\) is in use by another program; free it or choose another with --mqtt-port`));
    });

    test('the MQTTS port only counts when TLS is on', () => {
      const withTls = failingInstall(['--from', release.tarball, '--mqtts-port', String(busyPort)]);
      assert.match(withTls.stderr, new RegExp(`port ${busyPort} \\(mqtts\\) is in use`));
      const root = tempRoot();
      try {
        const run = runInstaller(release.installScript, ['--from', release.tarball, '--root', root.dir, '--unattended', '--no-start', '--tls', 'none',
          '--http-port', String(ports[0]), '--mqtt-port', String(ports[1]), '--mqtts-port', String(busyPort)]);
        assert.equal(run.status, 0, run.output);
      } finally {
        root.remove();
      }
    });
  });

  test('a failure after the first change removes everything this run created', () => {
    const rejecting = configRejectingRelease(release);
    const run = failingInstall(['--from', rejecting.tarball, '--admin-password', 'first-admin-pw'], {}, rejecting.installScript);
    assert.equal(run.status, 1, run.output);
    assert.match(run.stderr, /✘ config check: the appliance rejects .*config\.json: .*http\.port: rejected by this test build/);
    assert.match(run.stdout, /✔ binary/, 'it failed after files were written');
    assert.match(run.stdout, /✔ rollback: nothing of this run is left/);
  });

  test('--upgrade without an install is refused', () => {
    const run = failingInstall(['--from', release.tarball, '--upgrade']);
    assert.equal(run.status, 1, run.output);
    assert.match(run.stderr, /✘ existing install: --upgrade needs an existing install/);
  });
});
