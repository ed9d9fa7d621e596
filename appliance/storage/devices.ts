// STO-2 devices: the repository the broker (credentials), ingest (calibration), the CLI and the
// API all read and write through.
import type { Db } from './db.ts';
import type { DeviceKind } from '../contract/device.ts';

export interface Calibration {
  k: number;
  b: number;
  t_ref: number;
  t_comp: number;
}

export interface Device {
  sn: string;
  sn_id: number;
  /** Issue 15.5: a gas detector, or an output module (relay box) that measures nothing; fixed at registration. */
  kind: DeviceKind;
  name: string;
  location: string;
  pos_x: number | null;
  pos_y: number | null;
  gas: string;
  unit: string;
  calib: Calibration;
  range_max: number;
  /** ALM-9: the first-level (一级) setpoint; high2_limit the second level (二级) above it. */
  high_limit: number | null;
  high2_limit: number | null;
  low_limit: number | null;
  enabled: boolean;
  /** null: the factory-derived password is the credential (DEV-5). */
  password_hash: string | null;
  status: 'online' | 'offline';
  last_seen: number | null;
  created_at: number;
  updated_at: number;
}

/** The settings an admin may set; everything else is derived or kept by the appliance. */
export type DeviceSettings = Pick<
  Device,
  'name' | 'location' | 'pos_x' | 'pos_y' | 'gas' | 'unit' | 'calib' | 'range_max' | 'high_limit' | 'high2_limit' | 'low_limit' | 'enabled'
>;

interface DeviceRow {
  sn: string;
  sn_id: number;
  kind: string;
  name: string;
  location: string;
  pos_x: number | null;
  pos_y: number | null;
  gas: string;
  unit: string;
  calib_k: number;
  calib_b: number;
  calib_t_ref: number;
  calib_t_comp: number;
  range_max: number;
  high_limit: number | null;
  high2_limit: number | null;
  low_limit: number | null;
  enabled: number;
  password_hash: string | null;
  status: string;
  last_seen: number | null;
  created_at: number;
  updated_at: number;
}

