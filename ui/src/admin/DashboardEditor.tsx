// UI-3 dashboard editor (seed §6.2): 1. upload the floor plan, 2. drag devices from the list onto
// it and move them, 3. save the positions in percent of the image (POST /api/devices/positions,
// all or none), preview the kiosk. Also the kiosk's own settings (title, staleness, timeout).
// Issue 15.8: several plans (buildings, floors): the site overview's tiles pick the plan edited;
// add, rename and delete plans, an image per plan, and a device is placed on one plan at a time
// (dropping it here takes it off the plan it was on). With more than DENSE_MARKERS on one plan,
// pins that would cover each other become one cluster (count, worst state colour) that lists its
// devices on a tap, to drag out and move (lib/plan-clusters.ts, PinClusterList.tsx).
import { useEffect, useRef, useState } from 'preact/hooks';
import { planOf, type DashboardView } from '../../../appliance/contract/dashboard.ts';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { PlanFrame } from '../lib/PlanFrame.tsx';
import { ClusterMarker } from '../lib/PlanCluster.tsx';
import { DENSE_MARKERS, groupingMemo, pinFootprint, type PlanGroup } from '../lib/plan-clusters.ts';
import { stateOfLook, summarizePlans, worstOf } from '../lib/plan-state.ts';
import { planName, PlanTiles } from '../lib/PlanTiles.tsx';
import { Notice, useAction, useLoad, useUnsavedChanges } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { KioskSettings } from './KioskSettings.tsx';
import { PinClusterList } from './PinClusterList.tsx';
import { startDrag } from './plan-drag.ts';

type Positions = Map<string, { x: number; y: number; plan: number } | null>;
/** A cluster of pins, px (styles.css `.pin-cluster`). */
const PIN_CLUSTER_PX = 40;

async function allDevices(): Promise<DeviceView[]> {
  const out: DeviceView[] = [];
  for (let page = 1; ; page++) {
    const answer = await api.get<{ total: number; data: DeviceView[] }>(`/api/devices?size=500&page=${page}`);
    out.push(...answer.data);
    if (out.length >= answer.total || answer.data.length === 0) return out;
  }
}

const positionsOf = (devices: DeviceView[], view: DashboardView): Positions =>
  new Map(devices.map((d) => [d.sn, d.pos_x !== null && d.pos_y !== null ? { x: d.pos_x, y: d.pos_y, plan: planOf(view, d.sn) } : null]));

