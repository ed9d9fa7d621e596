// The simulator's command line (SIM-1..3), parsed into a plain config. Pure apart from reading
// nothing at all: files named on the command line are read by main.ts.
import { parseArgs } from 'node:util';
import { isValidSn } from '../appliance/contract/topics.ts';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName, type ScenarioOptions } from './scenarios.ts';
import type { Calibration } from './types.ts';

export const USAGE = `MCS Edge detector simulator (SIM-1..3)

Usage:
  npm run simulate -- [options]              run detectors (DEV-1..4) until SIGINT/SIGTERM or --duration
  npm run simulate -- load [options]         load mode for benchmarks (or --load); prints one JSON line

Connection and identity
  --url URL               broker (default mqtt://127.0.0.1:1883)
  --devices N             number of detectors (default 1); serials P-0001, P-0002, ...
  --sn-prefix P           serial prefix (default SIM)
  --sn SN                 one detector with this serial instead
  --factory-secret S      derived passwords (DEV-5); default $MCS_FACTORY_SECRET
  --password P            the same password for every device
  --credentials FILE      JSON {"<sn>": "<password>", ...}
  --connect-rate C        new connections per second (default 500)

Detectors
  --interval S            seconds between readings (default 10)
  --qos 0|1               QoS of readings (default 1)
  --duration S            run for S seconds, then disconnect cleanly and exit (default: until a signal)
  --seed N                random seed; the same seed replays the same readings (default 1)
  --k K --b B --t-comp T  calibration the detectors start with (default 1, 0, 0)
  --verbose               log every reading (the default for a single detector)
  --output-module         run the serials as output modules (relay boxes, issue 15.5) instead of
                          detectors: no readings; relay commands obeyed and acknowledged on status

Scenarios (SIM-2)
  --scenario NAME         ${SCENARIO_NAMES.join(', ')}
  --scenario-devices K    only the first K detectors run the scenario (default all)
  --high-limit PPM        leak: limit to cross; flapping: threshold (default 5000)
  --leak-start-s S --leak-ramp-s S --leak-hold-s S    leak timing (default 30, 60, 30)
  --fault-codes 1,2,3,50  fault: DEV-4 codes to cycle
  --offline-after-s S     offline: seconds online before the drop (default 30)
  --offline-s S           offline: seconds away (default 60)
  --skew-min M            skew: device clock offset in minutes (default 10; behind: --skew-min=-10)
  --malformed-every K     malformed: every K-th reading is malformed (default 1)
  --bad-password P        wrong-credentials: the password to send (default wrong-<password>)
  --other-sn SN           acl: the device whose topic to publish to (default SIM-OTHER)

Load mode (SIM-3)
  --rate R                readings per second across all devices (default 1000)
  --duration S            seconds of sending (default 10)
  --window W              unacknowledged publishes allowed per connection (default 100)
  --batch B               readings a device sends back to back per turn (default 1; >1 is cheaper
                          for the generator but less like real detectors)
  --drain-s S             seconds to wait for outstanding PUBACKs at the end (default 10)
  --acked-log FILE        append "sn,seq,ts" for every acknowledged reading

  -h, --help              this text
`;

export type Credentials =
  | { kind: 'secret'; secret: string }
  | { kind: 'password'; password: string }
  | { kind: 'file'; file: string };

export interface CliConfig {
  mode: 'run' | 'load';
  url: string;
  sns: string[];
  credentials: Credentials;
  connectRatePerS: number;
  qos: 0 | 1;
  seed: number;
  durationS: number | null;
  intervalS: number;
  verbose: boolean;
  /** Issue 15.5: the serials are output modules, not detectors. */
  outputModule: boolean;
  calib: Calibration;
  scenario: { name: ScenarioName; devices: number; options: ScenarioOptions } | null;
  load: { ratePerS: number; windowPerClient: number; batch: number; drainS: number; ackedLog: string | null };
}

export type CliResult = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'config'; config: CliConfig };

const str = { type: 'string' } as const;
const OPTIONS = {
  url: str, devices: str, 'sn-prefix': str, sn: str, 'factory-secret': str, password: str, credentials: str,
  'connect-rate': str, interval: str, qos: str, duration: str, seed: str, k: str, b: str, 't-comp': str,
  verbose: { type: 'boolean' }, 'output-module': { type: 'boolean' }, scenario: str, 'scenario-devices': str, 'high-limit': str, 'leak-start-s': str,
  'leak-ramp-s': str, 'leak-hold-s': str, 'fault-codes': str, 'offline-after-s': str, 'offline-s': str,
  'skew-min': str, 'malformed-every': str, 'bad-password': str, 'other-sn': str, load: { type: 'boolean' },
  rate: str, window: str, batch: str, 'drain-s': str, 'acked-log': str, help: { type: 'boolean', short: 'h' },
} as const;

class CliError extends Error {}

export function parseCli(argv: string[], env: Record<string, string | undefined> = {}): CliResult {
  try {
    return parse(argv, env);
  } catch (err) {
    if (err instanceof CliError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { kind: 'error', message: (err as Error).message };
    }
    throw err;
  }
}

