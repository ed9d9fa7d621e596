// ALM-13 escalation steps and ALM-11 "acknowledgement needs a comment", per priority: part of the
// alarm settings the channels page saves (PUT /api/config/alarm). Steps are minutes an alarm may
// stay unacknowledged before it goes to each channel's escalation recipients; an empty step is
// none. The server refuses a step 2 not after step 1 (50001); the form says so before sending.
import type { AlarmPriority, AlarmSettings } from '../../../appliance/contract/alarm.ts';
import { t, type TextKey } from '../i18n/i18n.ts';
import { inputChecked, inputValue } from '../lib/ui.tsx';

type PolicyFields = Pick<AlarmSettings, 'escalation' | 'ack_comment_required'>;

const PRIORITIES: AlarmPriority[] = ['critical', 'high', 'medium', 'low'];

/** The steps without gaps: [] / [n] / [n, m]; an emptied step 1 drops step 2 with it. */
function stepsWith(steps: number[], index: 0 | 1, text: string): number[] {
  const value = text.trim() === '' ? null : Math.round(Number(text));
  const next = [...steps];
  if (value === null || !Number.isFinite(value)) return index === 0 ? [] : next.slice(0, 1);
  next[index] = value;
  return index === 1 && next[0] === undefined ? [value] : next;
}

export function AlarmPolicy<R extends PolicyFields>(props: { rules: R; onChange: (rules: R) => void }) {
  const { rules } = props;
  const escalation = rules.escalation ?? ({} as PolicyFields['escalation']);
  const required = rules.ack_comment_required ?? ({} as PolicyFields['ack_comment_required']);
  const setSteps = (priority: AlarmPriority, steps: number[]) => props.onChange({ ...rules, escalation: { ...escalation, [priority]: steps } });
  const unordered = PRIORITIES.filter((p) => (escalation[p]?.length ?? 0) === 2 && escalation[p][1] <= escalation[p][0]);
  return (
    <div class="card" data-section="alarm-policy">
      <h2>{t('alarmPolicy.title')}</h2>
      <p class="field-hint">{t('alarmPolicy.hint')}</p>
      <div class="table-wrap">
        <table class="table" data-table="alarm-policy">
          <thead>
            <tr><th>{t('alarmPolicy.priority')}</th><th>{t('alarmPolicy.step1')}</th><th>{t('alarmPolicy.step2')}</th><th>{t('alarmPolicy.ackComment')}</th></tr>
          </thead>
          <tbody>
            {PRIORITIES.map((priority) => {
              const steps = escalation[priority] ?? [];
              return (
                <tr key={priority} data-priority={priority}>
                  <td>{t(`kiosk.priority.${priority}` as TextKey)}</td>
                  {([0, 1] as const).map((index) => (
                    <td key={index}>
                      <input type="number" min={1} max={1440} step={1} name={`escalation.${priority}.${index}`} aria-label={`${t(`kiosk.priority.${priority}` as TextKey)} ${t(index ? 'alarmPolicy.step2' : 'alarmPolicy.step1')}`}
                        disabled={index === 1 && steps.length === 0} value={steps[index] ?? ''}
                        onInput={(e) => setSteps(priority, stepsWith(steps, index, inputValue(e)))} />
                    </td>
                  ))}
                  <td>
                    <input type="checkbox" name={`ack_comment_required.${priority}`} checked={required[priority] === true}
                      onChange={(e) => props.onChange({ ...rules, ack_comment_required: { ...required, [priority]: inputChecked(e) } })} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {unordered.map((p) => <p key={p} class="notice notice-error" role="alert">{t('alarmPolicy.stepOrder', { priority: t(`kiosk.priority.${p}` as TextKey) })}</p>)}
    </div>
  );
}