function fromRow(row: DeviceRow): Device {
  return {
    sn: row.sn,
    sn_id: row.sn_id,
    kind: row.kind === 'output' ? 'output' : 'detector',
    name: row.name,
    location: row.location,
    pos_x: row.pos_x,
    pos_y: row.pos_y,
    gas: row.gas,
    unit: row.unit,
    calib: { k: row.calib_k, b: row.calib_b, t_ref: row.calib_t_ref, t_comp: row.calib_t_comp },
    range_max: row.range_max,
    high_limit: row.high_limit,
    high2_limit: row.high2_limit,
    low_limit: row.low_limit,
    enabled: row.enabled === 1,
    password_hash: row.password_hash,
    status: row.status === 'online' ? 'online' : 'offline',
    last_seen: row.last_seen,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function settingsParams(settings: DeviceSettings) {
  return {
    name: settings.name,
    location: settings.location,
    pos_x: settings.pos_x,
    pos_y: settings.pos_y,
    gas: settings.gas,
    unit: settings.unit,
    calib_k: settings.calib.k,
    calib_b: settings.calib.b,
    calib_t_ref: settings.calib.t_ref,
    calib_t_comp: settings.calib.t_comp,
    range_max: settings.range_max,
    high_limit: settings.high_limit,
    high2_limit: settings.high2_limit,
    low_limit: settings.low_limit,
    enabled: settings.enabled ? 1 : 0,
  };
}

export interface DeviceListQuery {
  search?: string;
  status?: 'online' | 'offline';
  limit?: number;
  offset?: number;
}

export function createDeviceRepository(db: Db) {
  const selectAll = db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY sn');
  const selectOne = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE sn = ?');
  const selectSerial = db.prepare<[string], { id: number }>('SELECT id FROM serials WHERE sn = ?');
  const insertSerial = db.prepare<[string]>('INSERT INTO serials (sn) VALUES (?)');
  const insertDevice = db.prepare(`
    INSERT INTO devices (sn, sn_id, kind, name, location, pos_x, pos_y, gas, unit, calib_k, calib_b, calib_t_ref,
      calib_t_comp, range_max, high_limit, high2_limit, low_limit, enabled, password_hash, created_at, updated_at)
    VALUES (@sn, @sn_id, @kind, @name, @location, @pos_x, @pos_y, @gas, @unit, @calib_k, @calib_b, @calib_t_ref,
      @calib_t_comp, @range_max, @high_limit, @high2_limit, @low_limit, @enabled, @password_hash, @now, @now)`);
  const updateDevice = db.prepare(`
    UPDATE devices SET name = @name, location = @location, pos_x = @pos_x, pos_y = @pos_y, gas = @gas,
      unit = @unit, calib_k = @calib_k, calib_b = @calib_b, calib_t_ref = @calib_t_ref,
      calib_t_comp = @calib_t_comp, range_max = @range_max, high_limit = @high_limit, high2_limit = @high2_limit,
      low_limit = @low_limit, enabled = @enabled, updated_at = @now
    WHERE sn = @sn`);
  const updatePassword = db.prepare<[string | null, number, string]>(
    'UPDATE devices SET password_hash = ?, updated_at = ? WHERE sn = ?',
  );
  const updateStatus = db.prepare<[string, number | null, string]>(
    'UPDATE devices SET status = ?, last_seen = coalesce(?, last_seen) WHERE sn = ?',
  );
  const deleteDevice = db.prepare<[string]>('DELETE FROM devices WHERE sn = ?');
  const updatePosition = db.prepare<[number | null, number | null, number, string]>(
    'UPDATE devices SET pos_x = ?, pos_y = ?, updated_at = ? WHERE sn = ?',
  );
  const selectVersion = db.prepare<[], { version: number }>('SELECT version FROM device_changes');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM devices');

  function serialId(sn: string): number {
    const existing = selectSerial.get(sn);
    if (existing) return existing.id;
    return Number(insertSerial.run(sn).lastInsertRowid);
  }

  return {
    list(query: DeviceListQuery = {}): { total: number; items: Device[] } {
      const where: string[] = [];
      const params: Record<string, unknown> = {};
      if (query.search) {
        where.push("(sn LIKE @search ESCAPE '\\' OR name LIKE @search ESCAPE '\\' OR location LIKE @search ESCAPE '\\')");
        params.search = `%${query.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      }
      if (query.status) {
        where.push('status = @status');
        params.status = query.status;
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = (db.prepare(`SELECT count(*) AS n FROM devices ${clause}`).get(params) as { n: number }).n;
      const rows = db
        .prepare(`SELECT * FROM devices ${clause} ORDER BY sn LIMIT @limit OFFSET @offset`)
        .all({ ...params, limit: query.limit ?? -1, offset: query.offset ?? 0 }) as DeviceRow[];
      return { total, items: rows.map(fromRow) };
    },
    all: (): Device[] => selectAll.all().map(fromRow),
    get(sn: string): Device | undefined {
      const row = selectOne.get(sn);
      return row && fromRow(row);
    },
    count: (): number => countAll.get()!.n,
    /** Registers a device (a detector unless told otherwise); the caller has validated the settings. */
    insert(sn: string, settings: DeviceSettings, passwordHash: string | null, now: number, kind: DeviceKind = 'detector'): Device {
      return db.transaction(() => {
        insertDevice.run({ sn, sn_id: serialId(sn), kind, ...settingsParams(settings), password_hash: passwordHash, now });
        return fromRow(selectOne.get(sn)!);
      }).immediate();
    },
    update(sn: string, settings: DeviceSettings, now: number): Device | undefined {
      const changed = updateDevice.run({ sn, ...settingsParams(settings), now }).changes;
      return changed ? fromRow(selectOne.get(sn)!) : undefined;
    },
    setPasswordHash(sn: string, passwordHash: string | null, now: number): boolean {
      return updatePassword.run(passwordHash, now, sn).changes > 0;
    },
    /** false: no such device. */
    setStatus(sn: string, status: 'online' | 'offline', lastSeen: number | null): boolean {
      return updateStatus.run(status, lastSeen, sn).changes > 0;
    },
    /** Places devices on the floor plan, all or none (an unknown serial rolls every change back). */
    setPositions(positions: { sn: string; x: number | null; y: number | null }[], now: number): string[] {
      return db.transaction(() => {
        const unknown = positions.filter((p) => updatePosition.run(p.x, p.y, now, p.sn).changes === 0).map((p) => p.sn);
        if (unknown.length) throw Object.assign(new Error('unknown devices'), { unknown });
        return positions.map((p) => p.sn);
      }).immediate();
    },
    /** Removes the device; its readings stay (keyed by the serial's id) for history and archive. */
    remove: (sn: string): boolean => deleteDevice.run(sn).changes > 0,
    /** Changes with every settings change by any connection or process. */
    changeVersion: (): number => selectVersion.get()!.version,
  };
}
export type DeviceRepository = ReturnType<typeof createDeviceRepository>;
