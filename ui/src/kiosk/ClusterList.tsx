// Issue 15.8: a cluster marker tapped on the kiosk opens this list under the plan: each detector of
// the cluster as its full marker (value, unit, name, state, icons — readable at 3 m and on a phone),
// the worst first; a tap on one opens its trend as on the plan.
import type { VNode } from 'preact';
import type { LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { t } from '../i18n/i18n.ts';
import type { PlanState } from '../lib/plan-state.ts';

const RANK: Record<PlanState, number> = { alarm: 0, warning: 1, offline: 2, ok: 3, empty: 4 };

export function ClusterList(props: {
  devices: LiveDeviceInfo[]; stateOf: (d: LiveDeviceInfo) => PlanState; marker: (d: LiveDeviceInfo) => VNode; onClose: () => void;
}) {
  const sorted = [...props.devices].sort((a, b) => RANK[props.stateOf(a)] - RANK[props.stateOf(b)] || (a.name || a.sn).localeCompare(b.name || b.sn));
  return (
    <section class="cluster-list" data-cluster-list={sorted.length} aria-label={t('plans.clusterTitle', { n: sorted.length })}>
      <header>
        <h2>{t('plans.clusterTitle', { n: sorted.length })}</h2>
        <button type="button" class="close" onClick={props.onClose} aria-label={t('common.close')}>×</button>
      </header>
      <div class="cluster-members">{sorted.map((d) => props.marker(d))}</div>
    </section>
  );
}
