// `npm run build`: bundles the appliance into plain ES-module JavaScript under dist/ (what the
// benchmarks run): the main entry and the worker threads as separate files, npm packages (and the
// native SQLite addon) left external. The single executable has its own bundle (installer/package.ts).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';

const ROOT = new URL('../', import.meta.url).pathname;

const ENTRIES = {
  main: 'appliance/main.ts',
  'writer-worker': 'appliance/storage/writer-worker.ts',
  'checkpoint-worker': 'appliance/storage/checkpoint-worker.ts',
  'export-worker': 'appliance/archive/export-worker.ts',
};

export async function buildAppliance(outdir = `${ROOT}dist`): Promise<void> {
  // Only this build's files: dist/ also holds the release (installer/package.ts).
  for (const name of Object.keys(ENTRIES)) {
    for (const file of [`${name}.js`, `${name}.js.map`]) rmSync(`${outdir}/${file}`, { force: true });
  }
  const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    define: { __MCS_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
  });
}

const USAGE = `Usage: npm run build

Bundles the appliance into dist/ (main.js and the writer, checkpoint and export workers), the
JavaScript npm run bench runs. The single executable is npm run package.`;

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
  } catch (err) {
    console.error(`build: ${(err as Error).message.split('. To specify')[0]} (see --help)`);
    process.exit(2);
  }
  await buildAppliance();
  console.log('built dist/main.js, dist/writer-worker.js, dist/checkpoint-worker.js, dist/export-worker.js');
}
