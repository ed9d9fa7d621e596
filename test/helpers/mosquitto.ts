// A real Mosquitto from Debian's package (/usr/sbin/mosquitto, listed in test/preflight.ts) for the
// uplink tests (issue 17): loopback, ephemeral ports, a password file (mosquitto_passwd) and TLS with
// a server certificate and a CA made by openssl in a temp dir, optionally requiring a client
// certificate. Nothing reaches the internet.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { freePort } from './ports.ts';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface TestPki {
  dir: string;
  /** PEM texts. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The same as files (for Mosquitto and the openssl CLI). */
  files: { ca: string; serverCert: string; serverKey: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throw-away CA, a server certificate for localhost / 127.0.0.1 and a client certificate, all EC
 * P-256 signed by the CA (openssl CLI), valid for two days.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=MCS Edge test CA'], dir);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const name of ['server', 'client']) {
      openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'mcs-edge-test-box'}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    files: { ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface MosquittoOptions {
  /** User name → password, written with mosquitto_passwd. Anonymous clients are refused. */
  users: Record<string, string>;
  /** A TLS listener (default true). */
  tls?: boolean;
  /** The TLS listener requires a client certificate signed by the test CA. */
  requireClientCertificate?: boolean;
  /** A plain TCP listener too (default false). */
  plain?: boolean;
}

export interface TestMosquitto {
  host: '127.0.0.1';
  /** 0 when there is no such listener. */
  tlsPort: number;
  plainPort: number;
  pki: TestPki;
  /** What Mosquitto wrote so far (connection messages included). */
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}


function waitFor(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(what()));
      setTimeout(poll, 20);
    };
    poll();
  });
}

export async function startMosquitto(options: MosquittoOptions): Promise<TestMosquitto> {
  const pki = makeTestPki();
  const passwords = join(pki.dir, 'passwd');
  Object.entries(options.users).forEach(([user, password], index) => {
    execFileSync(MOSQUITTO_PASSWD, [...(index === 0 ? ['-c'] : []), '-b', passwords, user, password], { stdio: 'pipe' });
  });
  const tls = options.tls ?? true;
  // The port is chosen just before Mosquitto binds it (Mosquitto has no port 0): retry on a clash.
  for (let attempt = 1; ; attempt += 1) {
    const tlsPort = tls ? await freePort() : 0;
    const plainPort = options.plain ? await freePort() : 0;
    const config = [
      'per_listener_settings false',
      'allow_anonymous false',
      `password_file ${passwords}`,
      'persistence false',
      ...(process.getuid?.() === 0 ? ['user root'] : []), // keep reading the temp dir's files
      'log_dest stderr', // unbuffered: the log is readable while it runs
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'log_type subscribe', // "<client id> <qos> <topic>": a test can wait for a subscription
      'connection_messages true',
      'log_timestamp false',
      ...(plainPort ? [`listener ${plainPort} 127.0.0.1`] : []),
      ...(tlsPort
        ? [
            `listener ${tlsPort} 127.0.0.1`,
            `cafile ${pki.files.ca}`,
            `certfile ${pki.files.serverCert}`,
            `keyfile ${pki.files.serverKey}`,
            `require_certificate ${options.requireClientCertificate ? 'true' : 'false'}`,
          ]
        : []),
    ];
    const configFile = join(pki.dir, 'mosquitto.conf');
    writeFileSync(configFile, `${config.join('\n')}\n`);
    const child: ChildProcess = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let exited = false;
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', () => (exited = true));
    try {
      await waitFor(() => exited || /mosquitto version \S+ running/.test(output), 5000, () => `mosquitto did not start:\n${output}`);
    } catch (err) {
      child.kill('SIGKILL');
      pki.remove();
      throw err;
    }
    if (exited) {
      if (attempt < 3 && /in use/i.test(output)) continue;
      pki.remove();
      throw new Error(`mosquitto did not start:\n${output}`);
    }
    return {
      host: '127.0.0.1',
      tlsPort,
      plainPort,
      pki,
      log: () => output,
      waitForLog: (pattern, timeoutMs = 5000) => waitFor(() => pattern.test(output), timeoutMs, () => `mosquitto never logged ${pattern}:\n${output}`),
      async stop() {
        if (!exited) {
          const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          await gone;
        }
        pki.remove();
      },
    };
  }
}
