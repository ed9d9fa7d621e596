#!/usr/bin/env node
// `npm test` first runs this (and `.ci/run` through it): the system tools the tests drive, in ONE
// list (issue 18.8). All present → nothing is printed, no network, a few milliseconds. Missing and
// root with apt-get → installs them from Debian's packages. Otherwise → stops at once with one line
// (and its Chinese twin) naming what is missing and the command that installs it, so a missing tool
// never surfaces later as a failed or crashed test.
//
//   node --import tsx test/preflight.ts            check; install when root with apt-get
//   node --import tsx test/preflight.ts --check    check only, never install
//   node --import tsx test/preflight.ts --packages print the Debian packages of the list, one line
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestTool {
  /** A command looked up on PATH, or an absolute path. */
  command: string;
  /** The Debian packages that provide it. */
  packages: string[];
  /** Which tests need it. */
  usedBy: string;
}

/** What the tests run besides Node and npm packages. Debian/Ubuntu package names. */
export const TEST_TOOLS: TestTool[] = [
  { command: 'shellcheck', packages: ['shellcheck'], usedBy: 'test/installer: install.sh lint (PKG-2)' },
  { command: 'systemd-analyze', packages: ['systemd'], usedBy: 'test/systemd: unit verify and security (PKG-3)' },
  { command: 'strip', packages: ['binutils'], usedBy: 'test/installer, test/package: the single executable (PKG-1)' },
  { command: 'curl', packages: ['curl'], usedBy: 'installer: curl | bash' },
  { command: 'openssl', packages: ['openssl'], usedBy: 'installer: self-signed TLS' },
  { command: 'tar', packages: ['tar'], usedBy: 'the release tarball' },
  { command: 'xz', packages: ['xz-utils'], usedBy: 'the release tarball (.tar.xz, PKG-1)' },
  { command: 'script', packages: ['bsdutils'], usedBy: 'installer: questions on a terminal' },
  { command: 'debootstrap', packages: ['debootstrap'], usedBy: 'test/systemd: the Debian box' },
  { command: 'systemd-nspawn', packages: ['systemd-container'], usedBy: 'test/systemd: the box under a real systemd' },
  { command: 'nsenter', packages: ['util-linux'], usedBy: 'test/systemd: commands inside the box' },
  { command: 'pgrep', packages: ['procps'], usedBy: 'test/systemd: finding the box init' },
  { command: '/usr/sbin/mosquitto', packages: ['mosquitto'], usedBy: 'test/sync: a real cloud MQTT broker with TLS and passwords (SYNC-4)' },
  // test/ui drives Debian's chromium headless through playwright-core (no browser download); the
  // CJK font makes the zh-CN screenshots readable. CHROMIUM_PATH points the UI tests elsewhere.
  { command: process.env.CHROMIUM_PATH || '/usr/bin/chromium', packages: ['chromium', 'fonts-wqy-zenhei'], usedBy: 'test/ui: headless Chromium' },
];

/** Whether `command` is an executable file (absolute) or on PATH: no process is started. */
export function hasCommand(command: string, path = process.env.PATH ?? ''): boolean {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (isAbsolute(command)) return executable(command);
  return path.split(delimiter).some((dir) => dir !== '' && executable(join(dir, command)));
}

export type Decision =
  | { action: 'ready' }
  | { action: 'install'; packages: string[] }
  | { action: 'stop'; lines: [english: string, chinese: string] };

const packagesOf = (tools: TestTool[]) => [...new Set(tools.flatMap((tool) => tool.packages))];
const commandName = (tool: TestTool) => tool.command.split('/').pop()!;

/**
 * What to do about the missing tools: nothing, install them (root with apt-get, and allowed to),
 * or stop with one line saying what is missing and how to install it (English, then Chinese).
 */
export function decide(missing: TestTool[], host: { root: boolean; apt: boolean; mayInstall: boolean }): Decision {
  if (missing.length === 0) return { action: 'ready' };
  const packages = packagesOf(missing);
  if (host.root && host.apt && host.mayInstall) return { action: 'install', packages };
  const names = missing.map(commandName).join(', ');
  const install = host.apt
    ? `${host.root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`
    : `install the Debian/Ubuntu packages ${packages.join(' ')} or their equivalents`;
  const installZh = host.apt ? install : `安装 Debian/Ubuntu 软件包 ${packages.join(' ')} 或同等软件`;
  return {
    action: 'stop',
    lines: [
      `npm test: missing test tools: ${names}. Install them with: ${install} (or run .ci/run as root, which installs everything).`,
      `npm test：缺少测试所需的工具：${names}。安装命令：${installZh}（或以 root 运行 .ci/run，它会全部安装）。`,
    ],
  };
}

function aptInstall(packages: string[]): void {
  const quiet = { stdio: 'inherit' as const, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  process.stderr.write(`npm test: installing the test tools' packages: ${packages.join(' ')}\n`);
  const update = spawnSync('apt-get', ['update', '-qq'], quiet);
  if (update.status !== 0) return;
  spawnSync('apt-get', ['install', '-y', '-qq', ...packages], quiet);
}

/** Checks, installs when it may, checks again; returns the exit code. */
export function preflight(options: { mayInstall: boolean }): number {
  const missingNow = () => TEST_TOOLS.filter((tool) => !hasCommand(tool.command));
  const host = { root: process.getuid?.() === 0, apt: hasCommand('apt-get'), mayInstall: options.mayInstall };
  let decision = decide(missingNow(), host);
  if (decision.action === 'install') {
    aptInstall(decision.packages); // whatever apt-get said, what counts is what is there now
    decision = decide(missingNow(), { ...host, mayInstall: false });
  }
  if (decision.action === 'stop') {
    for (const line of decision.lines) process.stderr.write(`${line}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const known = ['--check', '--packages', '--help', '-h'];
  const unknown = args.find((arg) => !known.includes(arg));
  if (unknown || args.includes('--help') || args.includes('-h')) {
    const usage = 'Usage: node --import tsx test/preflight.ts [--check | --packages]';
    if (unknown) process.stderr.write(`preflight: unknown option '${unknown}' (${usage})\n`);
    else process.stdout.write(`${usage}\n  (no option) check the test tools; as root with apt-get install the missing ones\n  --check     check only\n  --packages  print the Debian packages of the list\n`);
    process.exit(unknown ? 64 : 0);
  }
  if (args.includes('--packages')) {
    console.log(packagesOf(TEST_TOOLS).join(' '));
  } else {
    process.exitCode = preflight({ mayInstall: !args.includes('--check') });
  }
}
