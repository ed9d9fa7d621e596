// Issue 14.10: one source for the alarm words in both languages — every type, level, priority,
// ISA-18.2 state and journal event has a Chinese and an English label, the Chinese ones are the
// standards' terms, and the UI dictionaries, the notifications and the CSV exports say the same.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALARM_ISA_STATE_LABELS, ALARM_LEVEL_LABELS, ALARM_PRIORITY_LABELS, ALARM_RECORD_STATE_LABELS, ALARM_TYPES, JOURNAL_EVENT_LABELS, LANGUAGES,
  alarmIsaStateLabel, alarmLabel, alarmLevelLabel, alarmPriorityLabel, alarmRecordStateLabel, alarmTypeLabel, journalEventLabel, type Labels, type Language,
} from '../../appliance/contract/alarm-labels.ts';
import {
  ALARM_PRIORITIES, AlarmSettingsSchema, DEFAULT_PRIORITIES, isaStateOf, JournalEntryView, SYSTEM_ALARM_TYPES, type AlarmRecord,
} from '../../appliance/contract/alarm.ts';
import { alarmsCsv, journalCsv } from '../../appliance/api/alarm-queries.ts';
import { renderAlarmMessage, type AlarmNotice } from '../../appliance/notify/message.ts';
import { en } from '../../ui/src/i18n/en.ts';
import { zh } from '../../ui/src/i18n/zh.ts';
import { notice } from '../notify/support.ts';

const CJK = /[\u4e00-\u9fff]/;
const dictionaries: Record<Language, Record<string, string>> = { 'zh-CN': zh, en };

/** The types the appliance raises: the priority keys (HIGH_1/HIGH_2 → HIGH) and the system parts. */
function raisedTypes(): string[] {
  const pattern = (AlarmSettingsSchema.properties.priorities as { patternProperties: Record<string, unknown> }).patternProperties;
  const fromPattern = Object.keys(pattern)[0].replace(/^\^\(|\)\$$/g, '').split('|');
  const types = [...Object.keys(DEFAULT_PRIORITIES), ...fromPattern, ...SYSTEM_ALARM_TYPES].map((key) => key.replace(/_[12]$/, ''));
  return [...new Set(types)].sort();
}

/** Every ISA-18.2 state isaStateOf can give. */
function isaStates(): string[] {
  const states = new Set<string>();
  for (const state of ['active', 'cleared'] as const) for (const ack_at of [null, 1]) for (const latched of [0, 1]) states.add(isaStateOf({ state, ack_at, latched }));
  return [...states].sort();
}

/** The journal kinds the contract documents ("raised | repeat | …"). */
const journalKinds = () => String(JournalEntryView.properties.kind.description).split('|').map((kind) => kind.trim());

function assertBothLanguages(what: string, labels: Labels | undefined) {
  assert.ok(labels, `${what} has labels`);
  assert.match(labels['zh-CN'], CJK, `${what}: the Chinese label is Chinese`);
  assert.ok(labels.en.trim() && !CJK.test(labels.en), `${what}: the English label is English`);
}

