// ALM-9: devices name a gas of the catalogue (contract/gas.ts) and one of its units. Every device,
// setpoint and alarm is kept as it is: only the free-text gas and unit are normalised.
//
// The rule for the devices from before the catalogue, in order:
// 1. The unit's spelling becomes the catalogue's id when it is clearly one of them ('% lel',
//    'LEL' → '%LEL'; '%vol', 'VOL%' → '%VOL'; 'mg/m³' → 'mg/m3'; 'PPM' → 'ppm'); any other unit
//    (e.g. 'ppb') is kept as written.
// 2. The gas column was free text whose default, 'CH4', every device got without anyone choosing
//    it. So a device keeps a catalogue gas only when its record clearly says so:
//    - a gas someone typed that names a catalogue gas other than CH4 (case-insensitive; 'LPG' is
//      C3H8), in one of that gas's units (e.g. H2S in ppm, O2 in %VOL);
//    - CH4 only with the unit % LEL, which only a combustible-gas detector reports in.
//    Every other device becomes 'custom': the standard's bounds are not applied to a gas nobody
//    named, and its setpoints stay as they were (an admin names the gas in the device form).
export const m009_device_gas = {
  version: 9,
  name: 'gas catalogue ids and units on devices',
  sql: /* sql */ `
UPDATE devices SET unit = CASE
    WHEN lower(replace(unit, ' ', '')) IN ('%lel', 'lel', 'lel%') THEN '%LEL'
    WHEN lower(replace(unit, ' ', '')) IN ('%vol', 'vol%', 'vol', '%v/v') THEN '%VOL'
    WHEN lower(replace(replace(unit, ' ', ''), '³', '3')) IN ('mg/m3', 'mg/m^3') THEN 'mg/m3'
    WHEN lower(trim(unit)) = 'ppm' THEN 'ppm'
    ELSE unit END;

UPDATE devices SET gas = CASE
    WHEN upper(trim(gas)) = 'CH4' AND unit = '%LEL' THEN 'CH4'
    WHEN upper(trim(gas)) IN ('C3H8', 'LPG') AND unit IN ('%LEL', '%VOL', 'ppm') THEN 'C3H8'
    WHEN upper(trim(gas)) = 'H2' AND unit IN ('%LEL', '%VOL', 'ppm') THEN 'H2'
    WHEN upper(trim(gas)) = 'CO' AND unit IN ('ppm', 'mg/m3') THEN 'CO'
    WHEN upper(trim(gas)) = 'H2S' AND unit IN ('ppm', 'mg/m3') THEN 'H2S'
    WHEN upper(trim(gas)) = 'NH3' AND unit IN ('ppm', 'mg/m3') THEN 'NH3'
    WHEN upper(trim(gas)) = 'CL2' AND unit IN ('ppm', 'mg/m3') THEN 'Cl2'
    WHEN upper(trim(gas)) = 'O2' AND unit = '%VOL' THEN 'O2'
    WHEN upper(trim(gas)) = 'VOC' AND unit IN ('ppm', 'mg/m3') THEN 'VOC'
    ELSE 'custom' END;
`,
};
