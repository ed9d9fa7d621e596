import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createBackups } from '../../appliance/archive/backup.ts';
import { restoreBackup } from '../../appliance/archive/restore.ts';
import { createS3 } from '../../appliance/archive/s3.ts';
import { runRestoreCommand } from '../../appliance/cli/archive.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { tempDir, testConfig } from '../helpers/appliance.ts';
import { s3ForSuite } from '../helpers/s3.ts';
import { fixture, JAN5, type Fixture } from './support.ts';

/** Every table's rows, for "identical database". */
function contents(db: Db): Record<string, unknown[]> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).raw(true).all()]));
}

class Sink {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe('backup and restore (ARC-4)', () => {
  const s3 = s3ForSuite();
  let f: Fixture;
  let target: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    f = await fixture(1);
    f.insert(['A', 'B'], JAN5, 500, 10_000);
    f.db.prepare("INSERT INTO system_config VALUES ('site', '{\"name\":\"plant 1\"}', 1)").run();
    target = tempDir();
  });
  afterEach(async () => {
    await f.close();
    target.remove();
  });

  const backups = (keep = 3) =>
    createBackups({ db: f.db, dataDir: f.dir, settings: f.settings, clock: f.clock, log: silentLogger(), keep, reportCondition: f.alarms.report });

  test('backup → restore into an empty data dir gives an identical database', async () => {
    const result = await backups().backupNow();
    assert.match(result.file, /^mcs-edge-\d{8}T\d{6}Z\.db\.gz$/);
    assert.equal(result.uploaded_key, null, 'no storage configured: kept locally only');
    const restored = await restoreBackup(join(f.dir, 'backups', result.file), target.dir);
    assert.equal(restored.previous, null);
    assert.equal(restored.readings, 1000);
    const copy = openDb(dbFileIn(target.dir), { readonly: true });
    try {
      assert.deepEqual(contents(copy), contents(f.db));
    } finally {
      copy.close();
    }
  });

  test('a truncated backup is refused with a clear message and nothing changes', async () => {
    const result = await backups().backupNow();
    const file = join(f.dir, 'backups', result.file);
    const truncated = join(target.dir, 'truncated.db.gz');
    const bytes = readFileSync(file);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(restoreBackup(truncated, target.dir), /truncated or corrupt.*nothing was changed/);
    assert.equal(existsSync(dbFileIn(target.dir)), false);
    // A complete gzip of a damaged database: the integrity check refuses it.
    const raw = join(target.dir, 'raw.db');
    await f.db.backup(raw);
    const damaged = readFileSync(raw);
    damaged.fill(0x5a, 4096 * 3, 4096 * 6);
    writeFileSync(join(target.dir, 'damaged.db.gz'), gzipSync(damaged));
    await assert.rejects(restoreBackup(join(target.dir, 'damaged.db.gz'), target.dir), /integrity check|not a usable database/);
    writeFileSync(join(target.dir, 'text.gz'), gzipSync('hello'));
    await assert.rejects(restoreBackup(join(target.dir, 'text.gz'), target.dir), /not an SQLite database/);
    assert.equal(existsSync(dbFileIn(target.dir)), false);
  });

  test('restore refuses while the database is open (the appliance runs), and keeps the replaced one aside', async () => {
    const result = await backups().backupNow();
    const file = join(f.dir, 'backups', result.file);
    const live = openDb(dbFileIn(target.dir));
    await assert.rejects(restoreBackup(file, target.dir), /in use: stop the appliance first/);
    live.close();
    const out = new Sink();
    const err = new Sink();
    const code = await runRestoreCommand([file], testConfig(target.dir), out as never, err as never);
    assert.equal(code, 0, err.text);
    assert.match(out.text, /integrity check ok/);
    assert.match(out.text, /kept as .*before-restore/);
    assert.equal(await runRestoreCommand([join(target.dir, 'missing.gz')], testConfig(target.dir), out as never, err as never), 1);
    assert.match(err.text, /no such file/);
  });

  test('only the last N backups are kept; with storage configured each is uploaded', async () => {
    f.settings.save(s3().settings());
    const b = backups(2);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      f.clock.advance(7 * 86_400_000);
      const r = await b.backupNow();
      assert.equal(r.upload_error, null);
      assert.equal(r.uploaded_key, `backups/${r.file}`);
      made.push(r.file);
    }
    assert.deepEqual((await b.list()).map((e) => e.file), [made[2], made[1]]);
    const head = await createS3(f.settings.current()).head(`backups/${made[2]}`);
    assert.equal(head?.bytes, (await b.list())[0].bytes);
  });

  test('an upload failure keeps the local backup, is logged and raises an alarm', async () => {
    f.settings.save(s3().settings({ bucket: 'no-such-bucket' }));
    const r = await backups().backupNow();
    assert.match(r.upload_error ?? '', /NoSuchBucket/);
    assert.equal((await backups().list()).length, 1);
    assert.equal(f.alarms.raised.length, 1);
  });
});
