// The cloud broker of the uplink benchmarks (issue 17): Debian's Mosquitto (/usr/sbin/mosquitto, the
// one the uplink tests start, test/helpers/mosquitto.ts) on an ephemeral loopback port, plain TCP
// with a password file — no TLS, so the figures are the box's, not the cipher's. Unlike the tests'
// broker it never drops a message for a slow subscriber (`max_queued_messages 0`): the benchmark's
// counting subscriber may fall behind for a while, and a message Mosquitto dropped would read as a
// reading the box lost. Own process; its CPU seconds are read from /proc by the benchmark.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface BenchBroker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}


/** Starts Mosquitto with these users (name → password); resolves once it listens. */
export async function startBenchMosquitto(users: Record<string, string>): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-bench-mosquitto-'));
  const passwords = join(dir, 'passwd');
  Object.entries(users).forEach(([user, password], i) => {
    execFileSync(MOSQUITTO_PASSWD, [...(i === 0 ? ['-c'] : []), '-b', passwords, user, password], { stdio: 'pipe' });
  });
  // Mosquitto has no port 0: the port is chosen just before it binds, and tried again on a clash.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = [
      'per_listener_settings false',
      'allow_anonymous false',
      `password_file ${passwords}`,
      'persistence false',
      'max_queued_messages 0', // no limit: a slow subscriber is queued, never dropped
      'max_inflight_messages 100',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information', // "mosquitto version … running": it listens
      'log_timestamp false',
      `listener ${port} 127.0.0.1`,
    ];
    const configFile = join(dir, 'mosquitto.conf');
    writeFileSync(configFile, `${config.join('\n')}\n`);
    const child: ChildProcess = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    let exited = false;
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', () => (exited = true));
    const started = Date.now();
    while (!exited && !/running/.test(output) && Date.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 20));
    if (exited || !/running/.test(output)) {
      child.kill('SIGKILL');
      if (attempt < 3 && /in use/i.test(output)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start:\n${output}`);
    }
    return {
      url: `mqtt://127.0.0.1:${port}`,
      pid: child.pid!,
      async stop() {
        if (!exited) {
          const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
