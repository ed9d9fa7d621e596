// `mcs-edge alarms …`: alarm records and notification settings without a UI (until the API and
// admin pages land, and for scripts after). Works beside the running appliance on the same file.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT_USAGE, parseArgsProblem, usageLine } from './usage.ts';
import type { Config } from '../core/config.ts';
import { alarmValueText } from '../contract/alarm-value.ts';
import { systemClock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { createSecretBox } from '../core/secrets.ts';
import { createAlarmSettings } from '../notify/alarm-settings.ts';
import { isChannelKind, testSend } from '../notify/channels/index.ts';
import { createAlarmRepository } from '../storage/alarms.ts';
import { createConfigRepository } from '../storage/config.ts';
import { createDeviceRepository } from '../storage/devices.ts';
import { dbFileIn, openDb } from '../storage/db.ts';

const USAGE = `Usage: mcs-edge alarms <command> [options]

  list [--active] [--json] [--limit N]   alarm records, newest first
  ack <id> [<id> ...] --by NAME [--comment TEXT]
                                         acknowledge (a comment is required for the priorities
                                         set so in ack_comment_required; default: critical)
  settings show                          notification settings (secrets shown as ******)
  settings set <file.json>               replace them (validated; secrets sealed; ****** keeps a stored secret)
  test <email|dingtalk|feishu|wecom|webhook|sms|voice>
                                         send a test message through a configured channel`;

export async function runAlarmsCommand(argv: string[], config: Config, out = (line: string) => console.log(line)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        active: { type: 'boolean' }, json: { type: 'boolean' }, limit: { type: 'string' },
        by: { type: 'string' }, comment: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(usageLine('alarms', parseArgsProblem(err)));
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return values.help ? 0 : 64;
  }
  const db = openDb(dbFileIn(config.data_dir));
  try {
    const alarms = createAlarmRepository(db);
    const settings = createAlarmSettings({ config: createConfigRepository(db), box: createSecretBox(config.data_dir), clock: systemClock });
    switch (`${command} ${rest[0] ?? ''}`.trim()) {
      case 'list': {
        const { items, total } = alarms.list({ state: values.active ? 'active' : undefined, limit: Number(values.limit ?? 50) });
        if (values.json) out(JSON.stringify(items, null, 2));
        else {
          const devices = createDeviceRepository(db);
          for (const a of items) {
            const ack = a.ack_at ? `acked by ${a.ack_by}` : 'unacknowledged';
            const value = alarmValueText(a, a.value, { language: 'en', unit: (a.sn && devices.get(a.sn)?.unit) || '' });
            out(`#${a.id}\t${new Date(a.triggered_at).toISOString()}\t${a.source}\t${a.type}\t${a.state}\t${value}\t${ack}\trepeats ${a.repeat_count}`);
          }
          out(`${items.length} of ${total} alarm${total === 1 ? '' : 's'}`);
        }
        return 0;
      }
      case 'settings show':
        out(JSON.stringify(settings.redacted(), null, 2));
        return 0;
      case 'settings set': {
        if (!rest[1]) throw new AppError('ALARM_CONFIG_INVALID', null, "'settings set' needs a JSON file");
        let input: unknown;
        try {
          input = JSON.parse(readFileSync(rest[1], 'utf8'));
        } catch (err) {
          throw new AppError('ALARM_CONFIG_INVALID', null, `${rest[1]}: ${(err as Error).message}`);
        }
        settings.save(input);
        out(`saved; channels on: ${settings.enabledChannels().join(', ') || 'none'}`);
        return 0;
      }
      default:
        break;
    }
    if (command === 'ack') {
      const ids = rest.map(Number);
      if (!ids.length || ids.some((id) => !Number.isInteger(id)) || !values.by) {
        throw new AppError('ALARM_CONFIG_INVALID', null, "'ack' needs alarm ids and --by NAME");
      }
      // ALM-11: as the API, refused without a comment when an alarm's priority needs one.
      settings.requireAckComment(ids.flatMap((id) => alarms.get(id) ?? []), values.comment);
      const changed = alarms.acknowledge(ids, values.by, values.comment ?? '', Date.now());
      out(`acknowledged ${changed.length} of ${ids.length}`);
      return 0;
    }
    if (command === 'test') {
      const kind = rest[0];
      const entry = isChannelKind(kind) ? settings.current().channels[kind] : undefined;
      if (!isChannelKind(kind) || !entry) throw new AppError('ALARM_CONFIG_INVALID', null, `no '${kind ?? ''}' channel configured`);
      const result = await testSend(kind, entry.settings, { language: config.site.language, timezone: config.site.timezone });
      out(`sent: ${result.detail}`);
      return 0;
    }
    process.stderr.write(`mcs-edge alarms: unknown command '${positionals.join(' ')}'\n${USAGE}\n`);
    return 64;
  } catch (err) {
    if (err instanceof AppError) {
      const detail = Array.isArray(err.detail) ? `\n  ${err.detail.join('\n  ')}` : '';
      process.stderr.write(`mcs-edge alarms: ${err.message} (code ${err.code})${detail}\n`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}