function parse(argv: string[], env: Record<string, string | undefined>): CliResult {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (v.help) return { kind: 'help' };
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'load')) {
    throw new CliError(`unexpected argument ${positionals.at(-1)} (the only subcommand is "load")`);
  }
  const mode = v.load || positionals[0] === 'load' ? 'load' : 'run';
  const num = (name: keyof typeof v, def: number, min: number, int = false): number => {
    const raw = v[name];
    if (raw === undefined) return def;
    const x = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(x) || x < min || (int && !Number.isInteger(x))) {
      throw new CliError(`--${name} must be ${int ? 'an integer' : 'a number'} ≥ ${min}, got ${String(raw)}`);
    }
    return x;
  };
  const opt = (name: keyof typeof v) => (v[name] === undefined ? undefined : num(name, 0, -Infinity));

  if (v.url !== undefined && !/^(mqtts?|tcp|ssl|tls):\/\//.test(v.url)) throw new CliError(`--url must be mqtt://host:port, got ${v.url}`);
  const qos = num('qos', 1, 0, true);
  if (qos > 1) throw new CliError('--qos must be 0 or 1 (DEV-1)');
  let scenario: CliConfig['scenario'] = null;
  if (v.scenario !== undefined) {
    if (!isScenarioName(v.scenario)) throw new CliError(`unknown --scenario ${v.scenario} (one of ${SCENARIO_NAMES.join(', ')})`);
    if (mode === 'load') throw new CliError('--scenario does not apply to load mode');
    const codes = v['fault-codes']?.split(',').map((s) => Number(s.trim()));
    if (codes?.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) throw new CliError('--fault-codes must be integers 0-255, e.g. 1,2,3,50');
    if (v['other-sn'] !== undefined && !isValidSn(v['other-sn'])) throw new CliError(`--other-sn ${v['other-sn']} is not a valid serial number`);
    scenario = {
      name: v.scenario,
      devices: num('scenario-devices', Number.MAX_SAFE_INTEGER, 0, true),
      options: {
        highLimit: opt('high-limit'), skewMin: opt('skew-min'), offlineS: opt('offline-s'), offlineAfterS: opt('offline-after-s'),
        leakStartS: opt('leak-start-s'), leakRampS: opt('leak-ramp-s'), leakHoldS: opt('leak-hold-s'), faultCodes: codes,
        malformedEvery: opt('malformed-every'), badPassword: v['bad-password'], otherSn: v['other-sn'],
      },
    };
  }
  const durationDefault = mode === 'load' ? 10 : null;
  return {
    kind: 'config',
    config: {
      mode,
      url: v.url ?? 'mqtt://127.0.0.1:1883',
      sns: serials(v.sn, v['sn-prefix'], v.devices === undefined ? undefined : num('devices', 1, 1, true)),
      credentials: credentials(v['factory-secret'], v.password, v.credentials, env.MCS_FACTORY_SECRET),
      connectRatePerS: num('connect-rate', 500, 1),
      qos: qos as 0 | 1,
      seed: num('seed', 1, 0, true),
      durationS: v.duration === undefined ? durationDefault : num('duration', 0, 0),
      intervalS: num('interval', 10, 0.05),
      verbose: v.verbose ?? false,
      outputModule: v['output-module'] ?? false,
      calib: { k: num('k', 1, -Infinity), b: num('b', 0, -Infinity), t_comp: num('t-comp', 0, -Infinity) },
      scenario,
      load: {
        ratePerS: num('rate', 1000, 0),
        windowPerClient: num('window', 100, 1, true),
        batch: num('batch', 1, 1, true),
        drainS: num('drain-s', 10, 0),
        ackedLog: v['acked-log'] ?? null,
      },
    },
  };
}

/** P-0001, P-0002, ... (wider when N needs it), or the one --sn. */
export function serials(sn: string | undefined, prefix = 'SIM', devices?: number): string[] {
  if (sn !== undefined) {
    if (devices !== undefined && devices !== 1) throw new CliError('--sn names one device; drop --devices or use --sn-prefix');
    if (!isValidSn(sn)) throw new CliError(`--sn ${sn} is not a valid serial number (1-32 of A-Z a-z 0-9 _ . : -)`);
    return [sn];
  }
  const n = devices ?? 1;
  const width = Math.max(4, String(n).length);
  const list = Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
  if (!isValidSn(list[list.length - 1])) throw new CliError(`--sn-prefix ${prefix} gives invalid serial numbers like ${list[0]}`);
  return list;
}

function credentials(secret?: string, password?: string, file?: string, envSecret?: string): Credentials {
  const given = [secret, password, file].filter((x) => x !== undefined).length;
  if (given > 1) throw new CliError('give only one of --factory-secret, --password, --credentials');
  if (secret !== undefined) return { kind: 'secret', secret };
  if (password !== undefined) return { kind: 'password', password };
  if (file !== undefined) return { kind: 'file', file };
  if (envSecret) return { kind: 'secret', secret: envSecret };
  throw new CliError('credentials needed: --factory-secret S (or MCS_FACTORY_SECRET), --password P or --credentials FILE');
}
