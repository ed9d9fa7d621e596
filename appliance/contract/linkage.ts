// Issue 15.5: linkage (联动) — GB 16808-2025's alarm control outputs. A rule says "when these
// detectors reach gas level L, do this": switch a relay of an output module (a fan, a shut-off
// valve, a horn) with a DEV-3 command on its `mcs/{sn}/cmd` topic, or call a webhook. With
// `confirm`, two detectors of the rule's zone (its detector list) must be at the level before it
// acts — the standard's two-signal confirmation, so one drifting sensor does not shut a plant down.
// With `release`, the output is switched back (relay off, webhook "release") when the zone no
// longer holds. Rules are part of the alarm settings (AlarmSettingsSchema.linkage).
import { Type, type Static } from '@sinclair/typebox';
import { SN_PATTERN } from './topics.ts';

export const LINKAGE_RULE_ID_PATTERN = '^[A-Za-z0-9_-]{1,32}$';

/** DEV-3 relay command of an output module, `{"cmd":"relay","ch":1,"on":true}` on mcs/{sn}/cmd. */
export const RelayActionSchema = Type.Object(
  {
    kind: Type.Literal('relay'),
    sn: Type.String({ pattern: SN_PATTERN, description: "the output module's serial" }),
    ch: Type.Integer({ minimum: 1, maximum: 32, description: 'relay channel' }),
  },
  { additionalProperties: false },
);

export const WebhookActionSchema = Type.Object(
  {
    kind: Type.Literal('webhook'),
    url: Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://', description: 'POSTed {"rule","action":"fire"|"release",…}' }),
  },
  { additionalProperties: false },
);

export const LinkageRuleSchema = Type.Object(
  {
    id: Type.String({ pattern: LINKAGE_RULE_ID_PATTERN, description: 'stable name; the outbox and journal refer to it' }),
    name: Type.String({ maxLength: 100, default: '' }),
    enabled: Type.Boolean({ default: true }),
    detectors: Type.Array(Type.String({ pattern: SN_PATTERN }), { minItems: 1, maxItems: 500, uniqueItems: true, description: 'the zone: detectors whose HIGH alarms count' }),
    level: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 2, description: 'ALM-9 gas level reached (this level or above)' }),
    confirm: Type.Boolean({ default: false, description: 'GB 16808-2025 two-signal confirmation: two detectors of the zone at the level' }),
    action: Type.Union([RelayActionSchema, WebhookActionSchema]),
    release: Type.Boolean({ default: true, description: 'switch the output back (relay off) when the zone no longer holds' }),
  },
  { additionalProperties: false },
);
export type LinkageRule = Static<typeof LinkageRuleSchema>;

export const LinkageRulesSchema = Type.Array(LinkageRuleSchema, { maxItems: 200, default: [], description: 'issue 15.5: linkage rules (GB 16808-2025 control outputs)' });

/** 'fire': the zone reached the level; 'release': it no longer does. The outbox row's event. */
export type LinkageOrderEvent = 'fire' | 'release';

/** The outbox channel of a rule's actions: `linkage:<rule id>`. */
export const LINKAGE_CHANNEL_PREFIX = 'linkage:';
export const linkageChannel = (ruleId: string) => `${LINKAGE_CHANNEL_PREFIX}${ruleId}`;
export const isLinkageChannel = (channel: string) => channel.startsWith(LINKAGE_CHANNEL_PREFIX);
export const ruleIdOfChannel = (channel: string) => channel.slice(LINKAGE_CHANNEL_PREFIX.length);

/** Rule problems JSON Schema cannot say: unique ids, and a confirmation needs two detectors. */
export function linkageProblems(rules: readonly LinkageRule[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    if (seen.has(rule.id)) problems.push(`/linkage/${i}/id: rule id "${rule.id}" is used twice / 联动规则编号「${rule.id}」重复`);
    seen.add(rule.id);
    if (rule.confirm && rule.detectors.length < 2) {
      problems.push(`/linkage/${i}/detectors: two-signal confirmation needs at least two detectors in the zone / 双信号确认需要区域内至少两个探测器`);
    }
  });
  return problems;
}
