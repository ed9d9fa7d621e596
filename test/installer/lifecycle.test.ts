// PKG-2 with the service running (below --root, without systemd install.sh starts the binary in the
// background): install → healthy, an idempotent re-run, an upgrade that fails its health check and
// rolls back, one that succeeds, then --uninstall and --uninstall --purge.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  brokenRelease, curlJson, freePorts, releaseArtifacts, repackRelease, runInstaller, runningPid, sha256, stopStarted, tempRoot, type ReleaseArtifacts,
} from './support.ts';

const PASSWORD = 'first-admin-pw';

describe('install.sh with the service running', () => {
  let release: ReleaseArtifacts;
  let root: ReturnType<typeof tempRoot>;
  let ports: number[];
  let flags: string[];
  const at = (path: string) => join(root.dir, path);
  const healthUrl = () => `https://127.0.0.1:${ports[0]}/api/system/health`;
  const health = () => curlJson(healthUrl()) as { status: number; body: { status: string; version: string } } | null;
  const login = () => curlJson(`https://127.0.0.1:${ports[0]}/api/auth/login`, { method: 'POST', body: { username: 'admin', password: PASSWORD } });

  before(async () => {
    release = await releaseArtifacts();
    root = tempRoot();
    ports = await freePorts(3);
    flags = ['--root', root.dir, '--unattended', '--http-port', String(ports[0]), '--mqtt-port', String(ports[1]), '--mqtts-port', String(ports[2])];
  });
  after(async () => {
    await stopStarted(root.dir);
    root.remove();
  });

  test('installs, starts the binary, waits until it is healthy and prints where everything is', () => {
    const run = runInstaller(release.installScript, ['--from', release.tarball, '--admin-password', PASSWORD, ...flags]);
    assert.equal(run.status, 0, run.output);
    assert.match(run.stdout, /✔ health: (ok|degraded), version \S+/);
    const answer = health();
    assert.equal(answer?.status, 200, 'HTTPS with the self-signed certificate');
    assert.match(run.stdout, new RegExp(`✔ health: ${answer!.body.status}, version ${answer!.body.version.replaceAll('.', '\\.')}`));
    assert.match(run.stdout, new RegExp(`Admin UI: +https://\\S+:${ports[0]}/`));
    assert.match(run.stdout, new RegExp(`Kiosk: +https://\\S+:${ports[0]}/dashboard +\\(create a kiosk link in Admin → System\\)`));
    assert.match(run.stdout, new RegExp(`MQTT: +mqtt://\\S+:${ports[1]} +mqtts://\\S+:${ports[2]}`));
    assert.match(run.stdout, new RegExp(`Config: +${at('etc/mcs-edge/config.json')}`));
    assert.match(run.stdout, new RegExp(`Data: +${at('var/lib/mcs-edge')}`));
    assert.match(run.stdout, new RegExp(`Logs: +${at('var/log/mcs-edge/mcs-edge.log')}`));
    assert.match(run.stdout, /Admin: +user admin with the password you gave/);
    assert.equal(login()?.status, 200, 'the first admin has the password given to the installer');
    assert.ok(!existsSync(at('etc/mcs-edge/mcs-edge.env')), 'the password file is gone after the first healthy start');
  });

  test('a re-run with the same flags leaves the running service alone', () => {
    const pid = runningPid(root.dir);
    const run = runInstaller(release.installScript, ['--from', release.tarball, ...flags]);
    assert.equal(run.status, 0, run.output);
    assert.match(run.stdout, /✔ ports: /, 'the ports held by our own service are fine');
    assert.match(run.stdout, /✔ start: already running, nothing changed/);
    assert.match(run.stdout, /Admin: +existing users unchanged/);
    assert.equal(runningPid(root.dir), pid);
  });

  test('--upgrade to a version that fails its health check restores binary and database and restarts the old one', () => {
    const oldBinary = sha256(readFileSync(at('opt/mcs-edge/mcs-edge')));
    const oldVersion = health()!.body.version;
    const broken = brokenRelease(release, '9.9.9');
    const run = runInstaller(broken.installScript, ['--from', broken.tarball, '--upgrade', ...flags]);
    assert.equal(run.status, 1, run.output);
    assert.match(run.stdout, /✔ database backup: .*pre-upgrade-/);
    assert.match(run.stderr, /✘ health: the process exited: .*broken build: cannot start/);
    assert.match(run.stdout, new RegExp(`✔ rollback: version ${oldVersion.replaceAll('.', '\\.')} is running again and healthy`));
    assert.equal(sha256(readFileSync(at('opt/mcs-edge/mcs-edge'))), oldBinary, 'the old binary is back');
    assert.ok(!existsSync(at('opt/mcs-edge/mcs-edge.previous')));
    assert.equal(health()?.body.version, oldVersion);
    assert.equal(login()?.status, 200, 'the restored database (the broken version overwrote it) still has the admin');
    assert.deepEqual(readdirSync(at('var/lib/mcs-edge/backups')).filter((name) => name.startsWith('pre-upgrade-')), [], 'the used backup is cleared');
  });

  test('--upgrade to a version that starts keeps config and data, the previous binary and a database backup', () => {
    const configBefore = readFileSync(at('etc/mcs-edge/config.json'), 'utf8');
    const pidBefore = runningPid(root.dir);
    const next = repackRelease(release, `${release.version}-next`);
    const run = runInstaller(next.installScript, ['--from', next.tarball, '--upgrade', ...flags]);
    assert.equal(run.status, 0, run.output);
    assert.match(run.stdout, /✔ health: (ok|degraded)/);
    assert.notEqual(runningPid(root.dir), pidBefore, 'the service was restarted');
    assert.ok(existsSync(at('opt/mcs-edge/mcs-edge.previous')), 'the old binary is kept for a manual rollback');
    assert.equal(readFileSync(at('etc/mcs-edge/config.json'), 'utf8'), configBefore);
    const backups = readdirSync(at('var/lib/mcs-edge/backups')).filter((name) => name.startsWith('pre-upgrade-'));
    assert.equal(backups.length, 1);
    assert.ok(existsSync(at(`var/lib/mcs-edge/backups/${backups[0]}/mcs-edge.db`)));
    assert.equal(login()?.status, 200, 'the users are still there');
  });

  test('--uninstall stops the service and removes program, unit and wrapper but keeps config and data', () => {
    const run = runInstaller(release.installScript, ['--uninstall', '--root', root.dir, '--unattended']);
    assert.equal(run.status, 0, run.output);
    assert.equal(runningPid(root.dir), null);
    assert.equal(health(), null, 'nothing answers any more');
    for (const gone of ['opt/mcs-edge', 'etc/systemd/system/mcs-edge.service', 'usr/local/bin/mcs-edge']) assert.ok(!existsSync(at(gone)), gone);
    for (const kept of ['etc/mcs-edge/config.json', 'etc/mcs-edge/tls/key.pem', 'var/lib/mcs-edge/mcs-edge.db']) assert.ok(existsSync(at(kept)), kept);
    assert.match(run.stdout, /✔ config and data: kept .* \(--purge removes them\)/);
  });

  test('--uninstall --purge removes config and data too', () => {
    const run = runInstaller(release.installScript, ['--uninstall', '--purge', '--root', root.dir, '--unattended']);
    assert.equal(run.status, 0, run.output);
    for (const gone of ['etc/mcs-edge', 'var/lib/mcs-edge']) assert.ok(!existsSync(at(gone)), gone);
    const again = runInstaller(release.installScript, ['--uninstall', '--root', root.dir, '--unattended']);
    assert.equal(again.status, 0, again.output);
    assert.match(again.stdout, /MCS Edge is not installed here/);
  });
});
