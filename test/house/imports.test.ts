// Issue 18: the import rules of docs/architecture.md ("Import rules"; the tree shows the data flow), checked on every
// .ts/.tsx file so a module in the wrong room fails `npm test` instead of waiting for a reader.
// Each file belongs to a room (appliance/<stage>/, appliance/core, appliance/contract, licensing,
// simulator, bench, ui, installer); a relative import from one room into another must be allowed
// by ROOMS below, as a value import or only as a type import (a stage may name the type of a part
// app.ts hands it; the part itself comes through app.ts wiring or the typed bus). The few imports
// that cross the rules for a reason are listed, each with that reason, in EXCEPTIONS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_DIRS = ['appliance', 'licensing', 'simulator', 'bench', 'ui', 'installer'];
const SKIP_DIRS = new Set(['node_modules', 'dist']);

/** Every stage may use these besides its own folder (ARCHITECTURE: "a stage imports core/, contract/, the storage/ repositories it needs and its own folder"). */
const STAGE_BASE = ['appliance/core', 'appliance/contract', 'appliance/storage'];

interface Rule {
  /** rooms it may import values (and types) from, besides itself */
  value: string[];
  /** rooms it may import types only from: parts app.ts builds and hands it */
  type?: string[];
}

const ROOMS: Record<string, Rule> = {
  // The contract is what crosses a process boundary (device payloads, API and WS messages): it imports no stage.
  'appliance/contract': { value: [] },
  // Config, log, the error catalog, clock, bus, worker threads: below every stage, importing none.
  // (The error catalog takes the license codes from the licensing gate: see EXCEPTIONS.)
  'appliance/core': { value: ['appliance/contract'] },
  // The composition root, the entry point and the bundler: they build and start every stage.
  'appliance/app': { value: ['*'] },
  'appliance/main': { value: ['*'] },
  'appliance/build': { value: ['*'] },
  // Issue 18.5: the test API app.ts hands tests (`app.testApi`): thin delegations to every part.
  'appliance/test-api': { value: ['*'] },
  // Ambient module declarations only.
  'appliance/types': { value: [] },
  // The flow, in order (ARCHITECTURE "The flow"). The broker hands publishes to ingest and
  // authenticates against the device cache: both handed to it by app.ts.
  'appliance/broker': { value: STAGE_BASE, type: ['appliance/ingest', 'appliance/devices'] },
  'appliance/ingest': { value: STAGE_BASE, type: ['appliance/devices'] },
  // storage holds the writer: the alarm rules and the notify decision run inside its transaction (ALM-8): see EXCEPTIONS.
  'appliance/storage': { value: ['appliance/core', 'appliance/contract'] },
  // Pure rule evaluation and lifecycle over the alarm repositories.
  'appliance/alarms': { value: STAGE_BASE },
  'appliance/notify': { value: STAGE_BASE, type: ['appliance/devices'] },
  'appliance/live': { value: STAGE_BASE },
  'appliance/archive': { value: STAGE_BASE },
  'appliance/jobs': { value: STAGE_BASE },
  'appliance/devices': { value: STAGE_BASE },
  'appliance/users': { value: STAGE_BASE },
  'appliance/calibration': { value: STAGE_BASE, type: ['appliance/devices'] },
  'appliance/exposure': { value: STAGE_BASE },
  // Issue 17: the cloud uplink reads the committed tables and sends; its transports are its own.
  'appliance/sync': { value: STAGE_BASE },
  // The appliance's side of licensing: the guard consults the pure gate and the check-in client (seed §8).
  'appliance/license': { value: [...STAGE_BASE, 'licensing'] },
  // The API is the outermost stage: app.ts hands it the services of the others (api/deps.ts), so
  // it knows their types, never their modules.
  'appliance/api': {
    value: STAGE_BASE,
    type: ['appliance/alarms', 'appliance/archive', 'appliance/calibration', 'appliance/devices', 'appliance/exposure',
      'appliance/jobs', 'appliance/live', 'appliance/notify', 'appliance/sync', 'appliance/users'],
  },
  // The offline admin commands (`mcs-edge devices|alarms|archive|license …`) work on the database
  // without the server running: each command is a small composition root of its own.
  'appliance/cli': { value: [...STAGE_BASE, 'appliance/archive', 'appliance/devices', 'appliance/notify', 'licensing'] },
  // The vendor's tools and the pure gate: nothing from the appliance (ARCHITECTURE).
  licensing: { value: [] },
  // The simulator speaks to the appliance only through the contract, like a real detector.
  simulator: { value: ['appliance/contract'] },
  // The browser UI: types only from the contract, values only from the pure modules in UI_VALUE_MODULES.
  ui: { value: [], type: ['appliance/contract'] },
  // Benchmarks drive the appliance, the simulator, the installer's packaging and the UI build, and
  // launch Chromium the way the UI tests do (test/ui/support.ts).
  bench: { value: ['*'] },
  // Packaging bundles the UI (ui/build.ts) and reads the version and SEA runtime names from core.
  installer: { value: ['appliance/core', 'ui'] },
};

