// UI-2 the control-room kiosk (/dashboard, seed §6.1/§6.3): top bar, the floor plan with a marker
// per placed device, the listed alarms, a trend on click, and the devices not on the plan. It
// runs unattended: it reconnects by itself and, when the link is down or silent for
// connection_timeout_s, says so and stops showing numbers as if they were live.
// UI-5 (GB 16808): it sounds (annunciator.ts decides, sound.ts plays) with a SILENCE button and
// a "sound off" state while the browser blocks audio, shows the first alarm (首警) and the totals,
// and flashes the screen for a new critical alarm.
// Issue 15.8: with several plans a row of tiles (the site overview) shows each plan's worst state;
// the plan with the newest active critical or gas alarm comes forward by itself and stays while
// that alarm is active, otherwise the chosen plan (or the rotation, rotate_s). With many markers on
// one plan they become small dots that show their value on hover or tap, and dots that would cover
// each other at the size the plan is drawn become one cluster marker (count, worst state colour)
// whose detectors are listed under the plan on a tap (lib/plan-clusters.ts, ClusterList.tsx).
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { planOf, type DashboardView } from '../../../appliance/contract/dashboard.ts';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import type { AlarmView, LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { setSiteTimezone, t, useLang } from '../i18n/i18n.ts';
import { api, ApiError, setApiToken } from '../lib/api.ts';
import { createLiveLink, type LinkState, type LiveLink } from '../lib/live-link.ts';
import { PlanFrame } from '../lib/PlanFrame.tsx';
import { ClusterMarker } from '../lib/PlanCluster.tsx';
import { DENSE_MARKERS, groupingMemo, KIOSK_FOOTPRINT, type PlanGroup } from '../lib/plan-clusters.ts';
import { forwardPlan, stateOfLook, summarizePlans, worstOf, type PlanState } from '../lib/plan-state.ts';
import { PlanTiles } from '../lib/PlanTiles.tsx';
import { firstAlarm } from '../lib/alarm-order.ts';
import { kioskName } from '../lib/kiosk-name.ts';
import { forgetKioskToken, kioskToken } from '../lib/session.ts';
import { AlarmFlash, FLASH_MS } from './AlarmFlash.tsx';
import { AlarmList } from './AlarmList.tsx';
import { ClusterList } from './ClusterList.tsx';
import { alarmSource, Annunciator, LINK_SOURCE, type SoundSource } from './annunciator.ts';
import { FirstAlarm } from './FirstAlarm.tsx';
import { Fleet } from './fleet.ts';
import { isStale, lookOf, maskedCount, maskMinutesLeft } from './look.ts';
import { Marker } from './Marker.tsx';
import { SilenceButton, SoundOffBanner } from './SoundControls.tsx';
import { createAlarmSounder, type AlarmSounder, type AudioState } from './sound.ts';
import { TopBar } from './TopBar.tsx';
import { TrendPanel } from './TrendPanel.tsx';

const DEFAULTS = {
  title: '', stale_after_s: 120, connection_timeout_s: 5, show_unplaced: true, background: null, updated_at: null,
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, language: 'zh-CN',
  rotate_s: 0, plans: [{ id: 1, name: '', background: null }], device_plans: {},
} satisfies DashboardView;
/** More markers than this on one plan are drawn as small dots (value on hover or tap), so the room names stay readable. */
export { DENSE_MARKERS };
const SETTINGS_REFRESH_MS = 60_000;
const HISTORY_REFRESH_MS = 60_000;
const UNKNOWN_RETRY_MS = 30_000;

/** The silence goes to the journal (ALM-12) with this screen's name; the kiosk is already quiet whatever the answer. */
function reportSilence(kiosk: string) {
  api.post<{ silenced: number }>('/api/alarms/silence', { kiosk }).catch((error: unknown) => {
    console.warn('silence not recorded by the appliance', error);
  });
}

export function Kiosk() {
  const lang = useLang();
  const [token] = useState(kioskToken);
  const [settings, setSettings] = useState<DashboardView>(DEFAULTS);
  const [link, setLink] = useState<LinkState>('connecting');
  const [, setVersion] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [selected, setSelected] = useState<string | null>(null);
  /** Issue 15.8: the plan picked on a tile or reached by the rotation (null: the first). */
  const [chosen, setChosen] = useState<number | null>(null);
  /** Issue 15.8: the plan's drawn size (the grouping depends on it) and the cluster opened by a tap (its detectors). */
  const [layerSize, setLayerSize] = useState({ width: 0, height: 0 });
  const [openCluster, setOpenCluster] = useState<string[] | null>(null);
  const grouping = useRef(groupingMemo()).current;
  const fleet = useRef(new Fleet()).current;
  const linkRef = useRef<LiveLink | null>(null);
  const annunciator = useRef(new Annunciator()).current;
  const sounder = useRef<AlarmSounder | null>(null);
  const [audio, setAudio] = useState<AudioState>('blocked');
  const [flash, setFlash] = useState<AlarmView | null>(null);
  const [, setSilences] = useState(0);
  const name = useMemo(() => kioskName(token), [token]);

  // The sounder lives as long as the kiosk; its state drives the "sound off" banner.
  useEffect(() => {
    if (!token) return;
    const created = createAlarmSounder();
    sounder.current = created;
    setAudio(created.state());
    const unsubscribe = created.onState(setAudio);
    return () => {
      unsubscribe();
      created.close();
      sounder.current = null;
    };
  }, [token]);

  useEffect(() => {
    if (!flash) return;
    const timer = window.setTimeout(() => setFlash(null), FLASH_MS);
    return () => window.clearTimeout(timer);
  }, [flash]);

  // Kiosk settings and the floor plan: at start and every minute (a new image shows without a reload).
  useEffect(() => {
    if (!token) return;
    setApiToken(token);
    let timer = 0;
    const load = () => api.get<DashboardView>('/api/config/dashboard').then((view) => {
      setSiteTimezone(view.timezone);
      setSettings(view);
      linkRef.current?.setTimeoutMs(view.connection_timeout_s * 1000);
    }, (error) => {
      if (error instanceof ApiError && error.code === 10002) setLink('unauthorized');
    });
    void load();
    timer = window.setInterval(load, SETTINGS_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [token]);

  useEffect(() => {
    if (!token) return;
    const live = createLiveLink({
      token,
      timeoutMs: DEFAULTS.connection_timeout_s * 1000,
      onMessage: (message) => {
        const flashFor = annunciator.take(message);
        if (fleet.apply(message)) setVersion(fleet.version);
        if (flashFor) setFlash(flashFor);
      },
      onState: setLink,
    });
    linkRef.current = live;
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      live.stop();
      window.clearInterval(tick);
    };
  }, [token]);

  // The trend: subscribe on select, again every minute, and after a reconnect.
  useEffect(() => {
    if (!selected || link !== 'live') return;
    fleet.history = null;
    linkRef.current?.send({ type: 'subscribe', sn: selected });
    const timer = window.setInterval(() => linkRef.current?.send({ type: 'subscribe', sn: selected }), HISTORY_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [selected, link === 'live']);

  // Devices registered after the snapshot show up in realtime batches first: fetch each once a while.
  const asked = useRef(new Map<string, number>()).current;
  useEffect(() => {
    for (const sn of fleet.unknown) {
      if (Date.now() - (asked.get(sn) ?? 0) < UNKNOWN_RETRY_MS) continue;
      asked.set(sn, Date.now());
      api.get<DeviceView>(`/api/devices/${encodeURIComponent(sn)}`).then((view) => {
        fleet.addFromView(view);
        setVersion(fleet.version);
      }, () => undefined);
    }
  });

  const select = useMemo(() => (sn: string) => setSelected((current) => (current === sn ? null : sn)), []);

  // Issue 15.8: which plan is on screen. An active critical or gas alarm brings its plan forward.
  const plans = settings.plans;
  const planOfPlaced = (d: LiveDeviceInfo | undefined) => (d && d.pos_x !== null && d.pos_y !== null ? planOf(settings, d.sn) : null);
  const forced = plans.length > 1 ? forwardPlan(fleet.alarms.values(), (sn) => planOfPlaced(fleet.devices.get(sn))) : null;
  const shownPlan = forced ?? (chosen !== null && plans.some((p) => p.id === chosen) ? chosen : plans[0]!.id);
  useEffect(() => {
    if (plans.length < 2 || settings.rotate_s <= 0 || forced !== null) return;
    const timer = window.setInterval(() => setChosen((current) => {
      const at = plans.findIndex((p) => p.id === (current ?? plans[0]!.id));
      return plans[(at + 1) % plans.length]!.id;
    }), settings.rotate_s * 1000);
    return () => window.clearInterval(timer);
  }, [plans.map((p) => p.id).join(), settings.rotate_s, forced]);
  useEffect(() => setOpenCluster(null), [shownPlan]); // a cluster's list belongs to the plan it was opened on

  // What could sound now, and the loudest pattern not silenced.
  const alarms = fleet.alarmList();
  const linkDown = link === 'lost' || link === 'stale';
  annunciator.link(linkDown);
  const sources: SoundSource[] = alarms.map(alarmSource);
  if (linkDown) sources.push(LINK_SOURCE);
  const unauthorized = !token || link === 'unauthorized';
  const pattern = unauthorized ? null : annunciator.pattern(sources);
  const soundState = unauthorized ? 'quiet' : annunciator.soundState(sources);
  useEffect(() => sounder.current?.play(pattern), [pattern, audio]);
  const sourcesRef = useRef(sources);
  sourcesRef.current = sources;
  const silence = useCallback(() => {
    annunciator.silence(sourcesRef.current);
    sounder.current?.play(annunciator.pattern(sourcesRef.current)); // at once, not at the next render
    setSilences((n) => n + 1);
    reportSilence(name);
  }, [name]);

  if (unauthorized) {
    return (
      <div class="kiosk kiosk-message" data-link="unauthorized">
        <h1>{t('kiosk.tokenInvalid')}</h1>
        <p>{t('kiosk.tokenHelp')}</p>
        <a class="button" href="/admin" onClick={() => forgetKioskToken()}>{t('kiosk.toAdmin')}</a>
      </div>
    );
  }

  const linkLive = link === 'live';
  const serverNow = fleet.serverNow();
  const staleAfterMs = settings.stale_after_s * 1000;
  const devices = [...fleet.devices.values()].filter((d) => d.kind !== 'output'); // issue 15.5: output modules are no detectors on the gas picture
  const placed = devices.filter((d) => d.pos_x !== null && d.pos_y !== null);
  const unplaced = devices.filter((d) => d.pos_x === null || d.pos_y === null);
  const plan = plans.find((p) => p.id === shownPlan) ?? plans[0]!;
  const image = plan.background ? plan.background.url : null; // signed by the server for a few minutes: no token in the URL
  const onPlan = placed.filter((d) => planOfPlaced(d) === plan.id);
  const dense = onPlan.length > DENSE_MARKERS;
  const summaries = plans.length > 1
    ? summarizePlans(plans, placed.map((d) => ({ plan: planOfPlaced(d)!, state: stateOfLook(lookOf(d, linkLive, isStale(d, serverNow, staleAfterMs), serverNow)) })))
    : null;
  /** A detector's marker on the plan at its place, or (`listed`: the unplaced strip, a cluster's list) in a row. */
  const marker = (d: LiveDeviceInfo, listed = false) => {
    const stale = isStale(d, serverNow, staleAfterMs);
    return (
      <Marker key={d.sn} sn={d.sn} label={d.name} ppm={stale ? null : d.ppm} unit={d.unit} look={lookOf(d, linkLive, stale, serverNow)}
        x={listed ? null : d.pos_x} y={listed ? null : d.pos_y} selected={selected === d.sn} lang={lang} onSelect={select} bat={d.bat} rssi={d.rssi} maskedLeft={maskMinutesLeft(d, serverNow)} />
    );
  };
  // Issue 15.8: on a dense plan, dots that would cover each other become clusters.
  const stateOf = (d: LiveDeviceInfo): PlanState => stateOfLook(lookOf(d, linkLive, isStale(d, serverNow, staleAfterMs), serverNow));
  const footprint = window.matchMedia('(max-width: 800px)').matches ? KIOSK_FOOTPRINT.narrow : KIOSK_FOOTPRINT.wide;
  const groups: PlanGroup[] | null = dense
    ? grouping(onPlan.map((d) => ({ key: d.sn, x: d.pos_x!, y: d.pos_y!, w: footprint.dot, h: footprint.dot })), layerSize, { w: footprint.cluster, h: footprint.cluster })
    : null;
  const drawGroup = (group: PlanGroup) => {
    const members = group.keys.map((sn) => fleet.devices.get(sn)!).filter(Boolean);
    if (members.length === 1) return marker(members[0]!);
    return (
      <ClusterMarker key={`cluster:${group.keys[0]}`} group={group} state={worstOf(members.map(stateOf))} names={members.map((d) => d.name || d.sn).join(', ')}
        open={openCluster?.[0] === group.keys[0]} selected={selected !== null && group.keys.includes(selected)}
        onOpen={(keys) => setOpenCluster((current) => (current?.[0] === keys[0] ? null : keys))} />
    );
  };
  const listed = openCluster?.map((sn) => fleet.devices.get(sn)).filter((d): d is LiveDeviceInfo => d !== undefined && planOfPlaced(d) === plan.id) ?? [];
  const selectedDevice = selected ? fleet.devices.get(selected) : undefined;
  const first = firstAlarm(alarms);

  return (
    <div class={`kiosk${linkLive ? '' : ' link-down'}`} data-plan={plan.id} data-link={link} data-sound={soundState} data-pattern={pattern ?? ''} data-audio={audio}>
      <TopBar title={settings.title} counts={fleet.counts} masked={maskedCount(devices, serverNow)} link={link} now={now} />
      <SoundOffBanner audio={audio} onEnable={() => sounder.current?.unlock()} />
      {!linkLive && (
        <div class="kiosk-banner" role="alert" data-banner={link}>
          {link === 'connecting' ? t('kiosk.connecting') : link === 'stale' ? t('kiosk.stale', { s: settings.connection_timeout_s }) : t('kiosk.lost')}
        </div>
      )}
      <main class="kiosk-main">
        <div class="kiosk-plans">
          {summaries && <PlanTiles plans={plans} summaries={summaries} current={plan.id} forced={forced} onPick={setChosen} />}
          <PlanFrame image={image} class={`kiosk-plan${dense ? ' dense' : ''}`} onSize={setLayerSize}>
            {groups ? groups.map(drawGroup) : onPlan.map((d) => marker(d))}
            {placed.length === 0 && devices.length > 0 && <p class="plan-hint">{t('kiosk.nothingPlaced')}</p>}
          </PlanFrame>
          {listed.length > 0 && <ClusterList devices={listed} stateOf={stateOf} marker={(d) => marker(d, true)} onClose={() => setOpenCluster(null)} />}
        </div>
        <aside class="kiosk-side">
          <SilenceButton state={soundState} pattern={pattern} onSilence={silence} />
          <FirstAlarm alarm={first} device={first?.sn ? fleet.devices.get(first.sn) : undefined} dim={!linkLive} />
          <AlarmList alarms={alarms} devices={fleet.devices} dim={!linkLive} firstId={first?.id ?? null} />
          {selectedDevice && (
            <TrendPanel device={selectedDevice} points={fleet.history?.sn === selected ? fleet.history.points : null} serverNow={serverNow} onClose={() => setSelected(null)} />
          )}
        </aside>
      </main>
      {settings.show_unplaced && unplaced.length > 0 && (
        <footer class="kiosk-unplaced" data-unplaced={unplaced.length}>
          <span class="unplaced-label">{t('kiosk.unplaced')}</span>
          <div class="unplaced-list">{unplaced.map((d) => marker(d, true))}</div>
        </footer>
      )}
      {flash && <AlarmFlash alarm={flash} device={flash.sn ? fleet.devices.get(flash.sn) : undefined} />}
    </div>
  );
}
