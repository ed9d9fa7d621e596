// `mcs-edge devices …` against a real data directory: what it prints, what it stores, exit codes.
import { test, describe, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDevicesCommand } from '../../appliance/cli/devices.ts';
import { loadConfig, type Config } from '../../appliance/core/config.ts';
import { verifyPassword } from '../../appliance/core/device-credentials.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { createDeviceRepository, type Device } from '../../appliance/storage/devices.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';

let dir: string;
let config: Config;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
  const result = loadConfig({ env: {}, overrides: { data_dir: dir } });
  assert.ok(result.ok);
  config = result.config;
});
afterEach(() => {
  mock.restoreAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the command, collecting stdout lines (the `out` function) and what went to stderr. */
async function run(...argv: string[]) {
  const lines: string[] = [];
  let stderr = '';
  const write = mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runDevicesCommand(argv, config, (line) => lines.push(line));
    return { code, out: lines.join('\n'), lines, stderr };
  } finally {
    write.mock.restore();
  }
}

/** Reads a device straight from the database file, as another process would. */
function stored(sn: string): Device | undefined {
  const db = openDb(dbFileIn(dir));
  try {
    return createDeviceRepository(db).get(sn);
  } finally {
    db.close();
  }
}

describe('devices add', () => {
  test('prints the MQTT username and a generated password once, and stores only its hash', async () => {
    const { code, out, lines } = await run('add', 'MCS-A001', '--high', '1000', '--name', 'Boiler room');
    assert.equal(code, 0, out);
    assert.ok(lines.some((l) => l.includes('MQTT username: device_MCS-A001')), out);
    const match = /MQTT password: (\S+)/.exec(out);
    assert.ok(match, out);
    const password = match[1];
    assert.equal(out.split(password).length - 1, 1, 'the password is printed exactly once');
    const device = stored('MCS-A001')!;
    assert.equal(device.name, 'Boiler room');
    assert.ok(device.password_hash && !device.password_hash.includes(password));
    assert.equal(await verifyPassword(device.password_hash, password), true);
  });

  test('--factory registers the derived password and prints no password', async () => {
    const { code, out } = await run('add', 'F1', '--high', '1000', '--factory');
    assert.equal(code, 0, out);
    assert.match(out, /factory-derived/);
    assert.doesNotMatch(out, /MQTT password: \S+\s+<- shown once/);
    assert.equal(stored('F1')!.password_hash, null);
  });

  test('negative numbers are read as values: --b -10, --t-comp -.5', async () => {
    const { code, out } = await run('add', 'A1', '--high', '1000', '--k', '1.5', '--b', '-10', '--t-comp', '-.5', '--t-ref', '20');
    assert.equal(code, 0, out);
    assert.deepEqual(stored('A1')!.calib, { k: 1.5, b: -10, t_ref: 20, t_comp: -0.5 });
  });

  test('an invalid number exits 1 with a message naming the flag and writes nothing', async () => {
    const { code, stderr } = await run('add', 'A1', '--high', '1000', '--k', 'abc');
    assert.equal(code, 1);
    assert.match(stderr, /--k: 'abc' is not a number/);
    assert.match(stderr, /40004/);
    assert.equal(stored('A1'), undefined);
  });

  test('a serial already registered exits 1 with code 40002', async () => {
    assert.equal((await run('add', 'A1', '--high', '1000')).code, 0);
    const { code, stderr } = await run('add', 'A1', '--high', '1000');
    assert.equal(code, 1);
    assert.match(stderr, /40002/);
  });
});

describe('devices list / show', () => {
  test('list shows each device and the count', async () => {
    await run('add', 'A1', '--name', 'Tank', '--location', 'Hall 2', '--high', '800');
    await run('add', 'B2', '--high', '1000', '--disable');
    const { code, lines } = await run('list');
    assert.equal(code, 0);
    const a = lines.find((l) => l.startsWith('A1\t'));
    assert.ok(a, lines.join('\n'));
    assert.match(a, /Tank/);
    assert.match(a, /Hall 2/);
    assert.match(a, /high 800/);
    assert.match(lines.find((l) => l.startsWith('B2\t'))!, /disabled/);
    assert.equal(lines.at(-1), '2 devices');
  });

  test('list --json and show never print the password hash', async () => {
    await run('add', 'A1', '--high', '1000');
    const list = await run('list', '--json');
    const items = JSON.parse(list.out) as Record<string, unknown>[];
    assert.equal(items.length, 1);
    assert.equal(items[0].sn, 'A1');
    assert.ok(!('password_hash' in items[0]));
    const show = await run('show', 'A1');
    assert.equal(show.code, 0);
    const device = JSON.parse(show.out) as Record<string, unknown>;
    assert.equal(device.sn, 'A1');
    assert.ok(!('password_hash' in device));
    assert.doesNotMatch(show.out, /sha256\$/);
  });

  test('show of an unknown device exits 1 with code 40001', async () => {
    const { code, stderr } = await run('show', 'NOPE');
    assert.equal(code, 1);
    assert.match(stderr, /40001/);
  });
});

describe('devices update', () => {
  test('changes limits, and --high none clears the high limit', async () => {
    await run('add', 'A1', '--high', '1000');
    let result = await run('update', 'A1', '--high', '800', '--low', '10');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(stored('A1')!.high_limit, 800);
    assert.equal(stored('A1')!.low_limit, 10);
    result = await run('update', 'A1', '--high', 'none');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(stored('A1')!.high_limit, null);
    assert.equal(stored('A1')!.low_limit, 10);
  });

  test('an invalid number exits 1 and leaves the device unchanged', async () => {
    await run('add', 'A1', '--high', '500');
    const { code, stderr } = await run('update', 'A1', '--high', '12abc');
    assert.equal(code, 1);
    assert.match(stderr, /--high: '12abc' is not a number/);
    assert.equal(stored('A1')!.high_limit, 500);
  });

  test('a rule violation exits 1 with code 40004', async () => {
    await run('add', 'A1', '--high', '500');
    const { code, stderr } = await run('update', 'A1', '--low', '600');
    assert.equal(code, 1);
    assert.match(stderr, /40004/);
    assert.match(stderr, /low_limit/);
  });
});

describe('devices remove / pending / adopt', () => {
  test('remove unregisters the device', async () => {
    await run('add', 'A1', '--high', '1000');
    const { code, out } = await run('remove', 'A1');
    assert.equal(code, 0);
    assert.match(out, /kept/);
    assert.equal(stored('A1'), undefined);
  });

  test('pending lists unknown serials and adopt registers one with its factory password', async () => {
    const db = openDb(dbFileIn(dir));
    createPendingRepository(db).record({ sn: 'NEW-1', ts: Date.UTC(2026, 0, 1), messages: 3, payload: null, remote: null });
    db.close();
    const pending = await run('pending');
    assert.match(pending.out, /^NEW-1\t.*3 msgs/);
    const adopt = await run('adopt', 'NEW-1', '--high', '1000', '--name', 'Line 3');
    assert.equal(adopt.code, 0, adopt.stderr);
    assert.match(adopt.out, /factory-derived/);
    assert.equal(stored('NEW-1')!.name, 'Line 3');
    assert.equal((await run('pending')).out, '');
  });
});

describe('usage errors', () => {
  test('an unknown subcommand exits 64', async () => {
    const { code, stderr } = await run('frobnicate');
    assert.equal(code, 64);
    assert.match(stderr, /unknown command 'frobnicate'/);
  });

  test('an unknown option exits 64', async () => {
    const { code, stderr } = await run('list', '--colour');
    assert.equal(code, 64);
    assert.match(stderr, /colour/);
  });

  test('no subcommand prints the usage and exits 64; --help exits 0', async () => {
    const none = await run();
    assert.equal(none.code, 64);
    assert.match(none.out, /Usage: mcs-edge devices/);
    assert.equal((await run('--help')).code, 0);
  });

  test('a command that needs a serial number without one exits 1', async () => {
    const { code, stderr } = await run('update', '--high', '5');
    assert.equal(code, 1);
    assert.match(stderr, /needs a serial number/);
  });
});
