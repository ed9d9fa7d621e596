// UI-3 dashboard editor (seed §6.2): 1. upload the floor plan, 2. drag devices from the list onto
// it and move them, 3. save the positions in percent of the image (POST /api/devices/positions,
// all or none), preview the kiosk. Also the kiosk's own settings (title, staleness, timeout).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DashboardView } from '../../../appliance/contract/dashboard.ts';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { PlanFrame } from '../lib/PlanFrame.tsx';
import { Notice, useAction, useLoad, useUnsavedChanges } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { KioskSettings } from './KioskSettings.tsx';
import { startDrag } from './plan-drag.ts';

type Positions = Map<string, { x: number; y: number } | null>;

async function allDevices(): Promise<DeviceView[]> {
  const out: DeviceView[] = [];
  for (let page = 1; ; page++) {
    const answer = await api.get<{ total: number; data: DeviceView[] }>(`/api/devices?size=500&page=${page}`);
    out.push(...answer.data);
    if (out.length >= answer.total || answer.data.length === 0) return out;
  }
}

const positionsOf = (devices: DeviceView[]): Positions =>
  new Map(devices.map((d) => [d.sn, d.pos_x !== null && d.pos_y !== null ? { x: d.pos_x, y: d.pos_y } : null]));

export function EditorPage(_props: PageProps) {
  const dashboard = useLoad(() => api.get<DashboardView>('/api/config/dashboard'), []);
  const devices = useLoad(allDevices, []);
  const [positions, setPositions] = useState<Positions>(new Map());
  const [changed, setChanged] = useState<Set<string>>(new Set());
  const [ghost, setGhost] = useState<{ sn: string; left: number; top: number } | null>(null);
  const layer = useRef<HTMLDivElement>(null);
  const upload = useAction();
  const save = useAction();
  useUnsavedChanges(changed.size > 0); // positions moved but not saved (issue 16.11)

  useEffect(() => {
    if (!devices.data) return;
    setPositions(positionsOf(devices.data));
    setChanged(new Set());
  }, [devices.data]);

  const place = (sn: string, at: { x: number; y: number } | null) => {
    setPositions(new Map(positions).set(sn, at));
    setChanged(new Set(changed).add(sn));
  };
  const drag = (e: PointerEvent, sn: string) => startDrag(e, sn, { layer: () => layer.current, onDrop: (s, x, y) => place(s, { x, y }), onMove: setGhost });

  const onFile = (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    const form = new FormData();
    form.append('file', file);
    void upload.run(() => api.post('/api/config/dashboard/bg', form), t('editor.uploaded')).then(dashboard.reload);
  };
  const saveAll = () => void save.run(async () => {
    const list = [...changed].map((sn) => ({ sn, x: positions.get(sn)?.x ?? null, y: positions.get(sn)?.y ?? null }));
    if (list.length) await api.post('/api/devices/positions', { positions: list });
    setChanged(new Set());
  }, t('editor.saved'));

  const bg = dashboard.data?.background;
  const image = bg ? bg.url : null; // a URL the server signed for a few minutes: the session token never goes into it
  const list = devices.data ?? [];
  const placedCount = list.filter((d) => positions.get(d.sn)).length;

  return (
    <section class="editor">
      <div class="page-head">
        <h1>{t('nav.editor')}</h1>
        <div class="row">
          <a class="button" href="/dashboard" target="_blank" rel="noopener" data-action="preview">{t('editor.preview')}</a>
          <button type="button" disabled={changed.size === 0} onClick={() => devices.data && (setPositions(positionsOf(devices.data)), setChanged(new Set()))}>{t('editor.reset')}</button>
          <button type="button" class="primary" data-action="save-positions" disabled={changed.size === 0 || save.busy} onClick={saveAll}>
            {t('editor.save')}{changed.size ? ` (${changed.size})` : ''}
          </button>
        </div>
      </div>
      <Notice error={dashboard.error ?? devices.error ?? upload.error ?? save.error} ok={save.ok ?? upload.ok} />
      <div class="card row wrap">
        <strong>{t('editor.step1')}</strong>
        <label class="button">
          {t('editor.upload')}
          <input type="file" name="background" accept="image/png,image/jpeg" hidden onChange={onFile} />
        </label>
        <span class="muted">{t('editor.uploadHint')}</span>
        {bg && <button type="button" onClick={() => void upload.run(() => api.del('/api/config/dashboard/bg')).then(dashboard.reload)}>{t('editor.removeImage')}</button>}
      </div>
      <div class="editor-body">
        <aside class="editor-list card">
          <h2>{t('editor.step2')} <small class="muted">{placedCount}/{list.length}</small></h2>
          <ul>
            {list.map((d) => {
              const at = positions.get(d.sn);
              return (
                <li key={d.sn} class={at ? 'placed' : 'unplaced'} data-device={d.sn} onPointerDown={(e) => drag(e, d.sn)}>
                  <span class="tick">{at ? '☑' : '□'}</span>
                  <span class="grow"><code>{d.sn}</code> {d.name}</span>
                  {at && <button type="button" class="small" title={t('editor.unplace')} onPointerDown={(e) => e.stopPropagation()} onClick={() => place(d.sn, null)}>×</button>}
                </li>
              );
            })}
          </ul>
        </aside>
        <PlanFrame image={image} layerRef={layer} class="editor-plan">
          {list.map((d) => {
            const at = positions.get(d.sn);
            return at ? (
              <div key={d.sn} class={`pin${changed.has(d.sn) ? ' changed' : ''}`} data-pin={d.sn} style={{ left: `${at.x}%`, top: `${at.y}%` }} onPointerDown={(e) => drag(e, d.sn)}>
                {d.name || d.sn}
              </div>
            ) : null;
          })}
        </PlanFrame>
      </div>
      {ghost && <div class="drag-ghost" style={{ left: `${ghost.left}px`, top: `${ghost.top}px` }}>{ghost.sn}</div>}
      {dashboard.data && <KioskSettings view={dashboard.data} onSaved={dashboard.reload} />}
    </section>
  );
}
