// ALM-12 through the API: an episode's journal as CSV (GET /api/alarms/{id}/journal.csv) and the
// journals of the matching records (GET /api/alarms/export?journal=true) — a detector over real
// MQTT, the writer's transaction, real SQLite, real HTTP for the download. Excel-friendly (BOM,
// CRLF), headers and labels in the site language (or ?language=), times in the site timezone, and
// what a user typed (a comment, a location) never runs as a formula.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { journalEventLabel } from '../../appliance/contract/alarm-labels.ts';
import { formatSiteTime } from '../../appliance/contract/site-format.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, publishReading } from '../helpers/appliance.ts';

const SN = 'JCSV-1';
const TZ = 'Asia/Shanghai';
const COMMENT = '=HYPERLINK("http://evil.example","fixed")';
const LOCATION = '=1号车间, east wall';

/** A strict RFC 4180 parser: CRLF records, quoted fields with doubled quotes; a bare CR or LF outside quotes is an error. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    if (text[i] === '"') {
      for (i++; ; ) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"' && text[i + 1] === '"') (value += '"'), (i += 2);
        else if (text[i] === '"') break;
        else value += text[i++];
      }
      i++;
    } else {
      while (i < text.length && !/[,\r\n]/.test(text[i])) value += text[i++];
    }
    row.push(value);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) (rows.push(row), (row = []), (i += 2));
    else throw new Error(`expected , or CRLF at ${i}: ${JSON.stringify(text.slice(i, i + 5))}`);
  }
  if (row.length) throw new Error('last record not terminated by CRLF');
  return rows;
}

let api: ApiApp;
let alarmId: number;
// Connected until the end: a disconnect would add an OFFLINE record for the serial.
let client: Awaited<ReturnType<typeof connectDevice>>;
let journal: { at: string; kind: string; level: number | null; actor: string | null }[];

before(async () => {
  api = await startApi({ site: { timezone: TZ, language: 'zh-CN' } });
  const created = await api.call('POST', '/api/devices', {
    token: api.tokens.admin,
    body: { sn: SN, name: 'Boiler room', location: LOCATION, high_limit: 1000, high2_limit: 2000, calib: { k: 1, b: 0 } },
  });
  assert.equal(created.status, 201, created.text);
  client = await connectDevice(api.url, SN, created.body.password);
  const ts = Math.floor(api.clock.now() / 1000);
  for (const [i, ppm] of [1500, 2500, 900].entries()) await publishReading(client, SN, { seq: i + 1, ts: ts + i, v_raw: ppm });
  const list = await api.call('GET', `/api/alarms?sn=${SN}`, { token: api.tokens.viewer });
  assert.equal(list.body.total, 1);
  alarmId = list.body.data[0].id;
  assert.deepEqual([list.body.data[0].level, list.body.data[0].priority], [2, 'critical'], 'cleared from level 2: it stays at level 2');
  assert.equal((await api.call('POST', '/api/alarms/silence', { token: api.tokens.viewer, body: { kiosk: 'control room' } })).status, 200);
  const acked = await api.call('POST', `/api/alarms/${alarmId}/ack`, { token: api.tokens.operator, body: { comment: COMMENT } });
  assert.equal(acked.status, 200, acked.text);
  journal = (await api.call('GET', `/api/alarms/${alarmId}/journal`, { token: api.tokens.viewer })).body.data;
  assert.deepEqual(journal.map((e) => e.kind), ['raised', 'level', 'peak', 'cleared', 'silenced', 'acknowledged']);
});
after(async () => {
  await client.endAsync();
  await api.stop();
});

describe('the alarm journal as CSV (ALM-12)', () => {
  test('GET /api/alarms/{id}/journal.csv over HTTP: BOM, CRLF, Chinese headers and labels, one line per event at site-local times', async () => {
    const response = await fetch(`http://127.0.0.1:${api.app.summary().http}/api/alarms/${alarmId}/journal.csv`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    assert.equal(response.headers.get('content-disposition'), `attachment; filename="alarm-${alarmId}_journal.csv"`);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 BOM, so Excel reads the Chinese');
    const rows = parseCsv(bytes.toString('utf8').slice(1));
    assert.deepEqual(rows[0], ['报警编号', '设备序列号', '设备名称', '位置', '类型', '优先级', '时间', '事件', '级别', '数值', '单位', '操作人/渠道', '详情']);
    assert.equal(rows.length, journal.length + 1);
    rows.slice(1).forEach((row, i) => {
      const entry = journal[i];
      assert.deepEqual(row.slice(0, 6), [String(alarmId), SN, 'Boiler room', `'${LOCATION}`, '浓度高报', '紧急']);
      assert.equal(row[6], formatSiteTime(Date.parse(entry.at), TZ));
      assert.match(row[6], / UTC\+8$/);
      assert.equal(row[7], journalEventLabel(entry.kind, 'zh-CN'));
      assert.equal(row[8], entry.level === 2 ? '二级' : entry.level === 1 ? '一级' : '');
    });
    const byEvent = Object.fromEntries(rows.slice(1).map((row) => [row[7], row]));
    assert.deepEqual([byEvent['报警'][9], byEvent['报警'][10]], ['1500', 'ppm'], 'the raised value in the gas unit');
    assert.equal(byEvent['新峰值'][9], '2500');
    assert.equal(byEvent['消音'][11], 'control room (viewer)');
    assert.deepEqual([byEvent['确认'][11], byEvent['确认'][12]], ['operator', `'${COMMENT}`], 'the comment is text, not a formula');
  });

  test('?language=en gives English headers and labels; an unknown alarm is 404, an unknown language 400', async () => {
    const en = await api.call('GET', `/api/alarms/${alarmId}/journal.csv?language=en`, { token: api.tokens.viewer });
    assert.equal(en.status, 200);
    const rows = parseCsv(en.text.slice(1));
    assert.deepEqual(rows[0].slice(0, 9), ['Alarm ID', 'Device SN', 'Device name', 'Location', 'Type', 'Priority', 'Time', 'Event', 'Level']);
    assert.deepEqual(rows.slice(1).map((row) => row[7]), journal.map((e) => journalEventLabel(e.kind, 'en')));
    assert.deepEqual(rows.slice(1, 3).map((row) => [row[4], row[5], row[8]]), [['High gas concentration', 'critical', 'Level 1'], ['High gas concentration', 'critical', 'Level 2']]);
    assert.equal((await api.call('GET', '/api/alarms/999999/journal.csv', { token: api.tokens.viewer })).status, 404);
    assert.equal((await api.call('GET', `/api/alarms/${alarmId}/journal.csv?language=fr`, { token: api.tokens.viewer })).status, 400);
    assert.equal((await api.call('GET', `/api/alarms/${alarmId}/journal.csv`)).status, 401);
  });

  test('GET /api/alarms/export?journal=true: every event of the matching records with their device, type and level (operator)', async () => {
    const exported = await api.call('GET', `/api/alarms/export?journal=true&sn=${SN}&language=en`, { token: api.tokens.operator });
    assert.equal(exported.status, 200, exported.text);
    assert.match(String(exported.headers['content-disposition']), /^attachment; filename="alarm-journal_\d{4}-\d{2}-\d{2}\.csv"$/);
    assert.ok(exported.text.startsWith('\uFEFFAlarm ID,'));
    const rows = parseCsv(exported.text.slice(1));
    assert.equal(rows.length, journal.length + 1);
    assert.ok(rows.slice(1).every((row) => row[0] === String(alarmId) && row[1] === SN && row[4] === 'High gas concentration'));
    assert.equal(rows.find((row) => row[7] === 'Acknowledged')?.[12], `'${COMMENT}`);
    const none = await api.call('GET', '/api/alarms/export?journal=true&sn=NOBODY', { token: api.tokens.operator });
    assert.deepEqual(parseCsv(none.text.slice(1)).length, 1, 'the header alone');
    assert.equal((await api.call('GET', '/api/alarms/export?journal=true', { token: api.tokens.viewer })).status, 403);
    // Without journal=true the export stays one line per record, with the level and priority columns last.
    const records = parseCsv((await api.call('GET', `/api/alarms/export?sn=${SN}&language=en`, { token: api.tokens.operator })).text.slice(1));
    assert.equal(records.length, 2);
    assert.deepEqual(records[0].slice(-2), ['Level', 'Priority']);
    assert.deepEqual(records[1].slice(-2), ['Level 2', 'critical']);
  });
});