describe('alarm labels (issue 14.10)', () => {
  test('every alarm type, level, priority, ISA state, record state and journal event has both labels', () => {
    assert.deepEqual(raisedTypes(), [...ALARM_TYPES].sort(), 'the label table lists exactly the types raised');
    for (const type of ALARM_TYPES) for (const language of LANGUAGES) assert.notEqual(alarmTypeLabel(type, language), type, `${type} ${language}`);
    for (const type of raisedTypes()) assertBothLanguages(type, { 'zh-CN': alarmTypeLabel(type, 'zh-CN'), en: alarmTypeLabel(type, 'en') });
    for (const level of [1, 2] as const) assertBothLanguages(`level ${level}`, ALARM_LEVEL_LABELS[level]);
    assert.deepEqual(Object.keys(ALARM_PRIORITY_LABELS), [...ALARM_PRIORITIES], 'every priority, most urgent first');
    for (const priority of ALARM_PRIORITIES) assertBothLanguages(priority, ALARM_PRIORITY_LABELS[priority]);
    assert.deepEqual(Object.keys(ALARM_ISA_STATE_LABELS).sort(), isaStates());
    for (const state of isaStates()) assertBothLanguages(state, ALARM_ISA_STATE_LABELS[state as keyof typeof ALARM_ISA_STATE_LABELS]);
    for (const state of ['active', 'cleared'] as const) assertBothLanguages(state, ALARM_RECORD_STATE_LABELS[state]);
    assert.ok(journalKinds().length >= 8);
    for (const kind of journalKinds()) assertBothLanguages(`journal ${kind}`, JOURNAL_EVENT_LABELS[kind as keyof typeof JOURNAL_EVENT_LABELS]);
  });

  test('the Chinese words are the standards\' terms: 一级报警 / 二级报警 (GB/T 50493), 故障 apart from gas (GB 16808), 低报, 消音, 复位', () => {
    assert.deepEqual([alarmLabel('HIGH', 1, 'zh-CN'), alarmLabel('HIGH', 2, 'zh-CN')], ['一级报警', '二级报警']);
    assert.deepEqual([alarmLevelLabel(1, 'zh-CN'), alarmLevelLabel(2, 'zh-CN')], ['一级', '二级']);
    assert.match(alarmTypeLabel('FAULT', 'zh-CN'), /故障/);
    assert.doesNotMatch(alarmTypeLabel('FAULT', 'zh-CN'), /报警|浓度/, 'a fault is not named as a gas alarm');
    assert.match(alarmTypeLabel('LOW', 'zh-CN'), /低报/);
    assert.deepEqual([journalEventLabel('silenced', 'zh-CN'), journalEventLabel('reset', 'zh-CN')], ['消音', '复位']);
  });

  test('the lookups: a level only for HIGH, unknown codes read as themselves, never an empty label', () => {
    assert.deepEqual([alarmLabel('HIGH', 2, 'en'), alarmLabel('HIGH', null, 'en'), alarmLabel('LOW', 2, 'en')], ['Gas alarm level 2', 'High gas concentration', 'Low gas concentration']);
    assert.deepEqual([alarmLevelLabel(null, 'en'), alarmLevelLabel(3, 'en'), alarmLevelLabel(1, 'en')], ['', '', 'Level 1']);
    assert.deepEqual(
      [alarmTypeLabel('SOMETHING', 'en'), alarmPriorityLabel('urgent', 'zh-CN'), alarmIsaStateLabel('shelved', 'en'), alarmRecordStateLabel('open', 'en'), journalEventLabel('custom', 'zh-CN')],
      ['SOMETHING', 'urgent', 'shelved', 'open', 'custom'],
    );
    assert.equal(alarmTypeLabel('constructor', 'en'), 'constructor', 'no label from Object.prototype');
  });

  test('the UI dictionaries hold the same labels under the keys the screens use', () => {
    for (const language of LANGUAGES) {
      const texts = dictionaries[language];
      for (const type of ALARM_TYPES) assert.equal(texts[`alarm.type.${type}`], alarmTypeLabel(type, language));
      for (const level of [1, 2]) assert.equal(texts[`kiosk.level.${level}`], alarmLevelLabel(level, language));
      for (const priority of ALARM_PRIORITIES) assert.equal(texts[`kiosk.priority.${priority}`], alarmPriorityLabel(priority, language));
      for (const state of isaStates()) assert.equal(texts[`alarmState.${state}`], alarmIsaStateLabel(state, language));
      for (const kind of journalKinds()) assert.equal(texts[`journal.kind.${kind}`], journalEventLabel(kind, language));
      assert.equal(texts['kiosk.isa.returned_unacknowledged'], alarmIsaStateLabel('returned_unacknowledged', language));
    }
    assert.equal(zh['alarm.type.HIGH'], '浓度高报', 'the disagreement of issue 14 (浓度超标) is gone');
  });

  test('a notification names the priority and the alarm with its level as the UI and the CSV do', () => {
    const record: AlarmRecord = {
      id: 7, sn: 'A001', source: 'A001', type: 'HIGH', state: 'active', level: 2, priority: 'critical', latched: 0, value: 3516.1, threshold: 3000, peak: 3516.1,
      detail: null, triggered_at: notice.at, cleared_at: null, repeat_count: 0, notified_at: null, ack_at: null, ack_by: null, ack_comment: null, updated_at: notice.at,
    };
    const raised: AlarmNotice = { ...notice, type: 'HIGH', level: 2, priority: 'critical' };
    const site = (language: Language) => ({ language, timezone: 'Asia/Shanghai' });
    const zhTitle = renderAlarmMessage(raised, site('zh-CN')).title;
    assert.equal(zhTitle, `【报警】[${zh['kiosk.priority.critical']}] 二级报警 - 1号车间探测器 (A001)`);
    assert.equal(renderAlarmMessage(raised, site('en')).title, '[ALARM] [critical] Gas alarm level 2 - 1号车间探测器 (A001)');
    for (const language of LANGUAGES) {
      const message = renderAlarmMessage(raised, site(language));
      assert.ok(message.title.includes(dictionaries[language]['kiosk.priority.critical']));
      assert.ok(message.title.includes(alarmLabel('HIGH', 2, language)));
      for (const type of ALARM_TYPES) {
        const title = renderAlarmMessage({ ...notice, type, level: null }, site(language)).title;
        assert.ok(title.includes(dictionaries[language][`alarm.type.${type}`]), `${type} ${language}: ${title}`);
      }
      // The CSVs: the record's type, level and priority columns; the journal's event names.
      const csv = [...alarmsCsv([record], site(language))].join('');
      const row = csv.split('\r\n')[1].split(',');
      assert.deepEqual([row[2], row.at(-2), row.at(-1)], [dictionaries[language]['alarm.type.HIGH'], dictionaries[language]['kiosk.level.2'], dictionaries[language]['kiosk.priority.critical']]);
      const journal = [...journalCsv([{ alarm: record, entry: { at: notice.at, kind: 'silenced', level: 2, value: null, actor: 'control room', detail: null } }], site(language))].join('');
      assert.ok(journal.split('\r\n')[1].split(',').includes(dictionaries[language]['journal.kind.silenced']));
    }
  });
});
