// UI-2 top bar (seed §6.1): online / offline / alarm counts, the link state and a clock.
import type { LiveCounts } from '../../../appliance/contract/live.ts';
import { formatTime, lang, setLang, t } from '../i18n/i18n.ts';
import type { LinkState } from '../lib/live-link.ts';

export function TopBar(props: { title: string; counts: LiveCounts; link: LinkState; now: number; /** issue 15.1: detectors masked now */ masked?: number }) {
  const { counts, link } = props;
  const down = link !== 'live';
  const [date, time] = formatTime(props.now).split(' ');
  return (
    <header class="kiosk-top">
      <h1 class="kiosk-title">{props.title || t('kiosk.title')}</h1>
      <div class={`count count-online${down ? ' dim' : ''}`} data-count="online">
        <span class="count-label">{t('kiosk.online')}</span>
        <span class="count-value">{down ? '—' : counts.online}</span>
      </div>
      <div class={`count count-offline${down ? ' dim' : ''}`} data-count="offline">
        <span class="count-label">{t('kiosk.offline')}</span>
        <span class="count-value">{down ? '—' : counts.offline}</span>
      </div>
      <div class={`count count-alarm${counts.alarm > 0 && !down ? ' hot' : ''}${down ? ' dim' : ''}`} data-count="alarm">
        <span class="count-label">{t('kiosk.alarm')}</span>
        <span class="count-value">{down ? '—' : counts.alarm}</span>
      </div>
      {(props.masked ?? 0) > 0 && (
        <div class={`count count-masked${down ? ' dim' : ''}`} data-count="masked">
          <span class="count-label">{t('kiosk.masked')}</span>
          <span class="count-value">{down ? '—' : props.masked}</span>
        </div>
      )}
      <div class="clock">
        <span class="clock-date">{date}</span>
        <span class="clock-time">{time}</span>
      </div>
      <div class={`link link-${link}`} data-link={link}>{t(`link.${link}`)}</div>
      {document.fullscreenEnabled && !document.fullscreenElement && (
        <button type="button" class="fullscreen" title={t('kiosk.fullscreen')} onClick={() => void document.documentElement.requestFullscreen().catch(() => undefined)}>
          <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" stroke="currentColor" fill="none" stroke-width="2" /></svg>
        </button>
      )}
      <button type="button" class="lang-switch" onClick={() => setLang(lang() === 'zh-CN' ? 'en' : 'zh-CN')}>
        {lang() === 'zh-CN' ? 'EN' : '中文'}
      </button>
    </header>
  );
}
