// Issue 16.5 / LIC-2: the Node.js runtime of the single executable must not run code the
// environment names. Stock Node reads two environment variables at start that load code before
// the appliance's first line: NODE_OPTIONS (`--require x.cjs`, `--import`, `--loader`, `--inspect`
// … in the main thread and in every worker thread) and OPENSSL_CONF (an OpenSSL configuration
// whose provider section dlopens any shared library). Either was enough to swap the vendor key.
//
// Node's SEA configuration has no switch for OPENSSL_CONF (Node 24's `execArgvExtension: "none"`
// covers NODE_OPTIONS only, and a Node built `--without-node-options` is not what the release
// copies). So the release's copy of the node binary gets the same effect: the C string
// each name is looked up with (one `getenv` literal in .rodata, shared by every lookup of that name)
// is emptied, and `getenv("")` never finds anything. Process environments, `process.env` and child
// processes are untouched; only Node's own start-up stops seeing the two names.
//
// The name also appears inside V8's startup snapshot as a length-prefixed string (a JS constant);
// those are left alone, and anything other than exactly one C string per name fails the build.
// packageRelease checks the result by running it (a preload that must not load).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The environment variables whose lookup the sealed runtime no longer performs. */
export const SEALED_ENV_NAMES = ['NODE_OPTIONS', 'OPENSSL_CONF'] as const;

/**
 * Offsets of `name` as a NUL-terminated C string (a NUL on both sides, and not the body of a
 * V8 snapshot string, whose 4 bytes before it hold its length).
 */
export function cStringOffsets(binary: Buffer, name: string): number[] {
  const needle = Buffer.from(`\0${name}\0`, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(name.length);
  const offsets: number[] = [];
  for (let at = binary.indexOf(needle); at !== -1; at = binary.indexOf(needle, at + 1)) {
    if (!binary.subarray(at - 3, at + 1).equals(length)) offsets.push(at + 1);
  }
  return offsets;
}

/** Empties the getenv literal of each sealed name in a copy of the node binary (in place). */
export function sealNodeEnvironment(binary: Buffer): { name: string; offset: number }[] {
  const sealed: { name: string; offset: number }[] = [];
  for (const name of SEALED_ENV_NAMES) {
    const offsets = cStringOffsets(binary, name);
    if (offsets.length !== 1) {
      throw new Error(`cannot seal ${name} in this node binary: ${offsets.length} C strings of that name, expected exactly 1 (a Node.js release this build does not know)`);
    }
    binary[offsets[0]!] = 0;
    sealed.push({ name, offset: offsets[0]! });
  }
  return sealed;
}

/**
 * Runs the finished executable with both variables pointing at code: a preload that would exit
 * the process with 97 and an OpenSSL provider that does not exist (stock Node aborts on it). The
 * sealed binary prints its version as if neither were set.
 */
export function checkSealed(binary: string, workDir: string, version: string): void {
  const preload = join(workDir, 'must-not-load.cjs');
  writeFileSync(preload, 'process.exit(97);\n');
  const opensslConf = join(workDir, 'must-not-load.cnf');
  writeFileSync(opensslConf, [
    'nodejs_conf = init', '[init]', 'providers = providers', '[providers]', 'absent = absent_provider',
    '[absent_provider]', `module = ${join(workDir, 'absent-provider.so')}`, 'activate = 1', '',
  ].join('\n'));
  const result = spawnSync(binary, ['--version'], {
    encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: `--require ${preload}`, OPENSSL_CONF: opensslConf },
  });
  if (result.status !== 0 || result.stdout.trim() !== version) {
    throw new Error(`the built binary still reads NODE_OPTIONS or OPENSSL_CONF (exit ${result.status ?? result.signal}): ${result.stderr}`);
  }
}
