// The kiosk's settings (UI-2, seed §6.2): a title, the floor plans and how soon data counts as
// stale. Device positions live with the devices (percent of the image); which plan a placed device
// is drawn on lives here (issue 15.8: a plant has buildings and floors, so several plans).
import { Type, type Static } from '@sinclair/typebox';

export const DashboardSettings = Type.Object(
  {
    title: Type.String({ maxLength: 80, default: '' }),
    /** The kiosk shows "data stale" when a device's newest reading is older than this. */
    stale_after_s: Type.Integer({ minimum: 10, maximum: 3600, default: 120 }),
    /** The kiosk shows "connection lost" when no realtime batch came for this long. */
    connection_timeout_s: Type.Integer({ minimum: 3, maximum: 120, default: 5 }),
    show_unplaced: Type.Boolean({ default: true }),
    /**
     * Issue 15.8: with several plans the kiosk shows the next one every this many seconds (0: it
     * stays on the one chosen). A plan with an active critical or gas alarm is brought forward
     * whatever this says, and stays while that alarm is active.
     */
    rotate_s: Type.Integer({ minimum: 0, maximum: 3600, default: 0 }),
  },
  { additionalProperties: false },
);
export type DashboardSettings = Static<typeof DashboardSettings>;

export const BackgroundInfo = Type.Object({
  content_type: Type.String(),
  size: Type.Integer(),
  uploaded_at: Type.String({ format: 'date-time' }),
  /** A URL signed for a few minutes (no token needed, none accepted in the query); or GET the path with a Bearer header */
  url: Type.String(),
});

export const PLAN_NAME_MAX = 60;
/** At most this many plans per site (each an image of ≤ 5 MB in the data dir). */
export const PLANS_MAX = 50;

export const PlanView = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  /** Empty for the plan carried over from the single-plan shape: the screens call it "Plan 1". */
  name: Type.String({ maxLength: PLAN_NAME_MAX }),
  background: Type.Union([BackgroundInfo, Type.Null()]),
});
export type PlanView = Static<typeof PlanView>;

export const DashboardView = Type.Object({
  ...DashboardSettings.properties,
  /** The first plan's image (the single-plan shape, kept for older screens). */
  background: Type.Union([BackgroundInfo, Type.Null()]),
  /** Issue 15.8: the floor plans in order; always at least one. */
  plans: Type.Array(PlanView, { minItems: 1 }),
  /**
   * The plan each placed device is drawn on, by serial; a placed device not listed is on the first
   * plan (so the devices placed before there were several plans stay where they were).
   */
  device_plans: Type.Record(Type.String(), Type.Integer({ minimum: 1 })),
  updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** The site's timezone and language (OPS-5): the kiosk's clock and times follow the plant, not the PC. */
  timezone: Type.String(),
  language: Type.String(),
});
export type DashboardView = Static<typeof DashboardView>;

export const DashboardUpdate = Type.Partial(DashboardSettings, { additionalProperties: false, minProperties: 1 });

export const PlanParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export const PlanWrite = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: PLAN_NAME_MAX, pattern: '\\S' }) },
  { additionalProperties: false },
);
export type PlanWrite = Static<typeof PlanWrite>;

/** Devices put on (x, y in percent of this plan's image) or taken off (null) one plan, all or none. */
export const PlanPositions = Type.Object(
  {
    positions: Type.Array(
      Type.Object(
        {
          sn: Type.String({ minLength: 1, maxLength: 32 }),
          x: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
          y: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);
export type PlanPositions = Static<typeof PlanPositions>;

/** The plan a placed device is drawn on (a device not listed is on the first plan). */
export function planOf(view: { plans: readonly { id: number }[]; device_plans: Record<string, number> }, sn: string): number {
  return view.device_plans[sn] ?? view.plans[0]!.id;
}

/** Floor-plan images: at most 5 MB, PNG or JPEG (checked by content, not by name). */
export const BACKGROUND_MAX_BYTES = 5 * 1024 * 1024;
