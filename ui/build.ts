// UI-1 `npm run build:ui`: bundles the one Preact app (kiosk + admin) with esbuild into ui/dist/:
// index.html plus content-hashed JS and CSS, so the appliance can cache them for a year and a new
// build is picked up at once. chart.js is tree-shaken (only what ui/src/charts registers).
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const UI = new URL('./', import.meta.url).pathname;
export const UI_DIST = join(UI, 'dist');

export interface UiBuild {
  js: string;
  css: string;
  /** gzipped bytes of everything the browser downloads (html + js + css) */
  gzipBytes: number;
}

/**
 * Builds into a fresh folder beside `outdir`, then swaps it in with two renames: an appliance
 * serving `outdir` meanwhile (another test process, `npm start`) never finds it half-deleted — it
 * did, and a kiosk test's click then went nowhere now and then when two test runs built at once.
 */
export async function buildUi(outdir = UI_DIST): Promise<UiBuild> {
  const target = outdir;
  outdir = `${target}.building-${process.pid}`;
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: UI,
    entryPoints: { app: 'src/main.tsx' },
    outdir: join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome100', 'safari15', 'firefox100'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const js = basename(outputs.find((f) => f.endsWith('.js'))!);
  const css = basename(outputs.find((f) => f.endsWith('.css'))!);
  const html = readFileSync(join(UI, 'index.html'), 'utf8')
    .replace('%CSS%', `/assets/${css}`)
    .replace('%JS%', `/assets/${js}`);
  writeFileSync(join(outdir, 'index.html'), html);
  let gzipBytes = 0;
  for (const file of [join(outdir, 'index.html'), join(outdir, 'assets', js), join(outdir, 'assets', css)]) {
    const gz = gzipSync(readFileSync(file), { level: 9 });
    gzipBytes += gz.length;
    // Served as-is to browsers that accept gzip (phones on plant Wi-Fi): no compression at request time.
    if (file.includes('/assets/')) writeFileSync(`${file}.gz`, gz);
  }
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(outdir, target);
  rmSync(old, { recursive: true, force: true });
  return { js, css, gzipBytes };
}

/** Builds only when ui/dist has no index.html (npm start / npm test on a fresh checkout). */
export async function ensureUiBuilt(): Promise<void> {
  if (!existsSync(join(UI_DIST, 'index.html'))) await buildUi();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flags = process.argv.slice(2);
  if (flags.includes('--help') || flags.includes('-h')) {
    console.log('Usage: npm run build:ui [-- --if-missing]\n\nBundles the UI into ui/dist/ (UI-1). --if-missing: only when ui/dist/index.html is absent.');
    process.exit(0);
  }
  const unknown = flags.find((flag) => flag !== '--if-missing');
  if (unknown) {
    console.error(`build:ui: unknown option '${unknown}' (see --help)`);
    process.exit(2);
  }
  const onlyIfMissing = flags.includes('--if-missing');
  if (onlyIfMissing && existsSync(join(UI_DIST, 'index.html'))) process.exit(0);
  const built = await buildUi();
  console.log(`built ui/dist: assets/${built.js}, assets/${built.css} (${(built.gzipBytes / 1024).toFixed(1)} KB gzipped)`);
}