/**
 * Pure modules of the contract the UI bundles as values: one definition for server and browser,
 * no Node APIs, nothing but other pure contract modules and typebox.
 */
const UI_VALUE_MODULES: Record<string, string> = {
  'appliance/contract/gas.ts': 'unit conversion and labels (ppm ↔ mg/m³, %LEL): the kiosk must show what the server stores',
  'appliance/contract/alarm-labels.ts': 'alarm names in both languages: the same words on the kiosk, in e-mails and in the CSV',
  'appliance/contract/dashboard.ts': "planOf: which floor plan a tile belongs to, as the server validates it",
  'appliance/contract/masking.ts': 'MASK_REASONS: the reasons the API accepts for a mask',
  'appliance/contract/alarm-value.ts': "alarmValueKind: what an alarm's numbers mean (ALM-1), read the same on the kiosk as in notifications",
};

/** Single imports that cross the rules, each for the reason given. */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [
  {
    from: 'appliance/storage/writer-core.ts', to: 'appliance/alarms/lifecycle.ts',
    why: 'ALM-8: the alarm rules run where the commit is, on the writer thread, which app.ts cannot hand functions to',
  },
  {
    from: 'appliance/storage/writer-core.ts', to: 'appliance/alarms/linkage.ts',
    why: 'issue 15.5: linkage orders are decided in the same transaction as the alarm (ALM-8), on the writer thread',
  },
  {
    from: 'appliance/storage/writer-core.ts', to: 'appliance/notify/policy.ts',
    why: 'ALM-4/ALM-5: which channels an event goes to is decided in its transaction (outbox rows), on the writer thread',
  },
  {
    from: 'appliance/core/errors.ts', to: 'licensing/gate.ts',
    why: "one definition of the seed's license codes (20001-20004): the pure gate decides them, the catalog reports them",
  },
];

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Top-level folders are rooms; inside appliance/, each stage folder and each top-level file is. */
export function roomOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'appliance') return parts[0];
  return `appliance/${parts[1].replace(/\.tsx?$/, '')}`;
}

const STATIC_IMPORT = /^\s*(import|export)\s+(type\s+)?(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** `import type …`, or `import { type A, type B }` where every name is a type. */
function isTypeOnly(keywordType: string | undefined, clause: string | undefined): boolean {
  if (keywordType) return true;
  const named = clause?.trim().match(/^\{([\s\S]*)\}$/);
  if (!named) return false;
  const names = named[1].split(',').map((name) => name.trim()).filter(Boolean);
  return names.length > 0 && names.every((name) => name.startsWith('type '));
}

export function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    if (!specifier.startsWith('.')) return; // packages and node: builtins
    found.push({ file, target: relative(ROOT, resolve(ROOT, dirname(file), specifier)), typeOnly });
  };
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const match of code.matchAll(STATIC_IMPORT)) add(match[4], isTypeOnly(match[2], match[3]));
  for (const match of code.matchAll(DYNAMIC_IMPORT)) add(match[1], false);
  return found;
}

