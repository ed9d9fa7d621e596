// Every script a person runs (npm run bench*, simulate, license, package, build, build:ui, and the
// appliance binary with each subcommand) answers --help with its usage and exit 0, and a wrong
// option with one line naming it and a usage exit code — never a stack trace. Each runs as its own
// process, exactly as npm runs it, but only as far as its command line.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** sysexits EX_USAGE (the appliance binary, the license and release tools; README: exit codes). */
const EX_USAGE = 64;
/** The development scripts' usage error (the simulator's and the benchmarks'). */
const SCRIPT_USAGE = 2;

interface Script {
  /** how a person runs it */
  name: string;
  file: string;
  /** arguments before --help (a subcommand) */
  args?: string[];
  usageExit: number;
}

const SCRIPTS: Script[] = [
  { name: 'npm run bench', file: 'bench/ingest.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run bench:alarms', file: 'bench/alarms.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run bench:archive', file: 'bench/archive.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run bench:packet-attack', file: 'bench/packet-attack.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run bench:uplink-drain', file: 'bench/uplink-drain.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run bench:ui', file: 'bench/ui.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run bench:package', file: 'bench/package.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run simulate', file: 'simulator/main.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run build', file: 'appliance/build.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run build:ui', file: 'ui/build.ts', usageExit: SCRIPT_USAGE },
  { name: 'npm run license', file: 'licensing/cli.ts', usageExit: EX_USAGE },
  { name: 'npm run package', file: 'installer/package.ts', usageExit: EX_USAGE },
  { name: 'npm start', file: 'appliance/main.ts', usageExit: EX_USAGE },
  ...['serve', 'check', 'devices', 'alarms', 'backup', 'restore', 'license'].map((sub) => ({
    name: `mcs-edge ${sub}`, file: 'appliance/main.ts', args: [sub], usageExit: EX_USAGE,
  })),
];

const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$|node:internal|\bError \[ERR_/m;

function run(file: string, args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MCS_DATA_DIR: dataDir, MCS_HTTP_PORT: '0', MCS_MQTT_PORT: '0', MCS_CONFIG: '' };
  // A script that imports node:test (bench/ui.ts) must not report to this test run.
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, file), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A script that ignores --help would start its real work: cut it off and fail.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('every bench script in package.json is checked here', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const [name, command] of Object.entries(scripts)) {
    if (!name.startsWith('bench')) continue;
    const file = /\s(\S+\.ts)\b/.exec(command)?.[1];
    assert.ok(file?.startsWith('bench/'), `npm run ${name} runs ${file}: benchmarks live in bench/`);
    assert.ok(SCRIPTS.some((script) => script.file === file), `npm run ${name} (${file}) has no --help check`);
  }
});

describe('--help and a wrong option', { concurrency: 2 }, () => {
  for (const script of SCRIPTS) {
    test(script.name, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'mcs-help-'));
      try {
        const args = script.args ?? [];
        const help = await run(script.file, [...args, '--help'], dataDir);
        assert.equal(help.code, 0, `${script.name} --help exited ${help.code}\n${help.stdout}${help.stderr}`);
        assert.match(help.stdout, /^Usage:/m, `${script.name} --help prints no Usage line:\n${help.stdout}`);
        assert.doesNotMatch(help.stdout + help.stderr, STACK_TRACE);

        const wrong = await run(script.file, [...args, '--no-such-option'], dataDir);
        assert.equal(wrong.code, script.usageExit, `${script.name} --no-such-option exited ${wrong.code}\n${wrong.stdout}${wrong.stderr}`);
        assert.match(wrong.stderr, /no-such-option/, 'the error names the option');
        assert.doesNotMatch(wrong.stdout + wrong.stderr, STACK_TRACE);
        const lines = wrong.stderr.split('\n').filter((line) => line.trim() && !/Warning|--trace-warnings/.test(line));
        assert.ok(lines.length <= 2, `one line, not the whole usage:\n${wrong.stderr}`);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});
