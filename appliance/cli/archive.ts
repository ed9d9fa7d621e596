// `mcs-edge backup` and `mcs-edge restore <file>` (ARC-4). A backup works while the appliance runs
// (SQLite online backup); a restore refuses while anything has the database open.
import { parseArgs } from 'node:util';
import { EXIT_USAGE, parseArgsProblem, usageLine } from './usage.ts';
import { createBackups } from '../archive/backup.ts';
import { restoreBackup, RestoreError } from '../archive/restore.ts';
import { createStorageSettings } from '../archive/settings.ts';
import { systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createSecretBox } from '../core/secrets.ts';
import { createConfigRepository } from '../storage/config.ts';
import { dbFileIn, openDb } from '../storage/db.ts';

export const RESTORE_USAGE = `Usage: mcs-edge restore <backup file>

Replaces the database in the data dir with a backup (mcs-edge-*.db.gz from data_dir/backups or the
bucket's backups/, or a plain .db file). Stop the appliance first (systemctl stop mcs-edge): the
restore refuses while the database is open. The file is checked (complete gzip, SQLite header,
PRAGMA integrity_check) before anything changes; the replaced database is kept as
mcs-edge.db.before-restore-<time>. secret.key is not part of a backup: keep the original one in the
data dir, or re-enter the channel and storage secrets after the restore.`;

export async function runRestoreCommand(args: string[], config: Config, out = process.stdout, err = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    err.write(usageLine('restore', parseArgsProblem(e)));
    return EXIT_USAGE;
  }
  const { positionals, values } = parsed;
  if (values.help || positionals.length !== 1) {
    (values.help ? out : err).write(`${RESTORE_USAGE}\n`);
    return values.help ? 0 : 64;
  }
  try {
    const result = await restoreBackup(positionals[0], config.data_dir);
    out.write(
      `restored ${positionals[0]} into ${result.database} (schema ${result.schemaVersion}, ${result.devices} devices, ` +
        `${result.readings} readings; integrity check ok)\n` +
        (result.previous ? `the replaced database was kept as ${result.previous}\n` : ''),
    );
    return 0;
  } catch (e) {
    if (!(e instanceof RestoreError)) throw e;
    err.write(`mcs-edge restore: ${e.message}\n`);
    return 1;
  }
}

export async function runBackupCommand(args: string[], config: Config, out = process.stdout, err = process.stderr): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out.write('Usage: mcs-edge backup\n\nWrites a consistent backup to data_dir/backups (and the bucket when storage is configured); safe while the appliance runs.\n');
    return 0;
  }
  if (args.length) {
    err.write(usageLine('backup', `takes no arguments, got '${args[0]}'`));
    return EXIT_USAGE;
  }
  const db = openDb(dbFileIn(config.data_dir));
  try {
    const settings = createStorageSettings({ config: createConfigRepository(db), box: createSecretBox(config.data_dir), clock: systemClock });
    const backups = createBackups({
      db, dataDir: config.data_dir, settings, clock: systemClock, log: await createLogger({ level: 'warn' }), keep: config.archive.backups_keep,
    });
    const result = await backups.backupNow();
    out.write(`backup written: ${backups.dir}/${result.file} (${result.bytes} bytes)${result.uploaded_key ? `, uploaded as ${result.uploaded_key}` : ''}\n`);
    if (result.upload_error) err.write(`upload failed (kept locally): ${result.upload_error}\n`);
    return result.upload_error ? 1 : 0;
  } finally {
    db.close();
  }
}