/** Why an import breaks the rules, or null when it keeps them. */
export function violation({ file, target, typeOnly }: Import): string | null {
  const from = roomOf(file);
  const to = roomOf(target);
  if (from === to) return null;
  if (EXCEPTIONS.some((e) => e.from === file && e.to === target)) return null;
  const rule = ROOMS[from];
  if (!rule) return `${file}: its room '${from}' has no rule in test/house/imports.test.ts`;
  if (from === 'ui' && to === 'appliance/contract' && !typeOnly) {
    return UI_VALUE_MODULES[target] ? null : `${file} imports values from ${target}: the UI imports only types from the contract (or a pure module listed in UI_VALUE_MODULES)`;
  }
  if (rule.value.includes('*') || rule.value.includes(to)) return null;
  if (typeOnly && rule.type?.includes(to)) return null;
  const allowed = rule.type?.includes(to) ? ' (types only)' : '';
  return `${file} imports ${typeOnly ? 'types from ' : ''}${target}: '${from}' may not import from '${to}'${allowed}`;
}

const allImports = () => SOURCE_DIRS.flatMap(sourceFiles).flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), 'utf8')));

test('every import keeps the import rules of the architecture', () => {
  const imports = allImports();
  assert.ok(imports.length > 500, `only ${imports.length} imports found: the scan is broken`);
  const broken = imports.map(violation).filter((v): v is string => v !== null);
  assert.deepEqual(broken, [], `import rules broken (docs/architecture.md "Import rules"; the table is in test/house/imports.test.ts):\n${broken.join('\n')}`);
});

test('every exception and allowed UI module still exists as an import, so the lists do not go stale', () => {
  const imports = allImports();
  for (const e of EXCEPTIONS) {
    assert.ok(imports.some((i) => i.file === e.from && i.target === e.to), `exception no longer needed: ${e.from} → ${e.to}`);
  }
  for (const module of Object.keys(UI_VALUE_MODULES)) {
    assert.ok(imports.some((i) => roomOf(i.file) === 'ui' && i.target === module && !i.typeOnly), `UI_VALUE_MODULES lists ${module}, which the UI no longer imports as values`);
  }
});

test('the checker sees value and type imports and flags a stage reaching into another', () => {
  const text = [
    "import { a } from '../alarms/queries.ts';",
    "import type { B } from '../devices/cache.ts';",
    "import { type C, type D } from '../ingest/pipeline.ts';",
    "import {\n  e,\n  type F,\n} from '../live/state.ts';",
    "export { g } from '../core/log.ts';",
    "// import { h } from '../notify/notifier.ts';",
    "const m = await import('../jobs/scheduler.ts');",
  ].join('\n');
  const found = importsOf('appliance/broker/x.ts', text);
  assert.deepEqual(found.map((i) => [i.target, i.typeOnly]), [
    ['appliance/alarms/queries.ts', false],
    ['appliance/devices/cache.ts', true],
    ['appliance/ingest/pipeline.ts', true],
    ['appliance/live/state.ts', false],
    ['appliance/core/log.ts', false],
    ['appliance/jobs/scheduler.ts', false],
  ]);
  assert.deepEqual(found.map((i) => violation(i) !== null), [true, false, false, true, false, true]);
  assert.match(violation({ file: 'ui/src/x.tsx', target: 'appliance/contract/live.ts', typeOnly: false }) ?? '', /only types/);
  assert.equal(violation({ file: 'ui/src/x.tsx', target: 'appliance/contract/live.ts', typeOnly: true }), null);
  assert.match(violation({ file: 'simulator/x.ts', target: 'appliance/core/clock.ts', typeOnly: true }) ?? '', /may not import/);
  assert.match(violation({ file: 'appliance/contract/x.ts', target: 'appliance/storage/db.ts', typeOnly: true }) ?? '', /may not import/);
});
