// PKG-2: install.sh lays out the appliance below --root, is idempotent, and installs the same way
// through `curl … | bash` from a release server as from a local tarball.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  freePorts, INSTALL_LOG, releaseArtifacts, ROOT, runInstaller, runShell, sha256, snapshotTree, tempRoot, withoutInstallLog, type ReleaseArtifacts,
} from './support.ts';
import { stampInstaller } from '../../installer/package.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

describe('install.sh --from a tarball', () => {
  let release: ReleaseArtifacts;
  let root: ReturnType<typeof tempRoot>;
  let args: string[];
  let ports: number[];
  let firstRun: ReturnType<typeof runInstaller>;

  before(async () => {
    release = await releaseArtifacts();
    root = tempRoot();
    ports = await freePorts(3);
    args = [
      '--from', release.tarball, '--root', root.dir, '--no-start', '--unattended', '--admin-password', 'first-admin-pw',
      '--http-port', String(ports[0]), '--mqtt-port', String(ports[1]), '--mqtts-port', String(ports[2]),
    ];
    firstRun = runInstaller(release.installScript, args);
  });
  after(() => {
    root.remove();
  });

  // (--license-file: only a vendor-signed license passes the binary's check, so the tests show the
  // refusal (failures.test.ts); the copy is the same install_file as every other file here.)
  test('lays out binary, config, certificate, env file, data dir, unit and wrapper with their modes', () => {
    assert.equal(firstRun.status, 0, firstRun.output);
    const at = (path: string) => join(root.dir, path);
    const expected: Record<string, string> = {
      'opt/mcs-edge/mcs-edge': '0755',
      'etc/mcs-edge': '0750',
      'etc/mcs-edge/config.json': '0640',
      'etc/mcs-edge/tls/cert.pem': '0644',
      'etc/mcs-edge/tls/key.pem': '0640',
      'etc/mcs-edge/mcs-edge.env': '0600',
      'var/lib/mcs-edge': '0750',
      'etc/systemd/system/mcs-edge.service': '0644',
      'usr/local/bin/mcs-edge': '0755',
    };
    for (const [path, mode] of Object.entries(expected)) assert.equal(modeOf(at(path)), mode, path);
    assert.equal(sha256(readFileSync(at('opt/mcs-edge/mcs-edge'))), sha256(readFileSync(release.binary)));
    assert.equal(readFileSync(at('etc/systemd/system/mcs-edge.service'), 'utf8'), readFileSync(join(ROOT, 'systemd/mcs-edge.service'), 'utf8'));
    assert.equal(readFileSync(at('etc/mcs-edge/mcs-edge.env'), 'utf8'), "MCS_ADMIN_PASSWORD='first-admin-pw'\n");
    assert.ok(!existsSync(at('etc/systemd/system/mcs-edge.service.d')), 'no ports drop-in for ports above 1024');
    assert.match(readFileSync(at(INSTALL_LOG), 'utf8'), /✔ config check/);
    assert.ok(!firstRun.output.includes('first-admin-pw'), 'the password is not echoed');
    assert.ok(!readFileSync(at(INSTALL_LOG), 'utf8').includes('first-admin-pw'), 'nor logged');
  });

  test('writes a config the appliance accepts, with the ports and TLS files given', () => {
    const config = JSON.parse(readFileSync(join(root.dir, 'etc/mcs-edge/config.json'), 'utf8'));
    const tls = { cert: join(root.dir, 'etc/mcs-edge/tls/cert.pem'), key: join(root.dir, 'etc/mcs-edge/tls/key.pem') };
    assert.equal(config.data_dir, join(root.dir, 'var/lib/mcs-edge'));
    assert.deepEqual(config.http, { host: '0.0.0.0', port: ports[0], tls_cert: tls.cert, tls_key: tls.key });
    assert.deepEqual(config.mqtt, { host: '0.0.0.0', port: ports[1], tls_port: ports[2], tls_cert: tls.cert, tls_key: tls.key });
    const check = spawnSync(join(root.dir, 'usr/local/bin/mcs-edge'), ['check'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(check.status, 0, `the wrapper runs the binary with the installed config: ${check.stderr}`);
    assert.match(check.stdout, /configuration ok/);
  });

  test('generates a self-signed certificate for the host name, its addresses and 127.0.0.1', () => {
    const text = spawnSync('openssl', ['x509', '-in', join(root.dir, 'etc/mcs-edge/tls/cert.pem'), '-noout', '-text'], { encoding: 'utf8' }).stdout;
    const hostname = spawnSync('hostname', { encoding: 'utf8' }).stdout.trim();
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.ok(text.includes(`DNS:${hostname}`), text);
    const key = spawnSync('openssl', ['pkey', '-in', join(root.dir, 'etc/mcs-edge/tls/key.pem'), '-pubout'], { encoding: 'utf8' }).stdout;
    const certKey = spawnSync('openssl', ['x509', '-in', join(root.dir, 'etc/mcs-edge/tls/cert.pem'), '-noout', '-pubkey'], { encoding: 'utf8' }).stdout;
    assert.equal(key, certKey, 'key and certificate belong together');
  });

  test('a second run with the same flags changes nothing: paths, modes, content and mtimes', () => {
    const before = withoutInstallLog(snapshotTree(root.dir));
    const again = runInstaller(release.installScript, args);
    assert.equal(again.status, 0, again.output);
    assert.deepEqual(withoutInstallLog(snapshotTree(root.dir)), before);
    assert.match(again.stdout, /✔ config: kept/);
    assert.match(again.stdout, /✔ tls: kept/);
  });

  test('a re-run with another port (and no password flag) changes only that setting in the config, keeping hand-made edits and the first-start password', () => {
    const configFile = join(root.dir, 'etc/mcs-edge/config.json');
    const edited = readFileSync(configFile, 'utf8').replace('"level": "info"', '"level": "debug"');
    writeFileSync(configFile, edited);
    const [httpPort] = ports;
    const withoutPassword = args.filter((arg, i) => arg !== '--admin-password' && args[i - 1] !== '--admin-password');
    const rerun = runInstaller(release.installScript, withoutPassword.map((arg) => (arg === String(httpPort) ? String(httpPort + 1) : arg)));
    assert.equal(rerun.status, 0, rerun.output);
    assert.equal(readFileSync(join(root.dir, 'etc/mcs-edge/mcs-edge.env'), 'utf8'), "MCS_ADMIN_PASSWORD='first-admin-pw'\n", 'the password for the first start stays');
    assert.match(rerun.stdout, /✔ config: updated/);
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    assert.equal(config.http.port, httpPort + 1);
    assert.equal(config.log.level, 'debug', 'the hand-made edit stays');
    assert.equal(readFileSync(configFile, 'utf8'), edited.replace(`"port": ${httpPort},`, `"port": ${httpPort + 1},`));
  });
});

describe('install.sh through curl | bash', () => {
  let server: Server;
  let baseUrl: string;
  let release: ReleaseArtifacts;

  before(async () => {
    release = await releaseArtifacts();
    server = createServer((request, response) => {
      if (request.url === '/stamped/install.sh') {
        // As `npm run package -- --release-url` publishes it: the download address inside.
        response.writeHead(200).end(stampInstaller(readFileSync(release.installScript, 'utf8'), { version: release.version, releaseUrl: `${baseUrl}/` }));
        return;
      }
      const file = join(release.releaseDir, decodeURIComponent(new URL(request.url!, 'http://x').pathname).replace(/^\/+/, ''));
      if (!file.startsWith(release.releaseDir) || !existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-length': statSync(file).size });
      createReadStream(file).pipe(response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  test('downloads the tarball and SHA256SUMS from --base-url, verifies and installs', async () => {
    const root = tempRoot();
    try {
      const ports = await freePorts(2);
      const run = await runShell(
        `curl -fsSL ${baseUrl}/install.sh | bash -s -- --base-url ${baseUrl} --root ${root.dir} --no-start --unattended --tls none ` +
          `--http-port ${ports[0]} --mqtt-port ${ports[1]}`,
      );
      assert.equal(run.status, 0, run.output);
      assert.match(run.stdout, new RegExp(`✔ release: ${baseUrl}/${release.name}\\.tar\\.xz`));
      assert.match(run.stdout, /✔ checksum: sha256 [0-9a-f]{64}/);
      assert.equal(sha256(readFileSync(join(root.dir, 'opt/mcs-edge/mcs-edge'))), sha256(readFileSync(release.binary)));
      const config = JSON.parse(readFileSync(join(root.dir, 'etc/mcs-edge/config.json'), 'utf8'));
      assert.equal(config.mqtt.tls_cert, '', '--tls none');
      assert.ok(!existsSync(join(root.dir, 'etc/mcs-edge/tls')));
      assert.ok(!existsSync(join(root.dir, 'etc/mcs-edge/mcs-edge.env')), 'no env file without an admin password');
    } finally {
      root.remove();
    }
  });

  test('without --base-url it downloads from the address stamped at package time', async () => {
    const root = tempRoot();
    try {
      const ports = await freePorts(2);
      const run = await runShell(
        `curl -fsSL ${baseUrl}/stamped/install.sh | bash -s -- --root ${root.dir} --no-start --unattended --tls none --http-port ${ports[0]} --mqtt-port ${ports[1]}`,
      );
      assert.equal(run.status, 0, run.output);
      assert.match(run.stdout, new RegExp(`✔ release: ${baseUrl}/${release.name}\\.tar\\.xz`));
    } finally {
      root.remove();
    }
  });

  test('a download that fails is reported and leaves nothing installed', async () => {
    const root = tempRoot();
    try {
      const run = await runShell(`curl -fsSL ${baseUrl}/install.sh | bash -s -- --base-url ${baseUrl}/nothing-here --root ${root.dir} --unattended`);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /✘ release: cannot download .*nothing-here.*404/);
      assert.deepEqual([...withoutInstallLog(snapshotTree(root.dir)).keys()], []);
    } finally {
      root.remove();
    }
  });
});

describe('install.sh with a terminal', () => {
  test('asks for the admin password (twice), the license file and TLS when no flag gives them', async () => {
    const release = await releaseArtifacts();
    const root = tempRoot();
    try {
      const ports = await freePorts(2);
      // `script` gives the installer a pseudo-terminal as /dev/tty; the answers wait in its input.
      const command = `bash ${release.installScript} --from ${release.tarball} --root ${root.dir} --no-start --http-port ${ports[0]} --mqtt-port ${ports[1]}`;
      const run = spawnSync('script', ['-qec', command, '/dev/null'], { input: 'prompted-pw-1\nprompted-pw-1\n\nnone\n', encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, run.stdout);
      assert.match(run.stdout, /Admin password \(8-128 characters; empty = random one-time password\):/);
      assert.match(run.stdout, /Admin password again:/);
      assert.match(run.stdout, /License key file \(empty = evaluation mode/);
      assert.match(run.stdout, /TLS: self-signed, none or CERT\.pem,KEY\.pem \[self-signed\]:/);
      // (The answers are typed ahead, so the terminal echoes them before `read -s` could hide them.)
      assert.ok(!readFileSync(join(root.dir, INSTALL_LOG), 'utf8').includes('prompted-pw-1'), 'the password is not logged');
      assert.equal(readFileSync(join(root.dir, 'etc/mcs-edge/mcs-edge.env'), 'utf8'), "MCS_ADMIN_PASSWORD='prompted-pw-1'\n");
      assert.equal(JSON.parse(readFileSync(join(root.dir, 'etc/mcs-edge/config.json'), 'utf8')).mqtt.tls_cert, '', 'the TLS answer');
    } finally {
      root.remove();
    }
  });
});
