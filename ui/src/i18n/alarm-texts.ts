// Issue 14.10: the alarm words of the UI's dictionaries come from appliance/contract/alarm-labels.ts
// (the one source the notifications and CSV exports read too), under the keys the screens use.
// en.ts and zh.ts spread alarmTexts() last, so a key written there by hand as well fails the type
// check ("specified more than once") instead of quietly disagreeing with the server.
import {
  ALARM_ISA_STATE_LABELS, ALARM_LEVEL_LABELS, ALARM_PRIORITY_LABELS, ALARM_TYPE_LABELS, JOURNAL_EVENT_LABELS, type Labels, type Language,
} from '../../../appliance/contract/alarm-labels.ts';

/** One table's labels in `language`, each under `prefix` + its key. */
function keyed<P extends string, K extends string | number>(prefix: P, table: Record<K, Labels>, language: Language): Record<`${P}${K}`, string> {
  return Object.fromEntries(Object.entries<Labels>(table).map(([key, labels]) => [`${prefix}${key}`, labels[language]])) as Record<`${P}${K}`, string>;
}

export function alarmTexts(language: Language) {
  return {
    ...keyed('alarm.type.', ALARM_TYPE_LABELS, language),
    ...keyed('kiosk.level.', ALARM_LEVEL_LABELS, language),
    ...keyed('kiosk.priority.', ALARM_PRIORITY_LABELS, language),
    ...keyed('alarmState.', ALARM_ISA_STATE_LABELS, language),
    ...keyed('journal.kind.', JOURNAL_EVENT_LABELS, language),
    'kiosk.isa.returned_unacknowledged': ALARM_ISA_STATE_LABELS.returned_unacknowledged[language],
  };
}
