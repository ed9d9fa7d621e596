// Issue 15.8: a cluster of pins tapped in the plan editor opens this list beside it: the devices
// the cluster holds, each dragged out onto the plan to move it (plan-drag.ts, as from the device
// list) or taken off the plan with ×.
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { t } from '../i18n/i18n.ts';
import type { PlanGroup } from '../lib/plan-clusters.ts';

const WIDTH_PX = 260;

export function PinClusterList(props: {
  group: PlanGroup; devices: DeviceView[]; changed: ReadonlySet<string>;
  onDrag: (e: PointerEvent, sn: string) => void; onUnplace: (sn: string) => void; onClose: () => void;
}) {
  const { group } = props;
  const below = group.y < 50; // opens towards the larger half of the plan
  const style = {
    left: `clamp(0px, calc(${group.x}% - ${WIDTH_PX / 2}px), calc(100% - ${WIDTH_PX}px))`,
    width: `${WIDTH_PX}px`,
    ...(below ? { top: `calc(${group.y}% + 24px)` } : { bottom: `calc(${100 - group.y}% + 24px)` }),
  };
  return (
    <div class="pin-cluster-list" style={style} data-pin-cluster-list={props.devices.length} onPointerDown={(e) => e.stopPropagation()}>
      <header>
        <strong>{t('plans.clusterTitle', { n: props.devices.length })}</strong>
        <button type="button" class="small" onClick={props.onClose} aria-label={t('common.close')}>×</button>
      </header>
      <p class="muted small">{t('plans.dragOut')}</p>
      <ul>
        {props.devices.map((d) => (
          <li key={d.sn} data-pin-member={d.sn} class={props.changed.has(d.sn) ? 'changed' : ''} onPointerDown={(e) => props.onDrag(e, d.sn)}>
            <span class="grow"><code>{d.sn}</code> {d.name}</span>
            <button type="button" class="small" title={t('editor.unplace')} onPointerDown={(e) => e.stopPropagation()} onClick={() => props.onUnplace(d.sn)}>×</button>
          </li>
        ))}
      </ul>
    </div>
  );
}
