// ALM-7 statistics and CSV export on a real SQLite file, alarms written through the repository.
// OPS-5: stored UTC; days and shown times in the site timezone (Asia/Shanghai, Europe/Berlin with DST).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alarmStats, alarmsCsv } from '../../appliance/api/alarm-queries.ts';
import { csvField } from '../../appliance/core/csv.ts';
import type { AlarmRecord } from '../../appliance/contract/alarm.ts';
import { createAlarmRepository, createAlarmWriteRepository, type AlarmRepository, type AlarmWriteRepository, type NewAlarm } from '../../appliance/storage/alarms.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { tempDir } from '../helpers/appliance.ts';

const HOUR = 3_600_000;
const SHANGHAI = 'Asia/Shanghai';
const BERLIN = 'Europe/Berlin';

let temp: ReturnType<typeof tempDir>;
let db: Db;
let repo: AlarmRepository;
let writes: AlarmWriteRepository;

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  repo = createAlarmRepository(db);
  writes = createAlarmWriteRepository(db);
});
afterEach(() => {
  db.close();
  temp.remove();
});

function raise(type: string, at: number, extra: Partial<NewAlarm> = {}) {
  // One active record per source and type (alarms_one_active): the source follows the serial.
  return writes.insert({ sn: 'GAS-1', source: extra.sn ?? 'GAS-1', type, value: 1200, threshold: 1000, detail: null, at, ...extra });
}

