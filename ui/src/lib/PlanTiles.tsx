// Issue 15.8 the site overview: one tile per floor plan in the colour of its worst state, with its
// name and how many detectors are in alarm / need a look. A tap shows that plan. The tiles are of
// equal width and their words wrap inside them (a phone at 390 px read "Onlin" before); a count that
// appears never widens a tile, so the tiles stay where a finger aims (styles.css .plan-tiles).
import type { PlanView } from '../../../appliance/contract/dashboard.ts';
import { t, type TextKey } from '../i18n/i18n.ts';
import type { PlanState, PlanSummary } from './plan-state.ts';

export const planName = (plan: Pick<PlanView, 'id' | 'name'>) => plan.name || t('plans.numbered', { n: plan.id });

const STATE_TEXT: Record<PlanState, TextKey> = { alarm: 'plans.state.alarm', warning: 'plans.state.warning', offline: 'plans.state.offline', ok: 'plans.state.ok', empty: 'plans.state.empty' };

export function PlanTiles(props: { plans: readonly PlanView[]; summaries: Map<number, PlanSummary>; current: number; onPick: (id: number) => void; forced?: number | null }) {
  return (
    <nav class="plan-tiles" aria-label={t('plans.overview')}>
      {props.plans.map((plan) => {
        const summary = props.summaries.get(plan.id);
        const state = summary?.state ?? 'empty';
        const counts = summary?.counts;
        return (
          <button
            type="button" key={plan.id} class={`plan-tile tile-${state}${plan.id === props.current ? ' current' : ''}${plan.id === props.forced ? ' forced' : ''}`}
            data-plan-tile={plan.id} data-state={state} aria-pressed={plan.id === props.current} onClick={() => props.onPick(plan.id)}
          >
            <span class="plan-tile-name">{planName(plan)}</span>
            <span class="plan-tile-state">{t(STATE_TEXT[state])}</span>
            {/* the counts' line is there before the first snapshot fills it: the tile does not grow under a finger */}
            <span class="plan-tile-counts">
              {counts && summary.devices > 0 && (
                <>
                  {counts.alarm > 0 && <span class="n-alarm">{t('plans.nAlarm', { n: counts.alarm })}</span>}
                  {counts.warning > 0 && <span class="n-warning">{t('plans.nWarning', { n: counts.warning })}</span>}
                  {counts.offline > 0 && <span class="n-offline">{t('plans.nOffline', { n: counts.offline })}</span>}
                  <span class="n-total">{t('plans.nDevices', { n: summary.devices })}</span>
                </>
              )}
            </span>
          </button>
        );
      })}
    </nav>
  );
}
