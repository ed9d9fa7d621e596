// `npm run build`: bundles the appliance into plain ES-module JavaScript under dist/ (what the
// benchmarks run): the main entry and the worker threads as separate files, npm packages (and the
// native SQLite addon) left external. The single executable has its own bundle (installer/package.ts).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

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
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    define: { __MCS_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAppliance();
  console.log('built dist/main.js, dist/writer-worker.js, dist/checkpoint-worker.js, dist/export-worker.js');
}
