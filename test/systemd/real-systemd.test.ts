// PKG-2 / PKG-3 under a real systemd (a Debian box booted with systemd-nspawn, test/systemd/container.ts):
// install.sh creates the user, installs and starts the unit; the appliance runs inside the
// sandbox the unit sets up, says READY and keeps the watchdog fed; a hung process is killed by the
// watchdog and restarted, a killed one restarted, a broken configuration (exit 78) not restarted;
// a port below 1024 works with only CAP_NET_BIND_SERVICE; uninstall --purge leaves nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { freePorts, releaseArtifacts, type ReleaseArtifacts } from '../installer/support.ts';
import { bootBox, type Box } from './container.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free privileged port on the host (whose network the box shares). */
async function freeLowPort(): Promise<number> {
  for (let port = 1023; port > 900; port--) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false)).listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 901 and 1023');
}

describe('install.sh and the unit under a real systemd', { timeout: 15 * 60_000 }, () => {
  let release: ReleaseArtifacts;
  let box: Box;
  let ports: number[];
  const install = (flags: string) =>
    box.run(`cd /root/release && bash install.sh --from ${basename(release.tarball)} --unattended ${flags} 2>&1`, 180_000);

  before(async () => {
    release = await releaseArtifacts();
    box = await bootBox(release.releaseDir);
    ports = await freePorts(3); // the box shares the host's network
  });
  after(async () => {
    await box?.stop();
  });

  test('installs, starts as mcs under the sandbox, reports READY with its status, and the wrapper runs as mcs', () => {
    const run = install(`--admin-password box-admin-pw1 --http-port ${ports[0]} --mqtt-port ${ports[1]} --mqtts-port ${ports[2]}`);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /✔ user: created mcs/);
    assert.match(run.output, /✔ health: ok, version /);
    assert.equal(box.property('ActiveState'), 'active');
    assert.equal(box.property('User'), 'mcs');
    assert.equal(box.property('StatusText'), `serving, version ${release.version}`, 'sd_notify READY=1 with STATUS');
    assert.equal(box.property('WatchdogUSec'), '30s');
    assert.equal(box.property('ProtectSystem'), 'strict');
    assert.equal(box.run('test -e /etc/mcs-edge/mcs-edge.env && echo present || echo removed').output.trim(), 'removed', 'the first-start password file goes');
    const added = box.run('/usr/local/bin/mcs-edge devices add BOX-0001 --name Boiler --high 1000');
    assert.equal(added.status, 0, added.output);
    assert.equal(box.run('find /var/lib/mcs-edge ! -user mcs | wc -l').output.trim(), '0', 'root using the wrapper leaves no root-owned file in the data dir');
    const login = box.run(`curl -sk -X POST -H 'content-type: application/json' -d '{"username":"admin","password":"box-admin-pw1"}' https://127.0.0.1:${ports[0]}/api/auth/login`);
    assert.match(login.output, /"access_token"/);
  });

  test('kept fed, the watchdog restarts nothing; a frozen process is killed by it and restarted', async () => {
    await sleep(35_000); // longer than WatchdogSec=30
    assert.equal(box.property('NRestarts'), '0', 'the WATCHDOG=1 pings arrive');
    const frozen = box.property('MainPID');
    box.run(`kill -STOP ${frozen}`);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(box.property('MainPID') !== frozen && box.property('ActiveState') === 'active')) await sleep(1000);
    assert.notEqual(box.property('MainPID'), frozen);
    assert.equal(box.property('ActiveState'), 'active');
    assert.match(box.run('journalctl -u mcs-edge --no-pager -o cat').output, /Watchdog timeout \(limit 30s\)/);
  });

  test('a killed process is restarted; a broken configuration (exit 78) is not restarted in a loop', async () => {
    const restarts = Number(box.property('NRestarts'));
    box.run(`kill -KILL ${box.property('MainPID')}`);
    for (let i = 0; i < 20 && box.property('NRestarts') === String(restarts); i++) await sleep(500);
    for (let i = 0; i < 20 && box.property('ActiveState') !== 'active'; i++) await sleep(500);
    assert.equal(box.property('NRestarts'), String(restarts + 1));
    assert.equal(box.property('ActiveState'), 'active');

    box.run('cp /etc/mcs-edge/config.json /root/config.good && sed -i \'s/"level": "info"/"level": "loud"/\' /etc/mcs-edge/config.json');
    box.run('systemctl restart mcs-edge');
    await sleep(6000);
    assert.equal(box.property('ActiveState'), 'failed');
    assert.equal(box.property('ExecMainStatus'), '78');
    assert.equal(box.property('NRestarts'), '0', 'RestartPreventExitStatus=78');
    assert.match(box.run('journalctl -u mcs-edge --no-pager -o cat -n 20').output, /invalid configuration/);
    box.run('cp /root/config.good /etc/mcs-edge/config.json && systemctl restart mcs-edge');
    assert.equal(box.property('ActiveState'), 'active');
  });

  test('SIGTERM (systemctl stop) stops it cleanly and quickly', () => {
    const started = Date.now();
    box.run('systemctl stop mcs-edge');
    assert.ok(Date.now() - started < 10_000, 'OPS-4');
    assert.equal(box.property('ActiveState'), 'inactive');
    assert.match(box.run('journalctl -u mcs-edge --no-pager -o cat -n 10').output, /stopped cleanly/);
  });

  test('a port below 1024 runs with CAP_NET_BIND_SERVICE and nothing else', async () => {
    const low = await freeLowPort();
    const run = install(`--http-port ${low} --mqtt-port ${ports[1]} --mqtts-port ${ports[2]}`);
    assert.equal(run.status, 0, run.output);
    assert.equal(box.property('AmbientCapabilities'), 'cap_net_bind_service');
    assert.equal(box.property('CapabilityBoundingSet'), 'cap_net_bind_service');
    assert.match(box.run(`curl -sk https://127.0.0.1:${low}/api/system/health`).output, /"status":"(ok|degraded)"/);
  });

  test('--uninstall --purge removes the service, files and user', () => {
    const run = box.run('cd /root/release && bash install.sh --uninstall --purge 2>&1');
    assert.equal(run.status, 0, run.output);
    assert.equal(box.run('ls -d /opt/mcs-edge /etc/mcs-edge /var/lib/mcs-edge /etc/systemd/system/mcs-edge.service 2>/dev/null | wc -l').output.trim(), '0');
    assert.notEqual(box.run('id mcs').status, 0);
    assert.equal(box.property('LoadState'), 'not-found');
  });
});
