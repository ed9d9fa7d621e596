// ALM-9: the gas catalogue's bounds (GB/T 50493-2019 with GBZ 2.1-2019 OELs) and unit conversions,
// as pure functions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convert, defaultsIn, GAS_IDS, GASES, gasInfo, mgM3ToPpm, MOLAR_VOLUME_L, ppmToMgM3, referenceOel, roundSignificant,
  setpointBounds, setpointViolations,
} from '../../appliance/contract/gas.ts';

const close = (actual: number | null, expected: number, digits = 6) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 10 ** -digits * Math.max(1, Math.abs(expected)), `${actual} ≉ ${expected}`);
const fields = (gas: string, unit: string, setpoints: Parameters<typeof setpointViolations>[2]) =>
  setpointViolations(gas, unit, setpoints).map((v) => v.field);

describe('combustible gases: level 1 at most 25 % LEL, level 2 at most 50 % LEL', () => {
  test('a combustible level-1 setpoint above 25 % LEL is refused; 25 % LEL itself is allowed', () => {
    assert.deepEqual(fields('CH4', '%LEL', { high_limit: 26 }), ['high_limit']);
    assert.deepEqual(fields('CH4', '%LEL', { high_limit: 25 }), []);
    assert.deepEqual(fields('H2', '%LEL', { high_limit: 25.5, high2_limit: 50 }), ['high_limit']);
  });

  test('a level-2 setpoint above 50 % LEL is refused', () => {
    assert.deepEqual(fields('C3H8', '%LEL', { high_limit: 20, high2_limit: 55 }), ['high2_limit']);
    assert.deepEqual(fields('C3H8', '%LEL', { high_limit: 20, high2_limit: 50 }), []);
  });

  test('the bound follows the device unit: CH4 (LEL 5 %VOL) 25 % LEL is 1.25 %VOL and 12 500 ppm', () => {
    assert.deepEqual(fields('CH4', '%VOL', { high_limit: 1.25 }), []);
    assert.deepEqual(fields('CH4', '%VOL', { high_limit: 1.3 }), ['high_limit']);
    assert.deepEqual(fields('CH4', 'ppm', { high_limit: 12_500, high2_limit: 25_000 }), []);
    assert.deepEqual(fields('CH4', 'ppm', { high_limit: 12_600, high2_limit: 25_100 }), ['high_limit', 'high2_limit']);
    // propane's LEL is 2.1 %VOL: 25 % LEL = 5 250 ppm
    assert.deepEqual(fields('C3H8', 'ppm', { high_limit: 5250 }), []);
    assert.deepEqual(fields('C3H8', 'ppm', { high_limit: 5300 }), ['high_limit']);
  });

  test('the reason names the level, the value, the bound and the standard in English and Chinese', () => {
    const [v] = setpointViolations('CH4', '%LEL', { high_limit: 30 });
    assert.equal(v.limit, 25);
    assert.match(v.en, /level-1 setpoint 30 % LEL is above 25 % LEL .*GB\/T 50493-2019.*Methane/);
    assert.match(v['zh-CN'], /甲烷的一级报警设定值 30 % LEL 超过 GB\/T 50493-2019 允许的上限 25 % LEL/);
  });
});

describe('toxic gases: level 1 at most 100 % OEL, level 2 at most 200 % OEL (GBZ 2.1-2019)', () => {
  test('the OEL is MAC where GBZ 2.1 gives one, else PC-TWA', () => {
    assert.equal(referenceOel(GASES.H2S), 10); // MAC
    assert.equal(referenceOel(GASES.Cl2), 1); // MAC
    assert.equal(referenceOel(GASES.CO), 20); // PC-TWA (PC-STEL 30)
    assert.equal(referenceOel(GASES.NH3), 20);
    assert.equal(GASES.CO.oel!.pc_stel, 30);
    assert.equal(referenceOel(GASES.CH4), null);
  });

  test('in mg/m³ the bounds are the OEL and twice it', () => {
    assert.deepEqual(fields('CO', 'mg/m3', { high_limit: 20, high2_limit: 40 }), []);
    assert.deepEqual(fields('CO', 'mg/m3', { high_limit: 21, high2_limit: 41 }), ['high_limit', 'high2_limit']);
    assert.deepEqual(fields('H2S', 'mg/m3', { high_limit: 10.5 }), ['high_limit']);
    assert.deepEqual(fields('Cl2', 'mg/m3', { high_limit: 1, high2_limit: 2 }), []);
  });

  test('in ppm the OEL is converted with the molar mass at 20 °C: CO 20 mg/m³ ≈ 17.18 ppm', () => {
    const bound = setpointBounds('CO', 'ppm').find((b) => b.field === 'high_limit')!;
    close(bound.limit, (20 * MOLAR_VOLUME_L) / 28.01);
    assert.ok(bound.limit > 17.1 && bound.limit < 17.2, String(bound.limit));
    assert.deepEqual(fields('CO', 'ppm', { high_limit: 17 }), []);
    assert.deepEqual(fields('CO', 'ppm', { high_limit: 20 }), ['high_limit']); // 20 ppm ≈ 23.3 mg/m³ > 20
    assert.deepEqual(fields('H2S', 'ppm', { high_limit: 7, high2_limit: 14 }), []);
    assert.deepEqual(fields('H2S', 'ppm', { high_limit: 10 }), ['high_limit']); // 10 ppm ≈ 14.2 mg/m³ > MAC 10
    assert.match(setpointViolations('H2S', 'ppm', { high_limit: 10 })[0].en, /100 % OEL \(MAC 10 mg\/m³\)/);
  });
});

