// The kiosk's settings (UI-2, seed §6.2): a title, the floor-plan image and how soon data counts
// as stale. Device positions live with the devices (percent of the image).
import { Type, type Static } from '@sinclair/typebox';

export const DashboardSettings = Type.Object(
  {
    title: Type.String({ maxLength: 80, default: '' }),
    /** The kiosk shows "data stale" when a device's newest reading is older than this. */
    stale_after_s: Type.Integer({ minimum: 10, maximum: 3600, default: 120 }),
    /** The kiosk shows "connection lost" when no realtime batch came for this long. */
    connection_timeout_s: Type.Integer({ minimum: 3, maximum: 120, default: 5 }),
    show_unplaced: Type.Boolean({ default: true }),
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

export const DashboardView = Type.Object({
  ...DashboardSettings.properties,
  background: Type.Union([BackgroundInfo, Type.Null()]),
  updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** The site's timezone and language (OPS-5): the kiosk's clock and times follow the plant, not the PC. */
  timezone: Type.String(),
  language: Type.String(),
});
export type DashboardView = Static<typeof DashboardView>;

export const DashboardUpdate = Type.Partial(DashboardSettings, { additionalProperties: false, minProperties: 1 });

/** Floor-plan images: at most 5 MB, PNG or JPEG (checked by content, not by name). */
export const BACKGROUND_MAX_BYTES = 5 * 1024 * 1024;
