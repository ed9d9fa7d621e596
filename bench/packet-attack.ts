// The packet-size attack of issue 16 (item 1), measured: N raw TCP sockets each announce an MQTT
// packet of 268,435,455 bytes (the largest remaining length there is) and stream its body as fast
// as the appliance reads it. Starts the appliance from source as its own process on a temp data
// dir, samples its RSS from /proc, and prints one JSON line. A benchmark, not a test.
//
//   npm run bench:packet-attack -- --sockets 50 --kind publish
//   npm run bench:packet-attack -- --root /tmp/other-tree   # another checkout's appliance
//   npm run bench:packet-attack -- --reconnect --duration-s 30   # each socket closed is opened again
//
// Safety: the run stops streaming when the appliance's RSS passes --rss-cap-mb (an unprotected
// appliance grows by what it is sent), and --bytes-per-socket caps what each socket sends.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, EXIT_USAGE } from './args.ts';
import { freePort } from '../test/helpers/ports.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const MAX_REMAINING_LENGTH = 268_435_455;

const USAGE = `Usage: npm run bench:packet-attack -- [options]

Issue 16's packet-size attack: N raw TCP sockets each announce an MQTT packet of 268,435,455 bytes
and stream its body as fast as the appliance (started from source, its own process) reads it.
Prints one JSON line with the appliance's RSS before, at its peak and after, and how fast it closed
the sockets.

  --sockets N             attacking sockets (default 50)
  --kind publish|connect  the packet announced (default publish)
  --duration-s S          seconds of streaming at most (default 40)
  --bytes-per-socket N    cap on what each socket sends (default 268435455)
  --rss-cap-mb N          stop streaming when the appliance's RSS passes this (default 4000)
  --reconnect             each socket the appliance closes is opened again
  --root DIR              the checkout whose appliance is attacked (default this one)
  -h, --help              this text`;

const values = benchArgs('bench:packet-attack', USAGE, {
  sockets: { type: 'string', default: '50' },
  kind: { type: 'string', default: 'publish' },
  'duration-s': { type: 'string', default: '40' },
  'bytes-per-socket': { type: 'string', default: String(MAX_REMAINING_LENGTH) },
  'rss-cap-mb': { type: 'string', default: '4000' },
  reconnect: { type: 'boolean', default: false },
  root: { type: 'string', default: ROOT },
});
if (values.kind !== 'publish' && values.kind !== 'connect') {
  process.stderr.write(`bench:packet-attack: --kind must be publish or connect, got ${values.kind}\n`);
  process.exit(EXIT_USAGE);
}
const sockets = Number(values.sockets);
const durationMs = Number(values['duration-s']) * 1000;
const bytesPerSocket = Number(values['bytes-per-socket']);
const rssCapMb = Number(values['rss-cap-mb']);


const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fixed header (and for CONNECT the start of its variable header) announcing the largest packet. */
function announce(kind: string): Buffer {
  const length = [0xff, 0xff, 0xff, 0x7f]; // 268,435,455
  if (kind === 'connect') return Buffer.from([0x10, ...length, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 30]);
  return Buffer.from([0x30, ...length, 0, 8, ...Buffer.from('mcs/X/up')]);
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(200);
  }
  throw new Error('the appliance did not open its MQTT port');
}

interface Attack {
  socket: Socket;
  sent: number;
  openedAt: number;
  closedAt: number | null;
  byServer: boolean;
  replaced?: boolean;
}

function attack(port: number, kind: string, stop: () => boolean): Attack {
  const chunk = Buffer.alloc(64 * 1024);
  const socket = connect(port, '127.0.0.1');
  const state: Attack = { socket, sent: 0, openedAt: Date.now(), closedAt: null, byServer: false };
  const pump = () => {
    while (!socket.destroyed && !stop() && state.sent < bytesPerSocket) {
      const part = state.sent === 0 ? Buffer.concat([announce(kind), chunk]) : chunk;
      state.sent += part.length;
      if (!socket.write(part)) return; // wait for 'drain': the appliance reads at its own pace
    }
  };
  socket.on('connect', pump);
  socket.on('drain', pump);
  socket.on('error', () => {});
  socket.on('close', () => {
    state.closedAt = Date.now();
    state.byServer = !stopping;
  });
  return state;
}

let stopping = false;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcs-attack-'));
  const port = await freePort();
  const appliance = spawn(process.execPath, ['--max-semi-space-size=16', '--import', 'tsx', join(values.root!, 'appliance/main.ts')], {
    cwd: values.root,
    env: {
      ...process.env, MCS_DATA_DIR: dataDir, MCS_MQTT_PORT: String(port), MCS_MQTT_HOST: '127.0.0.1',
      MCS_HTTP_PORT: String(await freePort()), MCS_HTTP_HOST: '127.0.0.1', MCS_LOG_LEVEL: 'warn', MCS_ADMIN_PASSWORD: 'attack-admin-pass',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => appliance.on('exit', resolve));
  try {
    await waitForPort(port, Date.now() + 30_000);
    await sleep(3000); // settle after start
    const before = rssMb(appliance.pid!);
    let peak = before;
    let capped = false;
    const started = Date.now();
    const stop = () => stopping || capped;
    const attacks = Array.from({ length: sockets }, () => attack(port, values.kind!, stop));
    let reopened = 0;
    while (Date.now() - started < durationMs && (values.reconnect || attacks.some((a) => a.closedAt === null))) {
      await sleep(250);
      if (values.reconnect) {
        // The attacker comes straight back: as many sockets open as at the start.
        const closed = attacks.filter((a) => a.closedAt !== null && !a.replaced);
        for (const a of closed) {
          a.replaced = true;
          attacks.push(attack(port, values.kind!, stop));
          reopened++;
        }
      }
      peak = Math.max(peak, rssMb(appliance.pid!));
      if (peak > rssCapMb && !capped) {
        capped = true;
        process.stderr.write(`RSS ${Math.round(peak)} MB passed the cap: streaming stopped\n`);
      }
    }
    const streamedS = (Date.now() - started) / 1000;
    stopping = true;
    for (const a of attacks) a.socket.destroy();
    await sleep(5000); // what stays after the sockets are gone
    const after = rssMb(appliance.pid!);
    const closedByServer = attacks.filter((a) => a.byServer);
    const closeMs = closedByServer.map((a) => a.closedAt! - a.openedAt).sort((x, y) => x - y);
    const sent = attacks.map((a) => a.sent).sort((x, y) => x - y);
    console.log(JSON.stringify({
      kind: values.kind, sockets, connections: attacks.length, reopened, root: values.root, bytes_per_socket_cap: bytesPerSocket, streamed_s: Math.round(streamedS * 10) / 10,
      rss_before_mb: Math.round(before), rss_peak_mb: Math.round(peak), rss_after_mb: Math.round(after), rss_capped: capped,
      closed_by_server: closedByServer.length,
      close_ms_p50: closeMs[Math.floor(closeMs.length / 2)] ?? null, close_ms_max: closeMs.at(-1) ?? null,
      sent_mb_total: Math.round(sent.reduce((s, n) => s + n, 0) / 1e6), sent_mb_per_socket_max: Math.round(sent.at(-1)! / 1e5) / 10,
      appliance_alive: appliance.exitCode === null && appliance.signalCode === null,
    }));
  } finally {
    appliance.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
