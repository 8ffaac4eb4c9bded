"""Tests of :mod:`aiida_ssb.analysis.ccd` on synthetic stepped-current symmetric-cell records.

The generator writes a Na|SE|Na (or Li|SE|Li) record: each step is one cycle (a plating and a stripping
half cycle) at a current density j, either at constant areal capacity per half cycle (time = q / j, seed
002b/004) or at constant time; the polarisation is ohmic, ``|V| = j ASR`` reached with a short capacitive
rise and an optional nucleation overshoot, plus seeded Gaussian noise; rests at open circuit separate
the half cycles; data every 10 s. Failures are injected at known points: a *soft short* (``|V|`` drops to a
fraction of the plateau and stays there, the dendrite-penetration signature) and a *hard short* (``|V|``
collapses to ~0 V).
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from aiida_ssb.analysis.ccd import CcdError, critical_current_density, critical_current_density_measurement
from aiida_ssb.exceptions import SettingsError

STEPS = tuple(round(0.02 * k, 2) for k in range(1, 16))  # 0.02 ... 0.30 mA/cm2


@dataclasses.dataclass
class Failure:
    step: float  # current density (mA/cm2) of the failing step
    half: int  # 0 = first half cycle of that step, 1 = second
    at: float  # fraction of the half cycle's duration where |V| falls
    level: float  # |V| afterwards as a fraction of the ohmic value (0 = hard short)


def make_symmetric_record(
    *,
    densities=STEPS,
    area_cm2=0.785,
    asr_ohm_cm2=1000.0,
    areal_capacity_mah_cm2=0.05,
    half_cycle_s=None,
    soft=None,
    hard=None,
    overshoot=0.0,
    dt_s=10.0,
    rest_s=60.0,
    noise_v=3e-4,
    seed=4,
):
    """Columns of a stepped-current symmetric-cell record with failures injected at known points."""
    rng = np.random.default_rng(seed)
    t_parts, v_parts, i_parts = [], [], []
    t_now = 0.0
    soft_on = False
    hard_on = False
    truth = {'half_start': []}
    for j in densities:
        for half in (0, 1):
            sign = 1.0 if half == 0 else -1.0
            duration = half_cycle_s if half_cycle_s else areal_capacity_mah_cm2 / j * 3600.0
            t = np.unique(np.r_[np.arange(0.0, duration, dt_s), duration])
            ohmic = j * 1e-3 * asr_ohm_cm2
            shape = (1.0 - np.exp(-t / 15.0)) * (1.0 + overshoot * np.exp(-t / 60.0))
            level = np.ones_like(t)
            if soft_on:
                level[:] = soft.level
            if soft is not None and not soft_on and j == soft.step and half == soft.half:
                level[t >= soft.at * duration] = soft.level
                soft_on = True
            if hard_on:
                level[:] = 0.0
            if hard is not None and not hard_on and j == hard.step and half == hard.half:
                level[t >= hard.at * duration] = 0.0
                hard_on = True
            v = sign * (ohmic * shape * level) + rng.normal(0.0, noise_v, t.size)
            truth['half_start'].append(t_now + 1e-3)
            t_parts.append(t_now + 1e-3 + t)
            v_parts.append(v)
            i_parts.append(np.full(t.size, sign * j * area_cm2))
            t_now = t_parts[-1][-1]
            # rest at open circuit
            tr = t_now + 1e-3 + np.arange(0.0, rest_s + 1e-9, dt_s)
            t_parts.append(tr)
            v_parts.append(rng.normal(0.0, noise_v, tr.size))
            i_parts.append(np.zeros(tr.size))
            t_now = tr[-1]
    return (np.concatenate(t_parts), np.concatenate(v_parts), np.concatenate(i_parts)), truth


AREA = 0.785


def half_cycle_of(step: float, half: int) -> int:
    return STEPS.index(step) * 2 + half + 1


def test_ccd_both_criteria_at_the_right_step():
    # soft short (dendrite penetration) above 0.12 mA/cm2, hard short (0 V) in the second sweep at 0.30
    columns, truth = make_symmetric_record(soft=Failure(0.14, 0, 0.6, 0.3), hard=Failure(0.30, 1, 0.3, 0.0))
    result = critical_current_density(*columns, AREA)
    out = result.to_dict()
    assert out['ccd_ma_cm2'] == pytest.approx(0.12, rel=1e-6)
    assert out['sudden_drop_last_stable_ma_cm2'] == pytest.approx(0.12, rel=1e-6)
    assert out['sudden_drop_failing_ma_cm2'] == pytest.approx(0.14, rel=1e-6)
    assert out['sudden_drop_half_cycle'] == half_cycle_of(0.14, 0)
    assert out['sudden_drop_reason'] == 'within_half_cycle'
    start = truth['half_start'][half_cycle_of(0.14, 0) - 1]
    duration = 0.05 / 0.14 * 3600
    assert out['sudden_drop_time_s'] == pytest.approx(start + 0.6 * duration, abs=25)
    # 0 V criterion: 0.3 mA/cm2, second sweep
    assert out['zero_volt_failing_ma_cm2'] == pytest.approx(0.30, rel=1e-6)
    assert out['zero_volt_half_cycle'] == half_cycle_of(0.30, 1)
    start = truth['half_start'][half_cycle_of(0.30, 1) - 1]
    assert out['zero_volt_time_s'] == pytest.approx(start + 0.3 * 0.05 / 0.3 * 3600, abs=25)
    assert '0.12' in out['message']
    by_short = critical_current_density(*columns, AREA, criterion='zero_volt').to_dict()
    assert by_short['ccd_ma_cm2'] == pytest.approx(0.30, rel=1e-6)
    # seed 004: 1C = 120 mAh/g x 2 mg/cm2 = 0.24 mA/cm2, so the CCD is C/2
    with_c = critical_current_density(*columns, AREA, one_c_ma_cm2=0.24).to_dict()
    assert with_c['ccd_c_rate'] == pytest.approx(0.5, rel=1e-6)
    json.dumps(out)


def test_stepped_current_detection_and_protocol():
    columns, _ = make_symmetric_record()
    result = critical_current_density(*columns, AREA)
    steps = result.steps
    np.testing.assert_allclose(steps['current_density_ma_cm2'], STEPS, rtol=1e-9)
    np.testing.assert_array_equal(steps['n_half_cycles'], 2)
    np.testing.assert_array_equal(steps['first_half_cycle'], np.arange(1, 30, 2))
    np.testing.assert_allclose(steps['areal_capacity_mah_cm2'], 0.05, rtol=2e-3)
    np.testing.assert_allclose(steps['area_specific_resistance_ohm_cm2'], 1000.0, rtol=0.02)
    out = result.to_dict()
    assert out['current_increasing'] is True
    assert out['protocol'] == 'constant_capacity'
    np.testing.assert_allclose(result.half_cycles['median_abs_voltage_v'], np.repeat(STEPS, 2), rtol=0.02)
    timed = critical_current_density(*make_symmetric_record(half_cycle_s=1800.0)[0], AREA).to_dict()
    assert timed['protocol'] == 'constant_time'


def test_no_short_reports_the_highest_current_density():
    columns, _ = make_symmetric_record()
    out = critical_current_density(*columns, AREA).to_dict()
    assert 'ccd_ma_cm2' not in out
    assert out['max_current_density_ma_cm2'] == pytest.approx(0.30, rel=1e-9)
    assert out['message'] == 'no CCD reached up to 0.3 mA/cm2 (sudden-drop criterion)'
    assert not any(k.startswith('sudden_drop_') or k.startswith('zero_volt_') for k in out)
    zero = critical_current_density(*columns, AREA, criterion='zero_volt').to_dict()
    assert zero['message'] == 'no CCD reached up to 0.3 mA/cm2 (0 V criterion)'


def test_nucleation_overshoot_is_not_a_drop():
    columns, _ = make_symmetric_record(overshoot=0.4)
    out = critical_current_density(*columns, AREA).to_dict()
    assert 'ccd_ma_cm2' not in out


def test_short_during_reversal_is_caught_by_the_ohmic_expectation():
    # the half cycle at 0.16 starts already soft-shorted: no fall inside it, but far below j x ASR
    columns, _truth = make_symmetric_record(soft=Failure(0.16, 0, 0.0, 0.3))
    out = critical_current_density(*columns, AREA).to_dict()
    assert out['ccd_ma_cm2'] == pytest.approx(0.14, rel=1e-6)
    assert out['sudden_drop_half_cycle'] == half_cycle_of(0.16, 0)
    assert out['sudden_drop_reason'] == 'below_expected'
    assert 'zero_volt_failing_ma_cm2' not in out


def test_hard_short_at_first_step():
    columns, _ = make_symmetric_record(hard=Failure(0.02, 0, 0.5, 0.0))
    out = critical_current_density(*columns, AREA).to_dict()
    assert 'ccd_ma_cm2' not in out
    assert 'first step' in out['message']
    assert out['zero_volt_failing_ma_cm2'] == pytest.approx(0.02)
    assert 'zero_volt_last_stable_ma_cm2' not in out


def test_voltage_limit_is_reported_as_divergence():
    columns, _ = make_symmetric_record(densities=STEPS[:5])
    out = critical_current_density(*columns, AREA, voltage_limit_v=0.079).to_dict()
    assert out['voltage_limit_failing_ma_cm2'] == pytest.approx(0.08)
    assert any('divergence' in w for w in out['warnings'])
    assert 'ccd_ma_cm2' not in out


def test_impedance_rows_between_half_cycles_are_ignored():
    (t, v, i), _ = make_symmetric_record(soft=Failure(0.14, 0, 0.6, 0.3))
    rest = np.flatnonzero(i == 0)
    v = v.copy()
    i = i.copy()
    v[rest[::4]] = np.nan
    i[rest[::4]] = np.nan
    out = critical_current_density(t, v, i, AREA).to_dict()
    assert out['ccd_ma_cm2'] == pytest.approx(0.12)
    assert out['n_half_cycles'] == 30


def test_arrays_and_names():
    columns, _ = make_symmetric_record(soft=Failure(0.14, 0, 0.6, 0.3))
    arrays = critical_current_density(*columns, AREA).arrays()
    for name, values in arrays.items():
        assert re.fullmatch('[0-9a-zA-Z_]+', name) and values.ndim == 1
    assert arrays['half_cycle__sudden_drop'].sum() >= 1


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'area_cm2': 0}, 'area_cm2'),
        ({'area_cm2': 'big'}, 'area_cm2'),
        ({'n_interfaces': 0}, 'n_interfaces'),
        ({'exclude': [True]}, r'exclude: expected a boolean mask of length \d+, got shape \(1,\)'),
    ],
)
def test_errors(kwargs, message):
    (t, v, i), _ = make_symmetric_record(densities=STEPS[:3])
    options = {'area_cm2': AREA, **kwargs}
    area = options.pop('area_cm2')
    with pytest.raises(CcdError, match=message):
        critical_current_density(t, v, i, area, **options)


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'criterion': 'soft'}, 'criterion'),
        ({'drop_fraction': 1.5}, 'drop_fraction'),
        ({'short_voltage_v': 0}, 'short_voltage_v'),
        ({'settle_fraction': 1.0}, 'settle_fraction'),
        ({'smooth_points': 0}, 'smooth_points'),
        ({'step_tolerance': 0}, 'step_tolerance'),
        ({'short_min_points': 0}, 'short_min_points'),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, message):
    (t, v, i), _ = make_symmetric_record(densities=STEPS[:3])
    with pytest.raises(SettingsError, match=message):
        critical_current_density(t, v, i, AREA, **kwargs)


def test_errors_on_columns():
    (t, v, i), _ = make_symmetric_record(densities=STEPS[:3])
    with pytest.raises(CcdError, match='current_ma: length'):
        critical_current_density(t, v, i[:-2], AREA)
    with pytest.raises(CcdError, match='no current flows'):
        critical_current_density(t, v, np.zeros_like(i), AREA)
    with pytest.raises(CcdError, match='time_s: decreases'):
        critical_current_density(t[::-1], v, i, AREA)
    assert issubclass(CcdError, ValueError)


def test_single_current_is_not_a_stepped_test():
    columns, _ = make_symmetric_record(densities=(0.05, 0.05, 0.05))
    out = critical_current_density(*columns, AREA).to_dict()
    assert out['n_steps'] == 1
    assert out['protocol'] == 'single_step'
    assert any('never changes' in w for w in out['warnings'])


def test_real_symmetric_cell_record(shared_file):
    """mb.mpr: a symmetric cell at +-2.8 uA (one current density) with impedance after each discharge."""
    try:
        from aiida_ssb.parsers import read
    except ImportError as exc:
        pytest.skip(f'aiida_ssb.parsers.read is not available: {exc}')
    measurement = read(shared_file('biologic/mb.mpr'))
    result = critical_current_density_measurement(measurement, 1.0, short_voltage_v=0.001)
    out = result.to_dict()
    assert out['n_half_cycles'] == 8 and out['n_steps'] == 1
    assert out['max_current_density_ma_cm2'] == pytest.approx(0.0028, rel=2e-3)
    assert 'ccd_ma_cm2' not in out
    np.testing.assert_allclose(result.half_cycles['median_abs_voltage_v'], 0.0037, rtol=0.1)