export function EditorPage(_props: PageProps) {
  const dashboard = useLoad(() => api.get<DashboardView>('/api/config/dashboard'), []);
  const devices = useLoad(allDevices, []);
  const [positions, setPositions] = useState<Positions>(new Map());
  const [changed, setChanged] = useState<Set<string>>(new Set());
  const [planId, setPlanId] = useState<number | null>(null);
  const plans = useAction();
  const [ghost, setGhost] = useState<{ sn: string; left: number; top: number } | null>(null);
  const layer = useRef<HTMLDivElement>(null);
  const [layerSize, setLayerSize] = useState({ width: 0, height: 0 });
  /** Issue 15.8: the devices of the cluster opened by a tap. */
  const [openPins, setOpenPins] = useState<string[] | null>(null);
  const grouping = useRef(groupingMemo()).current;
  const upload = useAction();
  const save = useAction();
  useUnsavedChanges(changed.size > 0); // positions moved but not saved (issue 16.11)

  useEffect(() => {
    if (!devices.data || !dashboard.data) return;
    setPositions(positionsOf(devices.data, dashboard.data));
    setChanged(new Set());
  }, [devices.data, dashboard.data]);

  const planList = dashboard.data?.plans ?? [];
  const current = planList.find((p) => p.id === planId) ?? planList[0];
  useEffect(() => setOpenPins(null), [current?.id]); // a cluster's list belongs to its plan
  const place = (sn: string, at: { x: number; y: number } | null) => {
    if (!current) return;
    setPositions(new Map(positions).set(sn, at && { ...at, plan: current.id }));
    setChanged(new Set(changed).add(sn));
  };
  const drag = (e: PointerEvent, sn: string) => startDrag(e, sn, { layer: () => layer.current, onDrop: (s, x, y) => place(s, { x, y }), onMove: setGhost });

  const onFile = (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    const form = new FormData();
    form.append('file', file);
    if (current) void upload.run(() => api.post(`/api/config/dashboard/plans/${current.id}/bg`, form), t('editor.uploaded')).then(dashboard.reload);
  };
  const saveAll = () => void save.run(async () => {
    // One call per plan (a device taken off goes with the plan shown); each is all or none.
    const byPlan = new Map<number, { sn: string; x: number | null; y: number | null }[]>();
    for (const sn of changed) {
      const at = positions.get(sn);
      const plan = at?.plan ?? current!.id;
      byPlan.set(plan, [...(byPlan.get(plan) ?? []), { sn, x: at?.x ?? null, y: at?.y ?? null }]);
    }
    for (const [plan, list] of byPlan) await api.post(`/api/config/dashboard/plans/${plan}/positions`, { positions: list });
    setChanged(new Set());
    dashboard.reload();
  }, t('editor.saved'));
  const addPlan = () => {
    const name = window.prompt(t('plans.namePrompt'))?.trim();
    if (name) void plans.run(async () => {
      const view = await api.post<DashboardView>('/api/config/dashboard/plans', { name });
      setPlanId(view.plans.at(-1)!.id);
    }, t('plans.added')).then(dashboard.reload);
  };
  const renamePlan = () => {
    const name = current && window.prompt(t('plans.namePrompt'), current.name)?.trim();
    if (current && name) void plans.run(() => api.put(`/api/config/dashboard/plans/${current.id}`, { name })).then(dashboard.reload);
  };
  const deletePlan = () => {
    if (!current) return;
    const count = [...positions.values()].filter((at) => at?.plan === current.id).length;
    if (!window.confirm(t('plans.deleteConfirm', { name: planName(current), n: count }))) return;
    void plans.run(() => api.del(`/api/config/dashboard/plans/${current.id}`), t('plans.deleted')).then(() => {
      setPlanId(null);
      dashboard.reload();
      devices.reload();
    });
  };

  const bg = current?.background;
  const image = bg ? bg.url : null; // a URL the server signed for a few minutes: the session token never goes into it
  const list = devices.data ?? [];
  const placedCount = list.filter((d) => positions.get(d.sn)?.plan === current?.id).length;
  const nameOf = (id: number) => planName(planList.find((p) => p.id === id) ?? { id, name: '' });
  // The site overview: each plan's worst state from the devices' state as the list last read it.
  const summaries = summarizePlans(planList, list.flatMap((d) => {
    const at = positions.get(d.sn);
    return at ? [{ plan: at.plan, state: stateOfLook(d.status === 'offline' ? 'offline' : d.state) }] : [];
  }));

  // Issue 15.8: on a dense plan, pins that would cover each other become clusters.
  const onThisPlan = list.filter((d) => positions.get(d.sn)?.plan === current?.id);
  const groups: PlanGroup[] | null = onThisPlan.length > DENSE_MARKERS
    ? grouping(onThisPlan.map((d) => ({ key: d.sn, ...positions.get(d.sn)!, ...pinFootprint(d.name || d.sn) })), layerSize, { w: PIN_CLUSTER_PX, h: PIN_CLUSTER_PX })
    : null;
  const bySn = new Map(list.map((d) => [d.sn, d]));
  const stateOf = (d: DeviceView) => stateOfLook(d.status === 'offline' ? 'offline' : d.state);
  // The open list follows its cluster as pins move: the cluster now holding most of its devices.
  const open = openPins && groups
    ? groups.filter((g) => g.keys.length > 1).map((g) => ({ g, shared: g.keys.filter((sn) => openPins.includes(sn)).length })).sort((a, b) => b.shared - a.shared)[0]
    : undefined;
  const openGroup = open && open.shared > 0 ? open.g : null;
  const pin = (d: DeviceView, at: { x: number; y: number }) => (
    <div key={d.sn} class={`pin${changed.has(d.sn) ? ' changed' : ''}`} data-pin={d.sn} style={{ left: `${at.x}%`, top: `${at.y}%` }} onPointerDown={(e) => drag(e, d.sn)}>
      {d.name || d.sn}
    </div>
  );
  const drawGroup = (group: PlanGroup) => {
    const members = group.keys.map((sn) => bySn.get(sn)!);
    if (members.length === 1) return pin(members[0]!, group);
    return (
      <ClusterMarker key={`cluster:${group.keys[0]}`} group={group} state={worstOf(members.map(stateOf))} names={members.map((d) => d.name || d.sn).join(', ')}
        class={`pin-cluster${group.keys.some((sn) => changed.has(sn)) ? ' changed' : ''}`} open={openGroup === group}
        onOpen={(keys) => setOpenPins(openGroup === group ? null : keys)} />
    );
  };

  return (
    <section class="editor">
      <div class="page-head">
        <h1>{t('nav.editor')}</h1>
        <div class="row">
          <a class="button" href="/dashboard" target="_blank" rel="noopener" data-action="preview">{t('editor.preview')}</a>
          <button type="button" disabled={changed.size === 0} onClick={() => devices.data && dashboard.data && (setPositions(positionsOf(devices.data, dashboard.data)), setChanged(new Set()))}>{t('editor.reset')}</button>
          <button type="button" class="primary" data-action="save-positions" disabled={changed.size === 0 || save.busy} onClick={saveAll}>
            {t('editor.save')}{changed.size ? ` (${changed.size})` : ''}
          </button>
        </div>
      </div>
      <Notice error={dashboard.error ?? devices.error ?? upload.error ?? save.error ?? plans.error} ok={save.ok ?? upload.ok ?? plans.ok} />
      <div class="card editor-plans">
        {current && <PlanTiles plans={planList} summaries={summaries} current={current.id} onPick={setPlanId} />}
        <div class="row wrap">
          <button type="button" data-action="add-plan" onClick={addPlan}>{t('plans.add')}</button>
          <button type="button" data-action="rename-plan" disabled={!current} onClick={renamePlan}>{t('plans.rename')}</button>
          <button type="button" data-action="delete-plan" disabled={planList.length < 2} onClick={deletePlan}>{t('plans.delete')}</button>
        </div>
      </div>
      <div class="card row wrap">
        <strong>{t('editor.step1')}</strong>
        <label class="button">
          {t('editor.upload')}
          <input type="file" name="background" accept="image/png,image/jpeg" hidden onChange={onFile} />
        </label>
        <span class="muted">{t('editor.uploadHint')}</span>
        {bg && current && <button type="button" onClick={() => void upload.run(() => api.del(`/api/config/dashboard/plans/${current.id}/bg`)).then(dashboard.reload)}>{t('editor.removeImage')}</button>}
      </div>
      <div class="editor-body">
        <aside class="editor-list card">
          <h2>{t('editor.step2')} <small class="muted">{placedCount}/{list.length}</small></h2>
          <ul>
            {list.map((d) => {
              const at = positions.get(d.sn);
              const elsewhere = at && at.plan !== current?.id ? at.plan : null;
              return (
                <li key={d.sn} class={at && !elsewhere ? 'placed' : 'unplaced'} data-device={d.sn} data-on-plan={at?.plan ?? ''} onPointerDown={(e) => drag(e, d.sn)}>
                  <span class="tick">{at && !elsewhere ? '☑' : '□'}</span>
                  <span class="grow"><code>{d.sn}</code> {d.name}{elsewhere !== null && <small class="muted"> {t('plans.onOther', { name: nameOf(elsewhere) })}</small>}</span>
                  {at && <button type="button" class="small" title={t('editor.unplace')} onPointerDown={(e) => e.stopPropagation()} onClick={() => place(d.sn, null)}>×</button>}
                </li>
              );
            })}
          </ul>
        </aside>
        <PlanFrame image={image} layerRef={layer} class="editor-plan" onSize={setLayerSize}>
          {groups ? groups.map(drawGroup) : onThisPlan.map((d) => pin(d, positions.get(d.sn)!))}
          {openGroup && (
            <PinClusterList group={openGroup} devices={openGroup.keys.map((sn) => bySn.get(sn)!)} changed={changed}
              onDrag={drag} onUnplace={(sn) => place(sn, null)} onClose={() => setOpenPins(null)} />
          )}
        </PlanFrame>
      </div>
      {ghost && <div class="drag-ghost" style={{ left: `${ghost.left}px`, top: `${ghost.top}px` }}>{ghost.sn}</div>}
      {dashboard.data && <KioskSettings view={dashboard.data} onSaved={dashboard.reload} />}
    </section>
  );
}
