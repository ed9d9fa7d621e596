// `npm run build`: bundles the appliance into plain JavaScript under dist/ (what the packaged
// binary runs, PKG-1): the main entry and the writer thread as separate files, npm packages
// (and the native SQLite addon) left external.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const ROOT = new URL('../', import.meta.url).pathname;

export async function buildAppliance(outdir = `${ROOT}dist`): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: {
      main: 'appliance/main.ts',
      'writer-worker': 'appliance/storage/writer-worker.ts',
      'checkpoint-worker': 'appliance/storage/checkpoint-worker.ts',
      'export-worker': 'appliance/archive/export-worker.ts',
    },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAppliance();
  console.log('built dist/main.js, dist/writer-worker.js, dist/checkpoint-worker.js, dist/export-worker.js');
}