describe('oxygen: deficiency at least 19.5 %VOL, enrichment at most 23.5 %VOL', () => {
  test('a deficiency setpoint below 19.5 and an enrichment setpoint above 23.5 are refused', () => {
    assert.deepEqual(fields('O2', '%VOL', { low_limit: 19.5, high_limit: 23.5 }), []);
    assert.deepEqual(fields('O2', '%VOL', { low_limit: 18, high_limit: 25 }), ['low_limit', 'high_limit']);
    assert.match(setpointViolations('O2', '%VOL', { low_limit: 18 })[0]['zh-CN'], /低于 .*下限 19\.5 % VOL/);
  });
});

describe('gases without a standard bound', () => {
  test("'custom' and VOC accept any setpoint; an unknown id reads as 'custom'", () => {
    assert.deepEqual(setpointBounds('custom', 'ppm'), []);
    assert.deepEqual(setpointBounds('VOC', 'ppm'), []);
    assert.deepEqual(fields('custom', '%LEL', { high_limit: 90 }), []);
    assert.equal(gasInfo('no-such-gas').id, 'custom');
  });
});

describe('conversions', () => {
  test('ppm ↔ mg/m³ with the molar volume at 20 °C and 101.3 kPa', () => {
    close(MOLAR_VOLUME_L, 24.06, 2);
    close(ppmToMgM3(10, 34.08), 14.164, 3); // H2S
    close(mgM3ToPpm(ppmToMgM3(12.3, 28.01), 28.01), 12.3);
    close(convert(1, 'mg/m3', 'ppm', 'Cl2'), MOLAR_VOLUME_L / 70.9);
  });

  test('% LEL ↔ % VOL ↔ ppm with the gas LEL', () => {
    close(convert(100, '%LEL', '%VOL', 'CH4'), 5);
    close(convert(100, '%LEL', 'ppm', 'CH4'), 50_000);
    close(convert(1.05, '%VOL', '%LEL', 'C3H8'), 50);
    close(convert(20, '%LEL', 'ppm', 'H2'), 8000);
  });

  test('undefined conversions give null rather than a guess', () => {
    assert.equal(convert(10, 'ppm', '%LEL', 'CO'), null); // toxic: no LEL in the catalogue
    assert.equal(convert(10, 'ppm', 'mg/m3', 'custom'), null);
    assert.equal(convert(10, 'ppm', 'mg/m3', 'VOC'), null);
    assert.equal(convert(10, 'ppb', 'ppm', 'CO'), null);
    assert.equal(convert(10, 'ppm', 'ppm', 'custom'), 10);
  });

  test('rounding to significant digits goes towards the safe side', () => {
    assert.equal(roundSignificant(17.1807, 3, 'down'), 17.1);
    assert.equal(roundSignificant(19.51, 3, 'up'), 19.6);
    assert.equal(roundSignificant(25.000000000000004, 3, 'down'), 25);
    assert.equal(roundSignificant(0.33929, 3, 'down'), 0.339);
    assert.equal(roundSignificant(12_500, 3, 'down'), 12_500);
  });
});

describe('the catalogue', () => {
  test('every gas with defaults gives setpoints within its own bounds in each of its units, level 2 above level 1', () => {
    for (const id of GAS_IDS) {
      const gas = GASES[id];
      if (!gas.defaults) continue;
      for (const unit of gas.units) {
        const defaults = defaultsIn(id, unit);
        assert.ok(defaults, `${id} ${unit}: no defaults`);
        assert.deepEqual(setpointViolations(id, unit, defaults), [], `${id} in ${unit}: ${JSON.stringify(defaults)}`);
        assert.ok(defaults.high_limit !== null || defaults.low_limit !== null, `${id}: a default setpoint`);
        if (defaults.high2_limit !== null) assert.ok(defaults.high2_limit > defaults.high_limit!, `${id} ${unit}: level 2 above level 1`);
        if (defaults.range_max !== null && defaults.high_limit !== null) assert.ok(defaults.high_limit <= defaults.range_max, `${id} ${unit}: within the range`);
      }
    }
  });

  test('combustible gases have an LEL, toxic ones an OEL and a molar mass, and the default unit comes first', () => {
    for (const gas of Object.values(GASES)) {
      if (gas.kind === 'combustible') assert.ok(gas.lel && gas.units[0] === '%LEL', gas.id);
      if (gas.kind === 'toxic') assert.ok(referenceOel(gas) && gas.molar_mass && gas.units.includes('mg/m3'), gas.id);
      if (gas.kind === 'oxygen') assert.deepEqual(gas.units, ['%VOL']);
    }
    assert.equal(GASES.CH4.lel, 5.0);
    assert.deepEqual(defaultsIn('CO', 'mg/m3'), { high_limit: 20, high2_limit: 40, low_limit: null, range_max: 1160 });
    assert.deepEqual(defaultsIn('O2', '%VOL'), { high_limit: 23.5, high2_limit: null, low_limit: 19.5, range_max: 30 });
  });
});
