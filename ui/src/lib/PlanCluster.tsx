// Issue 15.8: a cluster marker — markers that would cover each other on the plan as drawn now
// (plan-clusters.ts), shown as one round badge with their count in the colour of the worst of them
// (red flashing for a gas alarm, as the markers, GB 16808), that opens its list on a tap. Used by
// the kiosk and the admin plan editor.
import { t } from '../i18n/i18n.ts';
import type { PlanGroup } from './plan-clusters.ts';
import type { PlanState } from './plan-state.ts';

export function ClusterMarker(props: {
  group: PlanGroup; state: PlanState; open: boolean; selected?: boolean; class?: string; names: string; onOpen: (keys: string[]) => void;
}) {
  const { group, state } = props;
  const n = group.keys.length;
  return (
    <button
      type="button"
      class={`marker-cluster state-${state}${props.open ? ' open' : ''}${props.selected ? ' selected' : ''} ${props.class ?? ''}`}
      style={{ left: `${group.x}%`, top: `${group.y}%` }}
      data-cluster={n}
      data-state={state}
      data-first={group.keys[0]}
      aria-expanded={props.open}
      aria-label={t('plans.cluster', { n })}
      title={`${t('plans.cluster', { n })}: ${props.names}`}
      onClick={(e) => {
        e.stopPropagation();
        props.onOpen(group.keys);
      }}
    >
      <span class="cluster-count">{n}</span>
    </button>
  );
}
