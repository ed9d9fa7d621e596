// `npm run simulate -- ...`: N detectors (SIM-1) with an optional scenario (SIM-2), or load mode
// (SIM-3). Human-readable lines go to stderr; load mode's one JSON result line goes to stdout.
import { readFile } from 'node:fs/promises';
import { derivedDevicePassword } from '../appliance/contract/credentials.ts';
import { parseCli, USAGE, type CliConfig, type Credentials } from './cli.ts';
import { createDetector, type Detector } from './detector.ts';
import { createLoad } from './load.ts';
import { createOutputModule } from './output-module.ts';
import { createRng, seedFrom } from './rng.ts';
import { createScenario } from './scenarios.ts';

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

async function passwordLookup(c: Credentials, sns: string[]): Promise<(sn: string) => string> {
  if (c.kind === 'secret') return (sn) => derivedDevicePassword(sn, c.secret); // DEV-5
  if (c.kind === 'password') return () => c.password;
  const table = JSON.parse(await readFile(c.file, 'utf8')) as Record<string, unknown>;
  const missing = sns.filter((sn) => typeof table[sn] !== 'string');
  if (missing.length > 0) throw new Error(`${c.file} has no password for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  return (sn) => table[sn] as string;
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM) or after `durationS`. */
function stopSignal(durationS: number | null, onSecond: () => void): Promise<string> {
  return new Promise((resolve) => {
    let asked = false;
    const onSignal = (sig: string) => {
      if (asked) return onSecond();
      asked = true;
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (durationS !== null) setTimeout(() => onSignal('duration'), durationS * 1000).unref();
  });
}

async function runDetectors(cfg: CliConfig, passwordFor: (sn: string) => string) {
  const n = cfg.sns.length;
  const verbose = cfg.verbose || n === 1;
  const intervalMs = cfg.intervalS * 1000;
  const detectors: Detector[] = cfg.sns.map((sn, i) => {
    const rng = createRng(seedFrom(sn, cfg.seed));
    const scenario = cfg.scenario && i < cfg.scenario.devices ? createScenario(cfg.scenario.name, cfg.scenario.options) : undefined;
    return createDetector({
      sn, url: cfg.url, password: passwordFor(sn), intervalMs, qos: cfg.qos, rng, scenario, calib: cfg.calib,
      // Spread a fleet's readings over the interval instead of all at once.
      phaseMs: n > 1 ? Math.floor(rng() * intervalMs) : 0,
      log,
      onEvent: verbose
        ? (e) => e.type === 'reading' && log(`${sn} ${e.buffered ? 'buffered' : 'up'} ${String(e.payload).slice(0, 200)}`)
        : undefined,
    });
  });
  log(`simulating ${n} detector(s) against ${cfg.url}, every ${cfg.intervalS} s, QoS ${cfg.qos}` +
    (cfg.scenario ? `, scenario ${cfg.scenario.name} on ${Math.min(n, cfg.scenario.devices)}` : ''));
  const stopping = stopSignal(cfg.durationS, () => process.exit(1));
  // Connect at the connect rate, as a fleet coming back after a power cut would (bounded).
  const perTick = Math.max(1, Math.round(cfg.connectRatePerS / 100));
  let stopped = false;
  void stopping.then(() => (stopped = true));
  for (let i = 0; i < n && !stopped; i += perTick) {
    detectors.slice(i, i + perTick).forEach((d) => void d.start());
    await new Promise((r) => setTimeout(r, 10));
  }
  const summary = setInterval(() => log(summarize(detectors)), 10_000);
  const why = await stopping;
  clearInterval(summary);
  log(`stopping (${why}): disconnecting cleanly`);
  await Promise.all(detectors.map((d) => d.stop()));
  log(summarize(detectors));
}

function summarize(detectors: Detector[]): string {
  const t = { connected: 0, taken: 0, sent: 0, acked: 0, buffered: 0, dropped: 0, refused: 0 };
  for (const d of detectors) {
    const s = d.stats();
    t.connected += s.connected ? 1 : 0;
    t.taken += s.taken;
    t.sent += s.sent;
    t.acked += s.acked;
    t.buffered += s.buffered;
    t.dropped += s.dropped;
    t.refused += s.refused;
  }
  return `connected ${t.connected}/${detectors.length} readings=${t.taken} sent=${t.sent} acked=${t.acked} buffered=${t.buffered} dropped=${t.dropped} refused=${t.refused}`;
}

/** Issue 15.5: output modules that obey and acknowledge relay commands, until a signal or --duration. */
async function runOutputModules(cfg: CliConfig, passwordFor: (sn: string) => string) {
  const modules = cfg.sns.map((sn) => createOutputModule({ sn, url: cfg.url, password: passwordFor(sn), log }));
  log(`simulating ${modules.length} output module(s) against ${cfg.url}`);
  await Promise.all(modules.map((m) => m.start()));
  const why = await stopSignal(cfg.durationS, () => process.exit(1));
  log(`stopping (${why}): disconnecting cleanly`);
  await Promise.all(modules.map((m) => m.stop()));
}

async function runLoad(cfg: CliConfig, passwordFor: (sn: string) => string) {
  const load = createLoad({
    url: cfg.url, sns: cfg.sns, passwordFor, ratePerS: cfg.load.ratePerS, durationS: cfg.durationS ?? 10,
    connectRatePerS: cfg.connectRatePerS, qos: cfg.qos, windowPerClient: cfg.load.windowPerClient, batch: cfg.load.batch,
    drainS: cfg.load.drainS, ackedLog: cfg.load.ackedLog ?? undefined, seed: cfg.seed, log,
  });
  void stopSignal(null, () => process.exit(1)).then(() => load.stop());
  log(`load: ${cfg.sns.length} connections to ${cfg.url}, ${cfg.load.ratePerS}/s for ${cfg.durationS ?? 10} s at QoS ${cfg.qos}`);
  const report = await load.start();
  process.stdout.write(JSON.stringify(report) + '\n');
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCli(argv, process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`simulate: ${parsed.message} (see --help)\n`);
    return 2;
  }
  const cfg = parsed.config;
  const passwordFor = await passwordLookup(cfg.credentials, cfg.sns);
  if (cfg.mode === 'load') await runLoad(cfg, passwordFor);
  else if (cfg.outputModule) await runOutputModules(cfg, passwordFor);
  else await runDetectors(cfg, passwordFor);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; do not let a stray socket keep a finished run alive.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (err: Error) => {
    log(`simulate: ${err.message}`);
    process.exit(1);
  },
);
