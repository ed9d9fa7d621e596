// PKG-3: systemd/mcs-edge.service is a valid unit with the properties the appliance relies on, and
// install.sh adds the capability drop-in exactly when a port below 1024 is configured. Checked
// with systemd-analyze offline (no running systemd needed): `verify` loads the unit and its
// drop-ins from a temp dir on SYSTEMD_UNIT_PATH, and at debug level prints the parsed properties.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, releaseArtifacts, ROOT, runInstaller, tempRoot, type ReleaseArtifacts } from '../installer/support.ts';

const UNIT = join(ROOT, 'systemd/mcs-edge.service');
const BINARY = '/opt/mcs-edge/mcs-edge';

/**
 * The unit (and drop-ins) in a temp dir, ExecStart pointing at an executable that exists here
 * (verify checks it) with the real arguments, as systemd-analyze verify sees it.
 */
function verifyUnit(unitText: string, dropIns: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-unit-'));
  try {
    writeFileSync(join(dir, 'mcs-edge.service'), unitText.replace(`ExecStart=${BINARY} `, 'ExecStart=/bin/true '));
    if (Object.keys(dropIns).length) mkdirSync(join(dir, 'mcs-edge.service.d'));
    for (const [name, text] of Object.entries(dropIns)) writeFileSync(join(dir, 'mcs-edge.service.d', name), text);
    const verify = (env: Record<string, string>) =>
      spawnSync('systemd-analyze', ['verify', join(dir, 'mcs-edge.service')], {
        encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_COLOR: '0', ...env },
      });
    const run = verify({});
    // At debug level the parsed unit is dumped to stdout, one `\t\tKey: value` line per property.
    const dump = verify({ SYSTEMD_LOG_LEVEL: 'debug' }).stdout;
    const properties = new Map<string, string>();
    for (const line of dump.split('\n')) {
      const match = /^\t\t([A-Za-z]+): (.*)$/.exec(line);
      if (match && !properties.has(match[1])) properties.set(match[1], match[2]);
    }
    const complaints = run.stderr.split('\n').filter((line) => line.trim() !== '');
    return { status: run.status, complaints, properties, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('systemd/mcs-edge.service', () => {
  const unitText = readFileSync(UNIT, 'utf8');

  test('systemd-analyze verify accepts it without a single complaint', () => {
    const result = verifyUnit(unitText);
    assert.equal(result.status, 0, result.stderr.slice(-3000));
    assert.deepEqual(result.complaints, []);
    assert.match(unitText, new RegExp(`^ExecStart=${BINARY} --config /etc/mcs-edge/config.json serve$`, 'm'));
  });

  test('a mistake in it would be noticed (the check above can fail)', () => {
    const result = verifyUnit(unitText.replace('WatchdogSec=30', 'WatchdogSecs=30'));
    assert.match(result.complaints.join('\n'), /Unknown key 'WatchdogSecs'/);
  });

  test('runs as mcs, Type=notify with a 30 s watchdog, sandboxed, restarting on failure and stopping with SIGTERM', () => {
    const { properties } = verifyUnit(unitText);
    const expected: Record<string, string> = {
      Type: 'notify', NotifyAccess: 'main', WatchdogSec: '30s', User: 'mcs', Group: 'mcs',
      Restart: 'on-failure', RestartSec: '2s', KillSignal: 'SIGTERM', TimeoutStopSec: '15s', TimeoutStartSec: '1min',
      ProtectSystem: 'strict', ProtectHome: 'yes', ReadWritePaths: '/var/lib/mcs-edge', StateDirectory: 'mcs-edge', StateDirectoryMode: '0750',
      EnvironmentFile: '-/etc/mcs-edge/mcs-edge.env', CapabilityBoundingSet: '', LimitNOFILE: '65536',
      MemoryDenyWriteExecute: 'no', // V8's JIT
      ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectControlGroups: 'yes',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(properties.get(key), value, key);
    assert.ok(!properties.has('AmbientCapabilities') || properties.get('AmbientCapabilities') === '', 'no capabilities without the drop-in');
    // Not in the debug dump: checked on the text.
    for (const line of ['RestartPreventExitStatus=78', 'NoNewPrivileges=true', 'PrivateTmp=true', 'PrivateDevices=true',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK']) {
      assert.match(unitText, new RegExp(`^${line}$`, 'm'), line);
    }
  });

  test('its exposure per systemd-analyze security stays low (at most 2.0 of 10)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcs-unit-'));
    try {
      copyFileSync(UNIT, join(dir, 'mcs-edge.service'));
      const run = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=20', join(dir, 'mcs-edge.service')], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stdout.split('\n').filter((line) => line.includes('✗') || line.includes('Overall')).join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A port below 1024 that nothing listens on (the installer only checks it; nothing binds it). */
function freeLowPort(): number {
  const listening = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A') listening.add(parseInt(fields[1].split(':').pop()!, 16));
    }
  }
  for (let port = 1023; port > 900; port--) if (!listening.has(port)) return port;
  throw new Error('no free port below 1024');
}

describe('the ports drop-in', () => {
  let release: ReleaseArtifacts;
  let root: ReturnType<typeof tempRoot>;
  let ports: number[];
  const dropIn = () => join(root.dir, 'etc/systemd/system/mcs-edge.service.d/10-ports.conf');
  const install = (httpPort: number) =>
    runInstaller(release.installScript, ['--from', release.tarball, '--root', root.dir, '--unattended', '--no-start', '--tls', 'none',
      '--http-port', String(httpPort), '--mqtt-port', String(ports[1])]);

  before(async () => {
    release = await releaseArtifacts();
    root = tempRoot();
    ports = await freePorts(2);
  });
  after(() => root.remove());

  test('is written for a port below 1024 and grants exactly CAP_NET_BIND_SERVICE', () => {
    const lowPort = freeLowPort();
    const run = install(lowPort);
    assert.equal(run.status, 0, run.output);
    const text = readFileSync(dropIn(), 'utf8');
    assert.match(text, new RegExp(`port\\(s\\) ${lowPort} are below 1024`));
    const { status, complaints, properties } = verifyUnit(readFileSync(join(root.dir, 'etc/systemd/system/mcs-edge.service'), 'utf8'), { '10-ports.conf': text });
    assert.equal(status, 0);
    assert.deepEqual(complaints, []);
    assert.equal(properties.get('CapabilityBoundingSet'), 'cap_net_bind_service');
    assert.equal(properties.get('AmbientCapabilities'), 'cap_net_bind_service');
  });

  test('is removed again when no port is below 1024 any more', () => {
    const run = install(ports[0]);
    assert.equal(run.status, 0, run.output);
    assert.ok(!existsSync(dropIn()));
    assert.ok(!existsSync(join(root.dir, 'etc/systemd/system/mcs-edge.service.d')), 'and its directory');
    assert.equal(JSON.parse(readFileSync(join(root.dir, 'etc/mcs-edge/config.json'), 'utf8')).http.port, ports[0]);
  });
});
