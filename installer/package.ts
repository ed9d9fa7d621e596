// PKG-1 `npm run package`: the release. One self-contained executable (a Node single-executable
// application: the appliance bundled to CommonJS by esbuild, with the worker threads, the native
// addons and the UI as SEA assets that core/sea-runtime.ts extracts at start), and
// dist/mcs-edge-<version>-linux-<arch>.tar.xz holding it with the installer, the systemd unit and
// a config template, plus SHA256SUMS and the installer beside it for `curl … | sudo bash`.
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { buildUi } from '../ui/build.ts';
import { loadConfig } from '../appliance/core/config.ts';
import { SEA_MANIFEST_KEY, type SeaManifest } from '../appliance/core/sea-runtime.ts';
import { checkSealed, sealNodeEnvironment } from './sealed-node.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const { inject } = require('postject') as { inject: (file: string, name: string, data: Buffer, options: { sentinelFuse: string }) => Promise<void> };

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const WORKERS = ['writer-worker', 'checkpoint-worker', 'export-worker'] as const;
const WORKER_ENTRIES: Record<(typeof WORKERS)[number], string> = {
  'writer-worker': 'appliance/storage/writer-worker.ts',
  'checkpoint-worker': 'appliance/storage/checkpoint-worker.ts',
  'export-worker': 'appliance/archive/export-worker.ts',
};
/** The native addons the bundle loads through `bindings` (see the shim below). */
const NATIVE_ADDONS = {
  'better_sqlite3.node': 'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
  'unix_dgram.node': 'node_modules/unix-dgram/build/Release/unix_dgram.node',
};

/**
 * `bindings` finds an addon by searching node_modules at run time, which the single executable has
 * not got: the bundle gets this loader instead, which dlopens the copy extracted by
 * core/sea-runtime.ts (into MCS_SEA_RUNTIME_DIR, inherited by worker threads).
 */
const BINDINGS_SHIM = `
const { join } = require('node:path');
const loaded = new Map();
module.exports = function bindings(name) {
  const dir = process.env.MCS_SEA_RUNTIME_DIR;
  if (!dir) throw new Error('native addon ' + name + ' needed before the runtime was extracted');
  const file = join(dir, String(name).endsWith('.node') ? String(name) : name + '.node');
  if (!loaded.has(file)) {
    const module = { exports: {} };
    process.dlopen(module, file);
    loaded.set(file, module.exports);
  }
  return loaded.get(file);
};`;

const addonsFromRuntime: Plugin = {
  name: 'addons-from-runtime',
  setup(build) {
    build.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'sea-bindings' }));
    build.onLoad({ filter: /.*/, namespace: 'sea-bindings' }, () => ({ contents: BINDINGS_SHIM, loader: 'js' }));
  },
};

/**
 * Optional speed-ups that dependencies try to require inside try/catch (ws: bufferutil and
 * utf-8-validate; the AWS SDK: the CRT signer) and that are not installed: bundled as a module that
 * fails the way a missing one does, instead of a require the executable would warn about at start.
 */
