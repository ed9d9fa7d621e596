// Test support for installer/install.sh (PKG-2): releases to install (the real one from
// test/helpers/release.ts, or variants repacked from it), running the script, and snapshots of the
// tree it writes below --root.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stampInstaller, writeSha256Sums } from '../../installer/package.ts';
import { ROOT } from '../helpers/appliance.ts';
import { releaseArtifacts, type ReleaseArtifacts } from '../helpers/release.ts';

export { ROOT };

export { releaseArtifacts, type ReleaseArtifacts };

/** Scratch dirs of the variant releases a test process packs, removed when it exits. */
const scratchDirs: string[] = [];
process.on('exit', () => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-release-'));
  scratchDirs.push(dir);
  return dir;
}

export interface PackOptions {
  outDir: string;
  version: string;
  /** the executable's content */
  binary: string | Buffer;
  /** install.sh to ship; default: this checkout's installer/install.sh stamped with the version */
  installScript?: string;
  /**
   * xz (default) as `npm run package` writes it, at xz's fastest preset: a test needs the format,
   * not the size, and preset 6 of the real 118 MB binary takes half a minute; gzip is a release of
   * before 2026-12 (mcs-edge-<version>-linux-x64.tar.gz) that an operator may still install.
   */
  compression?: 'xz' | 'gzip';
}

const COMPRESSORS = { xz: { suffix: 'tar.xz', program: 'xz -0 -T0' }, gzip: { suffix: 'tar.gz', program: 'gzip -6' } };

/** Lays out a release as `npm run package` does: tarball, install.sh and SHA256SUMS side by side. */
export function packRelease(options: PackOptions): ReleaseArtifacts {
  const name = `mcs-edge-${options.version}-linux-x64`;
  const stage = join(options.outDir, 'stage');
  const top = join(stage, name);
  const releaseDir = join(options.outDir, 'release');
  mkdirSync(top, { recursive: true });
  mkdirSync(releaseDir, { recursive: true });
  const installer = options.installScript
    ? readFileSync(options.installScript, 'utf8')
    : stampVersion(readFileSync(join(ROOT, 'installer/install.sh'), 'utf8'), options.version);
  writeFileSync(join(top, 'mcs-edge'), options.binary, { mode: 0o755 });
  chmodSync(join(top, 'mcs-edge'), 0o755);
  writeFileSync(join(top, 'install.sh'), installer, { mode: 0o755 });
  copyFileSync(join(ROOT, 'systemd/mcs-edge.service'), join(top, 'mcs-edge.service'));
  writeFileSync(join(top, 'config.example.json'), '{\n  "data_dir": "/var/lib/mcs-edge"\n}\n');
  const compressor = COMPRESSORS[options.compression ?? 'xz'];
  const tarball = join(releaseDir, `${name}.${compressor.suffix}`);
  const tar = spawnSync('tar', [`--use-compress-program=${compressor.program}`, '-cf', tarball, '-C', stage, name], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  const installScript = join(releaseDir, 'install.sh');
  writeFileSync(installScript, installer, { mode: 0o755 });
  const sums = writeSha256Sums(join(releaseDir, 'SHA256SUMS'), [tarball, installScript]);
  return { releaseDir, tarball, sums, installScript, version: options.version, binary: join(top, 'mcs-edge'), name };
}

/** What `npm run package` does to the installer: one line names the release's version. */
export function stampVersion(script: string, version: string): string {
  return stampInstaller(script, { version });
}

/**
 * The same program and installer under another version's name (an upgrade that works). A few
 * bytes appended (a loader ignores what follows an ELF file's sections; a shell script sees a
 * comment) make it another file, as a new build would be.
 */
export function repackRelease(from: ReleaseArtifacts, version: string, compression: PackOptions['compression'] = 'xz'): ReleaseArtifacts {
  const binary = Buffer.concat([readFileSync(from.binary), Buffer.from(`\n# repacked as ${version}\n`)]);
  return packRelease({ outDir: scratchDir(), version, binary, installScript: from.installScript, compression });
}

/**
 * A release whose binary answers --version and `check` but, asked to serve, first "migrates" the
 * database (overwrites its header) and then exits 1: the new version that never becomes healthy
 * and leaves a database the old version cannot open.
 */
export function brokenRelease(from: ReleaseArtifacts, version: string): ReleaseArtifacts {
  const binary = `#!/bin/sh
config=""
previous=""
for arg in "$@"; do
  case $arg in
    --version) echo '${version}'; exit 0 ;;
    check) echo 'configuration ok'; exit 0 ;;
  esac
  [ "$previous" = --config ] && config=$arg
  previous=$arg
done
data_dir=$(sed -n 's/^ *"data_dir": *"\\(.*\\)",$/\\1/p' "$config")
printf 'migrated by ${version}, not SQLite' | dd of="$data_dir/mcs-edge.db" conv=notrunc 2>/dev/null
echo 'broken build: cannot start' >&2
exit 1
`;
  return packRelease({ outDir: scratchDir(), version, binary, installScript: from.installScript });
}

/** A release whose binary refuses every configuration (exit 78), failing the install mid-way. */
export function configRejectingRelease(from: ReleaseArtifacts): ReleaseArtifacts {
  const binary = `#!/bin/sh
for arg in "$@"; do
  case $arg in
    --version) echo '${from.version}'; exit 0 ;;
  esac
done
echo 'mcs-edge: invalid configuration (1 error):' >&2
echo '  http.port: rejected by this test build' >&2
exit 78
`;
  return packRelease({ outDir: scratchDir(), version: from.version, binary, installScript: from.installScript });
}

/**
 * A PATH with every program of this one but `programs`: links to them in a scratch dir, standing
 * for a machine that has not got those (what the installer says then is under test).
 */
export function pathWithout(programs: string[]): string {
  const dir = scratchDir();
  const taken = new Set(programs);
  for (const from of (process.env.PATH ?? '').split(':')) {
    if (!from || !existsSync(from) || !statSync(from).isDirectory()) continue;
    for (const name of readdirSync(from)) {
      if (taken.has(name)) continue;
      taken.add(name); // the first on PATH wins, as in a lookup
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return dir;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface InstallerRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for assertion messages */
  output: string;
}

/** Runs install.sh (the release's, as a user would) with the given flags. */
export function runInstaller(script: string, args: string[], env: Record<string, string> = {}): InstallerRun {
  const run = spawnSync('bash', [script, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, output: `${run.stdout}\n${run.stderr}` };
}

/** Runs a shell pipeline (`curl … | bash -s -- …`) without blocking the event loop (a test server answers it). */
export function runShell(command: string, env: Record<string, string> = {}): Promise<InstallerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, output: `${stdout}\n${stderr}` }));
  });
}

