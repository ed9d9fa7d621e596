// `mcs-edge devices …`: device administration without a UI, through the same service the API uses.
// Works while the appliance runs: it writes the shared SQLite file and the running broker picks
// the change up within a second (devices/cache.ts).
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { EXIT_USAGE, parseArgsProblem, usageLine } from './usage.ts';
import { AppError } from '../core/errors.ts';
import { systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { deviceUsername } from '../contract/topics.ts';
import { GAS_IDS } from '../contract/gas.ts';
import { createDeviceService, type Registration, type SetpointOverride } from '../devices/service.ts';
import { createAuditRepository } from '../storage/audit.ts';
import { dbFileIn, openDb } from '../storage/db.ts';
import { createDeviceRepository, type Device } from '../storage/devices.ts';
import { createPendingRepository } from '../storage/pending.ts';

const USAGE = `Usage: mcs-edge devices <command> [options]

  list [--json] [--search TEXT]        registered devices
  show <sn>                            one device (JSON)
  add <sn> [settings] [--factory | --password P] [--kind detector|output]
                                       register; prints the MQTT credentials once
                                       (--kind output: an output module / relay box — no gas, no setpoint)
  update <sn> [settings]               change settings
  reset-password <sn>                  new generated password, printed once
  remove <sn>                          unregister (its stored readings stay)
  pending                              unknown serials that tried to send data (ING-3)
  adopt <sn> [settings]                register a pending serial (keeps its factory password)

Settings: --name --location --gas GAS --unit UNIT --k --b --t-ref --t-comp --range-max
          --high VALUE|none (level 1) --high2 VALUE|none (level 2) --low VALUE|none --enable --disable
          --override-reason TEXT  accept setpoints outside the standard's bounds (written to the audit log)

Gases (ALM-9): ${GAS_IDS.join(', ')}; units: ppm, %LEL, %VOL, mg/m3 (the ones the gas allows).
A new device needs a setpoint (--high or --low); setpoints are checked against GB/T 50493-2019:
combustible level 1 <= 25 %LEL, level 2 <= 50 %LEL; toxic level 1 <= 100 %OEL, level 2 <= 200 %OEL;
oxygen low >= 19.5 %VOL, high <= 23.5 %VOL. An output module (--kind output) takes
only --name, --location, --enable/--disable: it measures no gas.`;

const OPTIONS = {
  json: { type: 'boolean' },
  search: { type: 'string' },
  kind: { type: 'string' },
  factory: { type: 'boolean' },
  password: { type: 'string' },
  name: { type: 'string' },
  location: { type: 'string' },
  gas: { type: 'string' },
  unit: { type: 'string' },
  k: { type: 'string' },
  b: { type: 'string' },
  't-ref': { type: 'string' },
  't-comp': { type: 'string' },
  'range-max': { type: 'string' },
  high: { type: 'string' },
  high2: { type: 'string' },
  low: { type: 'string' },
  'override-reason': { type: 'string' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Turns flags into a settings object; numbers are parsed here and range-checked by the service. */
function settingsFrom(values: Values): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const number = (flag: string, text: string) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new AppError('DEVICE_INVALID', { flag }, `--${flag}: '${text}' is not a number`);
    return n;
  };
  const limit = (flag: string, text: string | undefined) =>
    text === undefined ? undefined : text === 'none' ? null : number(flag, text);
  for (const key of ['name', 'location', 'gas', 'unit'] as const) if (values[key] !== undefined) settings[key] = values[key];
  const calib: Record<string, number> = {};
  if (values.k !== undefined) calib.k = number('k', values.k);
  if (values.b !== undefined) calib.b = number('b', values.b);
  if (values['t-ref'] !== undefined) calib.t_ref = number('t-ref', values['t-ref']);
  if (values['t-comp'] !== undefined) calib.t_comp = number('t-comp', values['t-comp']);
  if (Object.keys(calib).length) settings.calib = calib;
  if (values['range-max'] !== undefined) settings.range_max = number('range-max', values['range-max']);
  const high = limit('high', values.high);
  const high2 = limit('high2', values.high2);
  const low = limit('low', values.low);
  if (high !== undefined) settings.high_limit = high;
  if (high2 !== undefined) settings.high2_limit = high2;
  if (low !== undefined) settings.low_limit = low;
  if (values.enable) settings.enabled = true;
  if (values.disable) settings.enabled = false;
  if (values['override-reason'] !== undefined) settings.setpoint_override_reason = values['override-reason'];
  return settings;
}

function describe(device: Device): string {
  if (device.kind === 'output') {
    return `${device.sn}\t${device.enabled ? device.status : 'disabled'}\t${device.name || '-'}\t${device.location || '-'}\toutput module (no gas, no setpoint)`;
  }
  const limits = `${device.gas}: high ${device.high_limit ?? '-'} / high2 ${device.high2_limit ?? '-'} / low ${device.low_limit ?? '-'} ${device.unit}`;
  const calib = `k=${device.calib.k} b=${device.calib.b} t_ref=${device.calib.t_ref} t_comp=${device.calib.t_comp}`;
  return `${device.sn}\t${device.enabled ? device.status : 'disabled'}\t${device.name || '-'}\t${device.location || '-'}\t${calib}\t${limits}`;
}

function printRegistration({ device, password }: Registration, out: (line: string) => void) {
  out(`registered ${device.kind === 'output' ? 'output module ' : ''}${device.sn} (${device.name || 'no name'})`);
  out(`  MQTT username: ${deviceUsername(device.sn)}`);
  if (password) out(`  MQTT password: ${password}   <- shown once; store it in the detector now`);
  else out('  MQTT password: the factory-derived password (DEV-5)');
}

/** `--b -10` reads as a value, not a flag: joins a value option with a following negative number. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const option = OPTIONS[name as keyof typeof OPTIONS];
    if (option?.type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export async function runDevicesCommand(argv: string[], config: Config, out = (line: string) => console.log(line)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(usageLine('devices', parseArgsProblem(err)));
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const [command, sn] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return values.help ? 0 : 64;
  }
  const db = openDb(dbFileIn(config.data_dir));
  try {
    const service = createDeviceService({
      devices: createDeviceRepository(db), pending: createPendingRepository(db), clock: systemClock,
    });
    const audit = createAuditRepository(db);
    /** ALM-9: an override from the command line is audited like one through the API, by the OS user. */
    const auditOverride = (device: Device, override: SetpointOverride | null | undefined) => {
      if (!override) return;
      const setpoints = { gas: device.gas, unit: device.unit, high_limit: device.high_limit, high2_limit: device.high2_limit, low_limit: device.low_limit };
      audit.record({
        at: systemClock.now(), username: `cli:${userInfo().username}`, ip: null, action: 'device.setpoint_override', target: device.sn,
        after: { reason: override.reason, overridden: override.problems, setpoints },
      });
      out(`setpoint override recorded in the audit log: ${override.problems.map((p) => p.en).join('; ')}`);
    };
    const needSn = () => {
      if (!sn) throw new AppError('DEVICE_INVALID', null, `'${command}' needs a serial number`);
      return sn;
    };
    switch (command) {
      case 'list': {
        const { items, total } = service.list({ search: values.search });
        if (values.json) out(JSON.stringify(items.map(({ password_hash: _, ...d }) => d), null, 2));
        else {
          for (const device of items) out(describe(device));
          out(`${total} device${total === 1 ? '' : 's'}`);
        }
        return 0;
      }
      case 'show': {
        const { password_hash: _, ...device } = service.get(needSn());
        out(JSON.stringify(device, null, 2));
        return 0;
      }
      case 'add': {
        const credentials = values.factory ? 'factory' : 'generate';
        const input = { sn: needSn(), ...(values.kind !== undefined ? { kind: values.kind } : {}), ...settingsFrom(values), credentials, ...(values.password ? { password: values.password } : {}) };
        const registration = await service.add(input);
        printRegistration(registration, out);
        auditOverride(registration.device, registration.override);
        return 0;
      }
      case 'adopt': {
        const registration = await service.adopt({ sn: needSn(), ...(values.kind !== undefined ? { kind: values.kind } : {}), ...settingsFrom(values) });
        printRegistration(registration, out);
        auditOverride(registration.device, registration.override);
        return 0;
      }
      case 'update': {
        const { device, override } = service.update(needSn(), settingsFrom(values));
        out(describe(device));
        auditOverride(device, override);
        return 0;
      }
      case 'reset-password':
        printRegistration(service.resetPassword(needSn()), out);
        return 0;
      case 'remove':
        service.remove(needSn());
        out(`removed ${sn}; its stored readings are kept`);
        return 0;
      case 'pending':
        for (const p of service.pending()) {
          out(`${p.sn}\tfirst ${new Date(p.first_seen).toISOString()}\tlast ${new Date(p.last_seen).toISOString()}\t${p.messages} msgs`);
        }
        return 0;
      default:
        process.stderr.write(`mcs-edge devices: unknown command '${command}'\n${USAGE}\n`);
        return 64;
    }
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`mcs-edge devices: ${err.message} (code ${err.code})\n`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}
