// ALM-16 / UI-6 (issue 15.3): GET /api/devices/{sn}/exposure — the rolling 15-minute and 8-hour
// averages of a toxic-gas detector against GBZ 2.1-2019's PC-STEL and PC-TWA, computed now from
// the stored per-minute averages by the same code the exposure job judges with (exposure/).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { iso } from '../../contract/api.ts';
import { SnParams } from '../../contract/device.ts';
import { ExposureView, type ExposureView as ExposureViewType } from '../../contract/exposure.ts';
import type { ExposureFigures, WindowFigures } from '../../exposure/figures.ts';
import type { ApiDeps } from '../deps.ts';

const round = (value: number | null, digits = 3) => (value === null ? null : Number(value.toFixed(digits)));

function windowView(window: WindowFigures, alarmActive: boolean): ExposureViewType['stel'] {
  return {
    start: iso(window.from),
    end: iso(window.to),
    window_min: Math.round(window.window_ms / 60_000),
    average: round(window.average),
    average_mg_m3: round(window.average_mg_m3),
    limit: round(window.limit),
    limit_mg_m3: window.limit_mg_m3,
    coverage: round(window.coverage, 4)!,
    over: window.over,
    alarm_active: alarmActive,
  };
}

export function exposureView(figures: ExposureFigures, at: number): ExposureViewType {
  return {
    sn: figures.sn,
    gas: figures.gas,
    unit: figures.unit,
    watched: figures.watched,
    limits: { ...figures.limits, unit: 'mg/m3' },
    stel: windowView(figures.stel, figures.stel_alarm),
    twa: windowView(figures.twa, figures.twa_alarm),
    at: iso(at),
    resolution_s: 60,
    max_hold_s: Math.round(figures.max_hold_ms / 1000),
  };
}

export function exposureRoutes(deps: Pick<ApiDeps, 'clock' | 'devices' | 'exposure'>) {
  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get('/api/devices/:sn/exposure', {
      schema: {
        tags: ['devices'],
        summary: 'ALM-16: rolling 15-minute (STEL) and 8-hour (TWA) averages against GBZ 2.1-2019 PC-STEL / PC-TWA',
        params: SnParams,
        response: { 200: ExposureView },
      },
      config: { access: 'viewer', invalid: 'DEVICE_INVALID' },
    }, async (request) => {
      const device = deps.devices.get(request.params.sn); // DEVICE_NOT_FOUND (40001) when unknown
      const now = deps.clock.now();
      return exposureView(deps.exposure.figuresOf(device, now), now);
    });
  };
}