export interface Entry {
  type: 'dir' | 'file' | 'link';
  mode: string;
  sha256?: string;
  mtimeMs: number;
}

/** Every path below `root` with its type, mode, content hash and mtime. */
export function snapshotTree(root: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const path = prefix ? `${prefix}/${name}` : name;
      const stat = lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
      if (stat.isDirectory()) {
        entries.set(path, { type: 'dir', mode, mtimeMs: stat.mtimeMs });
        walk(full, path);
      } else if (stat.isSymbolicLink()) {
        entries.set(path, { type: 'link', mode, mtimeMs: stat.mtimeMs });
      } else {
        entries.set(path, { type: 'file', mode, sha256: sha256(readFileSync(full)), mtimeMs: stat.mtimeMs });
      }
    }
  };
  if (existsSync(root)) walk(root, '');
  return entries;
}

export const INSTALL_LOG = 'var/log/mcs-edge-install.log';

/**
 * The tree without the install log, which every run but a usage error appends to (failures are
 * what it is for), nor the directories created only to hold it.
 */
export function withoutInstallLog(tree: Map<string, Entry>): Map<string, Entry> {
  const rest = new Map(tree);
  rest.delete(INSTALL_LOG);
  for (const dir of ['var/log', 'var']) {
    const hasOther = [...rest.keys()].some((path) => path.startsWith(`${dir}/`));
    if (!hasOther) rest.delete(dir);
    else if (rest.get(dir)) rest.set(dir, { ...rest.get(dir)!, mtimeMs: 0 }); // the log's creation touched it
  }
  return rest;
}

export function tempRoot(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-root-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve, reject) => {
      const server = createNetServer();
      server.once('error', reject);
      server.listen(0, '0.0.0.0', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The pid of the appliance install.sh started below --root, if it runs. */
export function runningPid(root: string): number | null {
  const file = join(root, 'run/mcs-edge.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Stops what a test's install started (the tests' cleanup; the installer's own stop is under test). */
export async function stopStarted(root: string): Promise<void> {
  const pid = runningPid(root);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && runningPid(root)) await new Promise((resolve) => setTimeout(resolve, 100));
  if (runningPid(root)) process.kill(pid, 'SIGKILL');
}

/** GET over http(s) ignoring the self-signed certificate; null when nothing answers. */
export function curlJson(url: string, options: { method?: string; body?: unknown } = {}): { status: number; body: unknown } | null {
  const args = ['-sk', '--max-time', '5', '-o', '-', '-w', '\n%{http_code}', '-X', options.method ?? 'GET'];
  if (options.body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(options.body));
  const run = spawnSync('curl', [...args, url], { encoding: 'utf8' });
  if (run.status !== 0) return null;
  const lines = run.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  try {
    return { status, body: text ? JSON.parse(text) : null };
  } catch {
    return { status, body: text };
  }
}