const ABSENT_OPTIONAL_MODULES = /^(bufferutil|utf-8-validate|@aws-sdk\/signature-v4-crt)$/;
const absentOptionalModules: Plugin = {
  name: 'absent-optional-modules',
  setup(build) {
    build.onResolve({ filter: ABSENT_OPTIONAL_MODULES }, (args) => ({ path: args.path, namespace: 'absent-optional' }));
    build.onLoad({ filter: /.*/, namespace: 'absent-optional' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not in the single executable`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

/**
 * How the tarball is compressed (issue 8: at most 35 MB). Node 24's executable (118 MB with the SEA
 * blob) no longer fits in gzip: 43.2 MB at -6, 43.0 at -9. Measured on this release's tar on the
 * 2-core box (table in BENCHMARKS.md, "The release tarball in xz"): xz preset 6 makes 29.5 MB in
 * 52 s on one thread, 29.7 MB in 27 s on two; presets 7 and 9 save at most 0.3 MB more but take
 * 17 and 65 MB instead of 9 MB of memory to unpack on the box (512 MB minimum) and up to 1.3 GB to
 * pack; preset 3 packs in 10 s but makes 31.9 MB. So preset 6 on as many threads as there are
 * cores (-T0: from xz 5.4 on that is the multi-threaded compressor even on one core, cutting the
 * input into the same 24 MiB blocks whatever the thread count, so the bytes do not depend on the
 * machine that packs). On x64 the x86 branch filter goes first (BCJ: call targets made absolute,
 * so repeated calls look alike): 28.7 MB, 1.0 MB less at no cost in time, and every xz since 2009
 * decodes it. arm64's own filter is new in xz 5.4 (Ubuntu 22.04 has 5.2), so there LZMA2 alone.
 */
const XZ_COMPRESSOR = ['xz', '-T0', ...(process.arch === 'x64' ? ['--x86'] : []), '--lzma2=preset=6'];

/** `tar` of `dir`/`name` into `tarball` through XZ_COMPRESSOR (tar runs it, splitting the words). */
function writeTarXz(tarball: string, dir: string, name: string): void {
  const xz = spawnSync('xz', ['--version'], { encoding: 'utf8' });
  if (xz.error || xz.status !== 0) {
    throw new Error('xz is not installed, the release tarball needs it: apt-get install xz-utils / 未安装 xz，发布包需要它：请运行 apt-get install xz-utils');
  }
  run('tar', ['--owner=0', '--group=0', '--numeric-owner', `--use-compress-program=${XZ_COMPRESSOR.join(' ')}`, '-cf', tarball, '-C', dir, name]);
}

export interface Release {
  version: string;
  /** mcs-edge-<version>-linux-<arch> */
  name: string;
  /** where the tarball, SHA256SUMS and install.sh are */
  releaseDir: string;
  tarball: string;
  sums: string;
  installScript: string;
  /** the executable, also inside the tarball */
  binary: string;
  binaryBytes: number;
  tarballBytes: number;
  /** how long writing the tarball took (the xz compression, most of it) */
  tarballMs: number;
}

export interface PackageOptions {
  /** default: dist/ */
  outDir?: string;
  /** scratch space; default: build/package/ */
  workDir?: string;
  log?: (line: string) => void;
  /** where the release will be published: the default download address of `curl … | bash` */
  releaseUrl?: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function run(command: string, args: string[], cwd = ROOT): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  return result.stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function bundleAppliance(version: string, outdir: string): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'appliance/main.ts', ...WORKER_ENTRIES },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs', // a Node 24 single executable runs one CommonJS script
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    plugins: [addonsFromRuntime, absentOptionalModules],
    // import.meta exists only in ES modules: its url is the bundle file's own (the workers are
    // found beside the extracted copies through core/sea-runtime.ts, not through it).
    banner: { js: 'var __mcs_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__mcs_import_meta_url', __MCS_VERSION__: JSON.stringify(version) },
    logLevel: 'error',
  });
}

/** The config template in the tarball: what an admin edits, checked against the schema here. */
function configTemplate(): string {
  const template = {
    data_dir: '/var/lib/mcs-edge',
    site: { language: 'zh-CN' },
    http: { host: '0.0.0.0', port: 8080, tls_cert: '', tls_key: '' },
    mqtt: { host: '0.0.0.0', port: 1883, tls_port: 8883, tls_cert: '', tls_key: '' },
    log: { level: 'info' },
  };
  const checked = loadConfig({ overrides: template });
  if (!checked.ok) throw new Error(`config template is invalid: ${checked.errors.join('; ')}`);
  return `${JSON.stringify(template, null, 2)}\n`;
}

/** SHA256SUMS in `sha256sum` format for files side by side (what install.sh verifies). */
export function writeSha256Sums(sumsFile: string, files: string[]): string {
  writeFileSync(sumsFile, files.map((file) => `${sha256(readFileSync(file))}  ${basename(file)}\n`).join(''));
  return sumsFile;
}

/** The installer as released: its version, and where it downloads the tarball from unless told. */
export function stampInstaller(script: string, release: { version: string; releaseUrl?: string }): string {
  const stamp = (text: string, name: string, value: string) => {
    const line = new RegExp(`^${name}=.*$`, 'm');
    if (!line.test(text)) throw new Error(`install.sh has no ${name}= line`);
    return text.replace(line, `${name}="${value}"`);
  };
  const versioned = stamp(script, 'MCS_VERSION', release.version);
  return release.releaseUrl ? stamp(versioned, 'MCS_RELEASE_URL', release.releaseUrl.replace(/\/+$/, '')) : versioned;
}

/**
 * Issue 18.7: the Node.js the executable is made of is the LTS build pinned in package.json
 * (node-linux-<arch>), the one npm scripts run on and the native addons are built for (.npmrc),
 * never simply the node running this script: started with the machine's own Node (`node --test`
 * outside npm), the release would carry that Node and addons it cannot load.
 */
export function pinnedNode(): string {
  const runtime = `node-${process.platform}-${process.arch}`;
  let dir: string;
  try {
    dir = dirname(require.resolve(`${runtime}/package.json`));
  } catch {
    throw new Error(`the pinned Node.js LTS (${runtime}, an optional dependency in package.json) is not installed: run npm install / 未安装 package.json 固定的 Node.js LTS（${runtime}，可选依赖）：请运行 npm install`);
  }
  return join(dir, 'bin', 'node');
}

function platformName(): string {
  if (process.platform !== 'linux') throw new Error(`the single executable is built for linux only (this is ${process.platform})`);
  return `linux-${process.arch}`; // linux-x64, or linux-arm64 on an arm64 host (PKG-1)
}

export async function packageRelease(options: PackageOptions = {}): Promise<Release> {
  const log = options.log ?? (() => {});
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const name = `mcs-edge-${version}-${platformName()}`;
  const work = options.workDir ?? join(ROOT, 'build', 'package');
  const outDir = options.outDir ?? join(ROOT, 'dist');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  mkdirSync(outDir, { recursive: true });

  log('bundling the appliance and its worker threads (CommonJS)');
  const bundle = join(work, 'bundle');
  await bundleAppliance(version, bundle);
  log('building the UI');
  const ui = join(work, 'ui');
  await buildUi(ui);

  // Assets: key → file. The manifest lists their hashes; the build id changes with any of them.
  const assets: Record<string, string> = {};
  for (const worker of WORKERS) assets[`${worker}.cjs`] = join(bundle, `${worker}.cjs`);
  for (const [key, file] of Object.entries(NATIVE_ADDONS)) assets[key] = join(ROOT, file);
  for (const file of filesUnder(ui)) assets[`ui/${relative(ui, file)}`] = file;
  const files = Object.entries(assets).map(([key, file]) => ({ key, sha256: sha256(readFileSync(file)) }));
  const buildId = `${version}-${sha256(Buffer.from(JSON.stringify(files))).slice(0, 12)}`;
  const manifest: SeaManifest = { build: buildId, files };
  const manifestFile = join(work, 'manifest.json');
  writeFileSync(manifestFile, JSON.stringify(manifest));

  log('writing the SEA blob');
  const blob = join(work, 'sea.blob');
  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({
    main: join(bundle, 'main.cjs'),
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { [SEA_MANIFEST_KEY]: manifestFile, ...assets },
  }, null, 2));
  const nodeBinary = pinnedNode();
  run(nodeBinary, ['--experimental-sea-config', seaConfig]);

  log(`injecting it into a copy of ${nodeBinary}`);
  const node = readFileSync(nodeBinary);
  if (!node.includes(SEA_FUSE)) throw new Error(`${nodeBinary} has no single-executable fuse (an official Node.js build is needed)`);
  const stage = join(work, name);
  mkdirSync(stage, { recursive: true });
  const binary = join(stage, 'mcs-edge');
  copyFileSync(nodeBinary, binary);
  chmodSync(binary, 0o755);
  // Debug symbols (~18 MB of Node 24's 127) and the build-attribute notes postject's ELF reader warns about.
  const stripped = spawnSync('strip', ['--strip-all', '--remove-section=.gnu.build.attributes', binary]);
  if (stripped.status !== 0) log('strip is not available: the binary keeps its symbols');
  // Issue 16.5: no code from NODE_OPTIONS or OPENSSL_CONF (installer/sealed-node.ts).
  const runtime = readFileSync(binary);
  sealNodeEnvironment(runtime);
  writeFileSync(binary, runtime);
  await inject(binary, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  const printed = run(binary, ['--version']).trim();
  if (printed !== version) throw new Error(`the built binary says '${printed}', expected '${version}'`);
  checkSealed(binary, work, version);

  const installer = stampInstaller(readFileSync(join(ROOT, 'installer', 'install.sh'), 'utf8'), { version, releaseUrl: options.releaseUrl });
  writeFileSync(join(stage, 'install.sh'), installer, { mode: 0o755 });
  copyFileSync(join(ROOT, 'systemd', 'mcs-edge.service'), join(stage, 'mcs-edge.service'));
  writeFileSync(join(stage, 'config.example.json'), configTemplate());

  log('writing the tarball and its sums');
  const tarball = join(outDir, `${name}.tar.xz`);
  const tarStarted = performance.now();
  writeTarXz(tarball, work, name);
  const tarballMs = Math.round(performance.now() - tarStarted);
  const installScript = join(outDir, 'install.sh');
  writeFileSync(installScript, installer, { mode: 0o755 });
  const sums = writeSha256Sums(join(outDir, 'SHA256SUMS'), [tarball, installScript]);
  return {
    version, name, releaseDir: outDir, tarball, sums, installScript, binary,
    binaryBytes: statSync(binary).size, tarballBytes: statSync(tarball).size, tarballMs,
  };
}

const USAGE = `Usage: npm run package [-- --release-url URL]

PKG-1: builds the release into dist/: the single executable, mcs-edge-<version>-linux-<arch>.tar.xz
(binary, installer, systemd unit, config template), SHA256SUMS and install.sh beside it.
Prints a JSON summary (paths and sizes).

  --release-url URL   where install.sh downloads the release from (http or https)
  -h, --help          this text`;

if (import.meta.url === `file://${process.argv[1]}`) {
  let values;
  try {
    values = parseArgs({ options: { 'release-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (err) {
    console.error(`package: ${(err as Error).message.split('. To specify')[0]} (see --help)`);
    process.exit(64);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const releaseUrl = values['release-url'];
  if (releaseUrl !== undefined && !/^https?:\/\/[^\s"'$`\\]+$/.test(releaseUrl)) {
    console.error(`package: --release-url must be an http(s) URL without quotes or spaces: ${releaseUrl}`);
    process.exit(64);
  }
  const release = await packageRelease({ releaseUrl, log: (line) => console.error(`package: ${line}`) });
  console.log(JSON.stringify({
    tarball: relative(ROOT, release.tarball), sums: relative(ROOT, release.sums), installer: relative(ROOT, release.installScript),
    binary_mb: +(release.binaryBytes / 1e6).toFixed(1), tarball_mb: +(release.tarballBytes / 1e6).toFixed(1),
    tarball_s: +(release.tarballMs / 1000).toFixed(1),
  }, null, 2));
}