/** A strict RFC 4180 parser: CRLF records, quoted fields with doubled quotes; a bare CR/LF outside quotes is an error. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const field = (): string => {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') (value += '"'), (i += 2);
          else return i++, value;
        } else value += text[i++];
      }
    }
    const start = i;
    while (i < text.length && !',\r\n'.includes(text[i])) {
      if (text[i] === '"') throw new Error(`quote inside unquoted field at ${i}`);
      i++;
    }
    return text.slice(start, i);
  };
  while (i < text.length) {
    row.push(field());
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) (rows.push(row), (row = []), (i += 2));
    else throw new Error(`expected , or CRLF at ${i}, got ${JSON.stringify(text.slice(i, i + 5))}`);
  }
  if (row.length) throw new Error('last record not terminated by CRLF');
  return rows;
}

function csvText(language: 'zh-CN' | 'en', timezone: string, chunkSize?: number): { chunks: string[]; text: string } {
  const chunks = [...alarmsCsv(repo.iterate(), { language, timezone, chunkSize })];
  return { chunks, text: chunks.join('') };
}

describe('alarm statistics by type and site day (ALM-7, OPS-5)', () => {
  test('counts by type, by Shanghai day with empty days present, and active / unacknowledged', () => {
    // Site days Jan 1 .. Jan 4 in Shanghai (UTC+8): [Dec 31 16:00 UTC, Jan 4 16:00 UTC).
    const from = Date.UTC(2025, 11, 31, 16);
    const to = Date.UTC(2026, 0, 4, 16);
    raise('HIGH', from - 1, { sn: 'GAS-0' }); // Dec 31 23:59:59.999 local: before the range
    const first = raise('HIGH', from); // Jan 1 00:00 local
    raise('LOW_BAT', Date.UTC(2026, 0, 1, 15, 59)); // Jan 1 23:59 local
    raise('HIGH', Date.UTC(2026, 0, 1, 16), { sn: 'GAS-2' }); // Jan 2 00:00 local
    const late = raise('HIGH', Date.UTC(2026, 0, 1, 23, 30), { sn: 'GAS-3' }); // 23:30 UTC Jan 1 is Jan 2 in Shanghai
    raise('OFFLINE', Date.UTC(2026, 0, 4, 15, 59), { sn: 'GAS-4' }); // Jan 4 23:59 local
    raise('HIGH', to, { sn: 'GAS-5' }); // Jan 5 local: after the range
    writes.peak(first.id, 1300, from + HOUR);
    writes.clear(first.id, from + HOUR);
    repo.acknowledge([first.id, late.id], 'operator', 'checked', from + 2 * HOUR);

    const stats = alarmStats(repo, { from, to, timezone: SHANGHAI });
    assert.deepEqual(stats.byType, [{ type: 'HIGH', count: 3 }, { type: 'LOW_BAT', count: 1 }, { type: 'OFFLINE', count: 1 }]);
    assert.deepEqual(stats.byDay, [
      { day: '2026-01-01', count: 2, byType: { HIGH: 1, LOW_BAT: 1, OFFLINE: 0 } },
      { day: '2026-01-02', count: 2, byType: { HIGH: 2, LOW_BAT: 0, OFFLINE: 0 } },
      { day: '2026-01-03', count: 0, byType: { HIGH: 0, LOW_BAT: 0, OFFLINE: 0 } },
      { day: '2026-01-04', count: 1, byType: { HIGH: 0, LOW_BAT: 0, OFFLINE: 1 } },
    ]);
    assert.deepEqual([stats.total, stats.active, stats.unacknowledged], [5, 4, 3]);
  });

  test('the same instants fall on other days in Berlin; a range not on day boundaries covers each day it touches', () => {
    raise('HIGH', Date.UTC(2026, 0, 1, 23, 30)); // Jan 2 00:30 CET
    raise('LOW', Date.UTC(2026, 0, 1, 22, 59), { sn: 'GAS-2' }); // Jan 1 23:59 CET
    const stats = alarmStats(repo, { from: Date.UTC(2026, 0, 1, 12), to: Date.UTC(2026, 0, 3, 12), timezone: BERLIN });
    assert.deepEqual(stats.byDay.map((d) => [d.day, d.count]), [['2026-01-01', 1], ['2026-01-02', 1], ['2026-01-03', 0]]);
    const shanghai = alarmStats(repo, { from: Date.UTC(2026, 0, 1, 12), to: Date.UTC(2026, 0, 3, 12), timezone: SHANGHAI });
    assert.deepEqual(shanghai.byDay.map((d) => [d.day, d.count]), [['2026-01-01', 0], ['2026-01-02', 2], ['2026-01-03', 0]]);
  });

  test('Berlin DST days: the 23-hour spring day and the 25-hour autumn day bucket by local wall-clock date', () => {
    // Spring forward: 2026-03-29 02:00 CET → 03:00 CEST. Local day Mar 29 = [Mar 28 23:00, Mar 29 22:00) UTC.
    raise('HIGH', Date.UTC(2026, 2, 28, 22, 30)); // Mar 28 23:30 CET
    raise('HIGH', Date.UTC(2026, 2, 28, 23, 30), { sn: 'GAS-2' }); // Mar 29 00:30 CET
    raise('HIGH', Date.UTC(2026, 2, 29, 21, 30), { sn: 'GAS-3' }); // Mar 29 23:30 CEST
    raise('HIGH', Date.UTC(2026, 2, 29, 22, 30), { sn: 'GAS-4' }); // Mar 30 00:30 CEST (a fixed +1 would say Mar 29)
    const spring = alarmStats(repo, { from: Date.UTC(2026, 2, 27, 23), to: Date.UTC(2026, 2, 30, 22), timezone: BERLIN });
    assert.deepEqual(spring.byDay.map((d) => [d.day, d.count]), [['2026-03-28', 1], ['2026-03-29', 2], ['2026-03-30', 1]]);

    // Fall back: 2026-10-25 03:00 CEST → 02:00 CET. Local day Oct 25 = [Oct 24 22:00, Oct 25 23:00) UTC.
    raise('LOW', Date.UTC(2026, 9, 24, 21, 30)); // Oct 24 23:30 CEST
    raise('LOW', Date.UTC(2026, 9, 24, 22, 30), { sn: 'GAS-2' }); // Oct 25 00:30 CEST
    raise('LOW', Date.UTC(2026, 9, 25, 22, 30), { sn: 'GAS-3' }); // Oct 25 23:30 CET (a fixed +2 would say Oct 26)
    raise('LOW', Date.UTC(2026, 9, 25, 23, 30), { sn: 'GAS-4' }); // Oct 26 00:30 CET
    const autumn = alarmStats(repo, { from: Date.UTC(2026, 9, 23, 22), to: Date.UTC(2026, 9, 26, 23), timezone: BERLIN });
    assert.deepEqual(autumn.byDay.map((d) => [d.day, d.count]), [['2026-10-24', 1], ['2026-10-25', 2], ['2026-10-26', 1]]);
    assert.deepEqual(autumn.byType, [{ type: 'LOW', count: 4 }]);
  });

  test('an empty range still lists every day with zero counts; an inverted range lists none', () => {
    const stats = alarmStats(repo, { from: Date.UTC(2026, 1, 27, 16), to: Date.UTC(2026, 2, 2, 16), timezone: SHANGHAI });
    assert.deepEqual(stats.byDay, [
      { day: '2026-02-28', count: 0, byType: {} },
      { day: '2026-03-01', count: 0, byType: {} },
      { day: '2026-03-02', count: 0, byType: {} },
    ]);
    assert.deepEqual([stats.byType, stats.total, stats.active, stats.unacknowledged], [[], 0, 0, 0]);
    assert.deepEqual(alarmStats(repo, { from: 10, to: 10, timezone: SHANGHAI }).byDay, []);
  });
});

describe('alarm CSV export (ALM-7)', () => {
  const detail = '探头故障, 读数 "异常"\r\n第二行';
  const comment = 'checked valve, said "ok"\nwill recheck';

  function seed() {
    const a = raise('HIGH', Date.UTC(2026, 0, 1, 23, 30), { sn: '燃气-1号', source: '燃气-1号', detail, value: 1234.5, threshold: 1000, level: 2, priority: 'critical' });
    writes.peak(a.id, 1500.25, Date.UTC(2026, 0, 2, 0, 15));
    writes.clear(a.id, Date.UTC(2026, 0, 2, 0, 15));
    repo.acknowledge([a.id], '@admin', comment, Date.UTC(2026, 0, 2, 1));
    raise('LOW', Date.UTC(2026, 0, 2, 8), { sn: 'GAS-2', source: 'GAS-2', detail: '=HYPERLINK("http://x","y")', value: -5, threshold: -2 });
    raise('DISK', Date.UTC(2026, 0, 2, 9), { sn: null, source: 'disk', detail: '-12.5', value: null, threshold: null });
    raise('FAULT', Date.UTC(2026, 0, 2, 10), { sn: '+86-GAS', source: '+86-GAS', detail: '-1+1', value: 7, threshold: null });
  }

  test('starts with a BOM, uses CRLF, localizes the header, and round-trips Chinese text, commas, quotes and newlines', () => {
    seed();
    const zh = csvText('zh-CN', SHANGHAI).text;
    assert.ok(zh.startsWith('\uFEFF编号,设备序列号,类型,状态,'));
    const rows = parseCsv(zh.slice(1));
    assert.deepEqual(rows[0], ['编号', '设备序列号', '类型', '状态', '数值', '阈值', '峰值', '详情', '触发时间', '恢复时间', '重复次数', '确认人', '确认时间', '备注', '单位', '级别', '优先级']);
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[1], [
      '1', '燃气-1号', '浓度高报', '已恢复', '1234.5', '1000', '1500.25', detail,
      '2026-01-02 07:30:00 UTC+8', '2026-01-02 08:15:00 UTC+8', '0', "'@admin", '2026-01-02 09:00:00 UTC+8', comment, '', '二级', '紧急',
    ]);

    const en = csvText('en', BERLIN).text;
    assert.ok(en.startsWith('\uFEFFID,Device SN,Type,State,'));
    const enRows = parseCsv(en.slice(1));
    assert.deepEqual(enRows[0], [
      'ID', 'Device SN', 'Type', 'State', 'Value', 'Threshold', 'Peak', 'Detail',
      'Triggered', 'Cleared', 'Repeats', 'Acknowledged by', 'Acknowledged at', 'Comment', 'Unit', 'Level', 'Priority',
    ]);
    assert.deepEqual(enRows[1].slice(15), ['Level 2', 'critical']);
    assert.deepEqual(enRows[2].slice(15), ['', 'low'], 'no level outside HIGH');
    assert.deepEqual(enRows[1].slice(2, 4), ['High gas concentration', 'cleared']);
    assert.deepEqual(enRows[1].slice(7, 10), [detail, '2026-01-02 00:30:00 UTC+1', '2026-01-02 01:15:00 UTC+1']);
    assert.equal(enRows[1][13], comment);
  });

  test('guards text that a spreadsheet would run as a formula, leaves numbers alone, and leaves nulls empty', () => {
    seed();
    const rows = parseCsv(csvText('en', SHANGHAI).text.slice(1));
    const [, , low, disk, fault] = rows;
    assert.equal(low[7], `'=HYPERLINK("http://x","y")`);
    assert.deepEqual([low[4], low[5], low[6]], ['-5', '-2', '-5']);
    assert.deepEqual([low[3], low[9], low[11], low[12], low[13]], ['active', '', '', '', '']);
    assert.deepEqual([disk[1], disk[2], disk[4], disk[5], disk[6], disk[7]], ['disk', 'Disk space low', '', '', '', '-12.5']);
    assert.deepEqual([fault[1], fault[7]], ["'+86-GAS", "'-1+1"]);
    assert.deepEqual(
      ['=1+1', '+1', '-5', '-0.5e3', '@SUM(A1)', '\tcmd', '-', 'a=b', ''].map(csvField),
      ["'=1+1", '+1', '-5', '-0.5e3', "'@SUM(A1)", "'\tcmd", "'-", 'a=b', ''],
    );
  });

  test('a last column says what value, threshold and peak are in: the gas unit only for concentrations', () => {
    const record = (id: number, type: string, fields: Partial<AlarmRecord> = {}): AlarmRecord => ({
      id, sn: 'GAS-1', source: 'GAS-1', type, state: 'active', level: null, priority: 'low', latched: 0, value: null, threshold: null, peak: null, detail: null,
      triggered_at: Date.UTC(2026, 0, 2), cleared_at: null, repeat_count: 0, notified_at: null, ack_at: null, ack_by: null, ack_comment: null,
      updated_at: Date.UTC(2026, 0, 2), ...fields,
    });
    const records = [
      record(1, 'HIGH', { value: 1500, threshold: 1000, peak: 1800 }),
      record(2, 'LOW_BAT', { value: 9, threshold: 20, peak: 8 }),
      record(3, 'FAULT', { value: 50, peak: 50, detail: 'err 50: calibration lost' }),
      record(4, 'FAULT', { value: 50000, peak: 50000, detail: 'over range (sensor saturated)' }),
      record(5, 'OFFLINE'),
      record(6, 'DISK', { sn: null, source: 'disk', value: 812, peak: 812, detail: 'free space 812 MB is below 1024 MB' }),
    ];
    const unitOf = (sn: string) => (sn === 'GAS-1' ? '% LEL' : undefined);
    const columns = (language: 'zh-CN' | 'en') =>
      parseCsv([...alarmsCsv(records, { language, timezone: SHANGHAI, unitOf })].join('').slice(1)).map((r) => [r[2], r[4], r[5], r[6], r[14]]);
    assert.deepEqual(columns('en'), [
      ['Type', 'Value', 'Threshold', 'Peak', 'Unit'],
      ['High gas concentration', '1500', '1000', '1800', '% LEL'],
      ['Low battery', '9', '20', '8', '%'],
      ['Device fault', '50', '', '50', 'error code'],
      ['Device fault', '50000', '', '50000', '% LEL'],
      ['Device offline', '', '', '', ''],
      ['Disk space low', '812', '', '812', 'MB'],
    ]);
    assert.deepEqual(columns('zh-CN').map((r) => r[4]), ['单位', '% LEL', '%', '故障码', '% LEL', '', 'MB']);
  });

  test('yields in chunks, BOM and header first, with only the header when there are no records', () => {
    for (let i = 0; i < 200; i++) raise('HIGH', Date.UTC(2026, 0, 1) + i * HOUR, { sn: `GAS-${i}`, source: `GAS-${i}` });
    const { chunks, text } = csvText('en', SHANGHAI, 2048);
    assert.ok(chunks.length > 5, `${chunks.length} chunks`);
    assert.ok(chunks[0].startsWith('\uFEFFID,'));
    assert.ok(chunks.slice(1).every((c) => !c.includes('\uFEFF')));
    const rows = parseCsv(text.slice(1));
    assert.equal(rows.length, 201);
    assert.deepEqual(rows.slice(1).map((r) => r[0]), Array.from({ length: 200 }, (_, i) => String(i + 1)));

    const empty = [...alarmsCsv([], { language: 'zh-CN', timezone: SHANGHAI })];
    assert.equal(empty.length, 1);
    assert.equal(parseCsv(empty[0].slice(1)).length, 1);
  });
});
