// Issue 15.5: linkage rules (联动, GB 16808-2025 alarm control outputs), a small editor of the
// `linkage` part of the alarm settings (GET/PUT /api/config/alarm; the server validates, 50001).
// One row per rule: the zone's detectors, the level, the two-signal confirmation, the action
// (a relay of an output module, or a webhook) and whether the output is released when it clears.
import { useEffect, useState } from 'preact/hooks';
import type { AlarmSettings } from '../../../appliance/contract/alarm.ts';
import type { LinkageRule } from '../../../appliance/contract/linkage.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { inputChecked, inputValue, Notice, useAction, useLoad } from '../lib/ui.tsx';

type Saved = AlarmSettings & { updated_at?: string | null };

const newRule = (n: number): LinkageRule => ({
  id: `rule-${n}`, name: '', enabled: true, detectors: [], level: 2, confirm: true, action: { kind: 'relay', sn: '', ch: 1 }, release: true,
});

const serials = (text: string) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

export function LinkagePage() {
  const loaded = useLoad(() => api.get<Saved>('/api/config/alarm'), []);
  const [rules, setRules] = useState<LinkageRule[]>([]);
  const save = useAction();
  useEffect(() => {
    if (loaded.data) setRules(loaded.data.linkage ?? []);
  }, [loaded.data]);
  const change = (i: number, rule: LinkageRule) => setRules(rules.map((r, j) => (j === i ? rule : r)));

  async function submit() {
    if (!loaded.data) return;
    const { updated_at: _, ...settings } = loaded.data;
    await save.run(() => api.put('/api/config/alarm', { ...settings, linkage: rules }).then(() => loaded.reload()), t('linkage.saved'));
  }

  return (
    <section class="page" data-page="linkage">
      <h1>{t('linkage.title')}</h1>
      <p class="field-hint">{t('linkage.hint')}</p>
      <Notice error={loaded.error} />
      <div class="table-wrap">
        <table class="table" data-table="linkage">
          <thead>
            <tr>
              <th>{t('linkage.id')}</th><th>{t('linkage.detectors')}</th><th>{t('linkage.level')}</th><th>{t('linkage.confirm')}</th>
              <th>{t('linkage.action')}</th><th>{t('linkage.release')}</th><th>{t('linkage.enabled')}</th><th />
            </tr>
          </thead>
          <tbody>
            {rules.map((rule, i) => (
              <tr key={i} data-rule={rule.id}>
                <td>
                  <input name="id" aria-label={t('linkage.id')} value={rule.id} onInput={(e) => change(i, { ...rule, id: inputValue(e) })} />
                  <input name="name" aria-label={t('linkage.name')} placeholder={t('linkage.name')} value={rule.name} onInput={(e) => change(i, { ...rule, name: inputValue(e) })} />
                </td>
                <td>
                  <textarea name="detectors" aria-label={t('linkage.detectors')} rows={2} value={rule.detectors.join(', ')}
                    onChange={(e) => change(i, { ...rule, detectors: serials(inputValue(e)) })} />
                </td>
                <td>
                  <select name="level" aria-label={t('linkage.level')} value={rule.level} onChange={(e) => change(i, { ...rule, level: inputValue(e) === '1' ? 1 : 2 })}>
                    <option value="1">{t('linkage.level1')}</option>
                    <option value="2">{t('linkage.level2')}</option>
                  </select>
                </td>
                <td><input type="checkbox" name="confirm" aria-label={t('linkage.confirm')} checked={rule.confirm} onChange={(e) => change(i, { ...rule, confirm: inputChecked(e) })} /></td>
                <td>
                  <select name="kind" aria-label={t('linkage.action')} value={rule.action.kind}
                    onChange={(e) => change(i, { ...rule, action: inputValue(e) === 'webhook' ? { kind: 'webhook', url: '' } : { kind: 'relay', sn: '', ch: 1 } })}>
                    <option value="relay">{t('linkage.relay')}</option>
                    <option value="webhook">{t('linkage.webhook')}</option>
                  </select>
                  {rule.action.kind === 'relay' ? (
                    <>
                      <input name="sn" aria-label={t('linkage.module')} placeholder={t('linkage.module')} value={rule.action.sn}
                        onInput={(e) => change(i, { ...rule, action: { ...(rule.action as { kind: 'relay'; sn: string; ch: number }), sn: inputValue(e).trim() } })} />
                      <input type="number" name="ch" min={1} max={32} aria-label={t('linkage.channel')} value={rule.action.ch}
                        onInput={(e) => change(i, { ...rule, action: { ...(rule.action as { kind: 'relay'; sn: string; ch: number }), ch: Math.round(Number(inputValue(e))) } })} />
                    </>
                  ) : (
                    <input name="url" type="url" aria-label="URL" placeholder="https://…" value={rule.action.url}
                      onInput={(e) => change(i, { ...rule, action: { kind: 'webhook', url: inputValue(e).trim() } })} />
                  )}
                </td>
                <td><input type="checkbox" name="release" aria-label={t('linkage.release')} checked={rule.release} onChange={(e) => change(i, { ...rule, release: inputChecked(e) })} /></td>
                <td><input type="checkbox" name="enabled" aria-label={t('linkage.enabled')} checked={rule.enabled} onChange={(e) => change(i, { ...rule, enabled: inputChecked(e) })} /></td>
                <td><button type="button" onClick={() => setRules(rules.filter((_, j) => j !== i))}>{t('common.remove')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p>
        <button type="button" onClick={() => setRules([...rules, newRule(rules.length + 1)])}>{t('linkage.add')}</button>{' '}
        <button type="button" class="primary" disabled={save.busy || !loaded.data} onClick={submit}>{t('common.save')}</button>
      </p>
      <Notice error={save.error} ok={save.ok} />
    </section>
  );
}
