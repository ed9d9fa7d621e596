// A Debian box with a real systemd for the PKG-2/PKG-3 tests: a bookworm root made once by
// debootstrap (cached in /var/tmp), booted with systemd-nspawn --ephemeral (a throw-away copy per
// test file) on the host's network, with the release bound read-only at /root/release. Commands
// run inside through nsenter. Needs root, `debootstrap` and `systemd-nspawn` (.ci/run installs
// them) and Debian's package mirror.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// xz-utils: the release is a .tar.xz, and Debian 12 ranks xz-utils "standard", so minbase lacks it.
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'curl', 'openssl', 'ca-certificates', 'procps', 'xz-utils'];
const ROOTFS = `/var/tmp/mcs-edge-systemd-box-${PACKAGES.length}`;
const COMPLETE = join(ROOTFS, '.mcs-edge-complete');

function mirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const url = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text)?.[1] ?? /^deb\s+(\S+\/debian)\s+bookworm\s/m.exec(text)?.[1];
    if (url) return url;
  }
  return 'http://deb.debian.org/debian';
}

/** A tool that could not run: "not installed" with its Debian package for ENOENT, else the error (issue 18.8). */
function missingOr(tool: string, error: Error): string {
  const pkg = { debootstrap: 'debootstrap', 'systemd-nspawn': 'systemd-container', nsenter: 'util-linux', flock: 'util-linux', pgrep: 'procps' }[tool] ?? tool;
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
    ? `${tool} is not installed: apt-get install ${pkg} (or run .ci/run as root)`
    : `${tool} could not run: ${error.message}`;
}

/** The cached root file system, made by debootstrap the first time (about 1.5 min). */
export function ensureRootfs(): string {
  if (existsSync(COMPLETE)) return ROOTFS;
  const partial = `${ROOTFS}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const made = spawnSync('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, 'bookworm', partial, mirror()], {
    encoding: 'utf8', timeout: 15 * 60_000,
  });
  if (made.error) throw new Error(missingOr('debootstrap', made.error));
  if (made.status !== 0) throw new Error(`debootstrap failed (${made.status ?? made.signal}): ${`${made.stdout ?? ''}${made.stderr ?? ''}`.slice(-2000)}`);
  writeFileSync(join(partial, '.mcs-edge-complete'), new Date().toISOString());
  writeFileSync(join(partial, 'etc/hostname'), 'mcs-test-box\n');
  rmSync(ROOTFS, { recursive: true, force: true });
  renameSync(partial, ROOTFS);
  return ROOTFS;
}

export interface Box {
  /** Runs a bash command inside; never throws. */
  run(command: string, timeoutMs?: number): { status: number | null; output: string };
  /** A unit property, as `systemctl show -p NAME --value` prints it. */
  property(name: string, unit?: string): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BOX_LOCK = '/var/tmp/mcs-edge-systemd-box.lock';

/**
 * One box at a time on a host: with --keep-unit and no systemd on the host, every box's systemd
 * manages the same cgroup tree, so two test runs at once (two worktrees) fought over
 * /system.slice/mcs-edge.service ("Failed to kill control group … Input/output error",
 * status=219/CGROUP). flock(1) holds the lock while its `cat` reads our pipe; the lock goes when
 * we close the pipe, or when this process dies and the kernel closes it.
 */
async function holdBoxLock(): Promise<() => void> {
  const holder = spawn('flock', ['--exclusive', BOX_LOCK, 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const held = await new Promise<boolean>((resolve, reject) => {
    const waiting = setTimeout(() => console.error(`waiting for ${BOX_LOCK}: another test run on this host has its systemd box up`), 5000);
    holder.on('error', (err) => (clearTimeout(waiting), reject(new Error(missingOr('flock', err)))));
    holder.stderr!.on('data', (chunk) => (output += chunk));
    holder.stdout!.on('data', (chunk) => String(chunk).includes('held') && (clearTimeout(waiting), resolve(true)));
    holder.on('exit', (code) => (clearTimeout(waiting), code === null ? reject(new Error('flock was killed')) : resolve(false)));
  });
  if (!held) throw new Error(`flock ${BOX_LOCK} failed: ${output}`);
  return () => void holder.stdin!.end();
}

export async function bootBox(releaseDir: string): Promise<Box> {
  const rootfs = ensureRootfs();
  const release = await holdBoxLock();
  try {
    return await bootHeldBox(rootfs, releaseDir, release);
  } catch (error) {
    release();
    throw error;
  }
}

async function bootHeldBox(rootfs: string, releaseDir: string, releaseLock: () => void): Promise<Box> {
  const machine = `mcs-test-${process.pid}`;
  const nspawn: ChildProcess = spawn('systemd-nspawn', [
    '--register=no', '--keep-unit', '--ephemeral', '--quiet', `--machine=${machine}`, '-D', rootfs, `--bind-ro=${releaseDir}:/root/release`, '--boot',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let bootLog = '';
  nspawn.stdout!.on('data', (chunk) => (bootLog += chunk));
  nspawn.stderr!.on('data', (chunk) => (bootLog += chunk));
  let spawnError: Error | null = null;
  nspawn.on('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => nspawn.on('exit', () => resolve()));

  let init = 0;
  const run: Box['run'] = (command, timeoutMs = 120_000) => {
    const result = spawnSync('nsenter', ['-t', String(init), '-a', '--', '/bin/bash', '-c', command], { encoding: 'utf8', timeout: timeoutMs });
    if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') return { status: null, output: missingOr('nsenter', result.error) };
    return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(missingOr('systemd-nspawn', spawnError));
    if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited (${nspawn.exitCode}):\n${bootLog.slice(-3000)}`);
    const found = spawnSync('pgrep', ['-P', String(nspawn.pid), '-x', 'systemd'], { encoding: 'utf8' });
    if (found.error) {
      nspawn.kill('SIGKILL');
      throw new Error(missingOr('pgrep', found.error));
    }
    const children = (found.stdout ?? '').trim();
    if (children) init = Number(children.split('\n')[0]);
    if (init && /^(running|degraded)$/m.test(run('systemctl is-system-running', 10_000).output)) break;
    await sleep(500);
  }
  if (!init || !/^(running|degraded)$/m.test(run('systemctl is-system-running', 10_000).output)) {
    nspawn.kill('SIGKILL');
    throw new Error(`the box did not boot in 60 s:\n${bootLog.slice(-3000)}`);
  }
  return {
    run,
    property: (name, unit = 'mcs-edge') => run(`systemctl show ${unit} -p ${name} --value`).output.trim(),
    async stop() {
      nspawn.kill('SIGTERM'); // nspawn --boot: a clean poweroff of the box; --ephemeral removes its copy
      await Promise.race([exited, sleep(30_000)]);
      if (nspawn.exitCode === null) {
        nspawn.kill('SIGKILL');
        await exited;
      }
      releaseLock();
    },
  };
}
