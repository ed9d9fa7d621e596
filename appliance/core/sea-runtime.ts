// PKG-1: inside the single executable the files that must exist on disk (the native addons, the
// worker threads' scripts and the UI) are SEA assets. They are extracted once per build into
// <data_dir>/runtime/<build>/ (the one place the service may write, ProtectSystem=strict), checked
// by their sha256 at every start, and the directories of older builds are removed.
//
// The bundle's `bindings` shim (installer/package.ts) loads `better_sqlite3.node` and
// `unix_dgram.node` from MCS_SEA_RUNTIME_DIR with process.dlopen; worker threads inherit the
// variable with the environment. Only the main thread's extraction sets it: a value in the
// caller's environment is removed before anything loads (core/sea-guard.ts) and never trusted
// here, or it would name a directory of foreign code. Outside the executable none of this runs.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as sea from 'node:sea';

/** The asset `manifest.json` written by installer/package.ts. */
export interface SeaManifest {
  build: string;
  files: { key: string; sha256: string }[];
}

export const SEA_MANIFEST_KEY = 'manifest.json';
export const RUNTIME_DIR_ENV = 'MCS_SEA_RUNTIME_DIR';

export interface AssetSource {
  read(key: string): Buffer;
}

const seaAssets: AssetSource = { read: (key) => Buffer.from(sea.getAsset(key)) };

export function isSingleExecutable(): boolean {
  return sea.isSea();
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function fileMatches(file: string, expected: string): boolean {
  try {
    return sha256(readFileSync(file)) === expected;
  } catch {
    return false;
  }
}

/**
 * Writes every asset of the manifest under `<dataDir>/runtime/<build>/` unless an identical copy
 * is there (written beside and renamed, so a crash never leaves half a file that would be
 * dlopen'ed), removes other builds' directories, and returns the directory.
 */
export function extractRuntime(dataDir: string, assets: AssetSource = seaAssets, options: { prune?: boolean } = {}): string {
  const manifest = JSON.parse(assets.read(SEA_MANIFEST_KEY).toString('utf8')) as SeaManifest;
  const runtimeRoot = join(resolve(dataDir), 'runtime');
  const dir = join(runtimeRoot, manifest.build);
  for (const { key, sha256: expected } of manifest.files) {
    const target = join(dir, key);
    if (!target.startsWith(`${dir}/`)) throw new Error(`SEA asset key escapes the runtime directory: ${key}`);
    if (fileMatches(target, expected)) continue;
    const data = assets.read(key);
    if (sha256(data) !== expected) throw new Error(`SEA asset ${key} does not match its manifest`);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    const partial = `${target}.partial-${process.pid}`;
    writeFileSync(partial, data, { mode: 0o644 });
    renameSync(partial, target);
  }
  chmodSync(dir, 0o755);
  if (options.prune ?? true) {
    for (const entry of readdirSync(runtimeRoot)) {
      if (entry !== manifest.build) rmSync(join(runtimeRoot, entry), { recursive: true, force: true });
    }
  }
  return dir;
}

/**
 * In the single executable: extract the runtime and point the addon loader, the worker threads and
 * the UI at it. A no-op from source or from the dist/ bundle. Only the service (`prune`) removes
 * other builds' directories: a command line of another version must not take the running
 * service's worker scripts away.
 */
let extractedDir: string | null = null;

export function prepareSeaRuntime(dataDir: string, options: { prune: boolean }): void {
  if (!isSingleExecutable() || extractedDir !== null) return;
  let dir: string;
  try {
    dir = extractRuntime(dataDir, seaAssets, options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot unpack the runtime into ${join(resolve(dataDir), 'runtime')} (${code ?? (err as Error).message})${
      code === 'EACCES' || code === 'EPERM' ? ': run as the user that owns the data directory (the installed `mcs-edge` wrapper does)' : ''}`);
  }
  extractedDir = dir;
  process.env[RUNTIME_DIR_ENV] = dir;
  if (existsSync(join(dir, 'ui', 'index.html'))) process.env.MCS_UI_DIR = join(dir, 'ui');
}

/** The extracted copy of a worker thread's script, when running as the single executable. */
export function extractedWorker(name: 'writer-worker' | 'checkpoint-worker' | 'export-worker'): URL | null {
  const dir = process.env[RUNTIME_DIR_ENV];
  return dir && isSingleExecutable() ? pathToFileURL(join(dir, `${name}.cjs`)) : null;
}
