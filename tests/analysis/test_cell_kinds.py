"""Cells counted the way electrochemists count them (issue 17), on generated records whose numbers are known by
construction: a cathode half cell, an anode half cell, a full cell, a symmetric cell whose foils are smaller than
the pellet, and a three-electrode cell. The cell record goes through the same derivation as an imported cell
(:func:`aiida_ssb.schemas.cell.derive_cell_values`), and the defaults must give the right numbers without options.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from aiida_ssb.analysis.ccd import critical_current_density
from aiida_ssb.analysis.cycling import CyclingSettings, cell_facts, summarise_cycling
from aiida_ssb.analysis.cycling.balance import np_ratio_measured
from aiida_ssb.analysis.cycling.conventions import LayerInfo, average_voltage_window, classify_cell
from aiida_ssb.schemas.cell import CellSpec, derive_cell_values, disc_area_cm2, material_facts
from tests.analysis import test_ccd as ccd_records
from tests.analysis.test_cycling import Cycle, make_record

AREA_12 = disc_area_cm2(12.0)
AREA_10 = disc_area_cm2(10.0)

# materials as the importer stores them (attributes), seed 001: NaCrO2 97:1:2 and Sn 90:5:5 electrodes
MATERIALS = {
    'NCO': {'role': 'active_material', 'formula': 'NaCrO2', 'theoretical_capacity_mah_g': 120.0},
    'SN': {'role': 'active_material', 'formula': 'Sn', 'theoretical_capacity_mah_g': 847.0},
    'NCO-EL': {
        'role': 'electrode_sheet',
        'active_fraction': 0.97,
        'active_formula': 'NaCrO2',
        'active_theoretical_capacity_mah_g': 120.0,
        'composition_flat': [
            {'material': 'NCO', 'fraction': 0.97, 'role': 'active_material'},
            {'material': 'PVDF', 'fraction': 0.01, 'role': 'binder'},
            {'material': 'SP', 'fraction': 0.02, 'role': 'carbon'},
        ],
    },
    'SN-EL': {
        'role': 'electrode_sheet',
        'active_fraction': 0.90,
        'active_formula': 'Sn',
        'active_theoretical_capacity_mah_g': 847.0,
        'composition_flat': [
            {'material': 'SN', 'fraction': 0.90, 'role': 'active_material'},
            {'material': 'PVDF', 'fraction': 0.05, 'role': 'binder'},
            {'material': 'SP', 'fraction': 0.05, 'role': 'carbon'},
        ],
    },
    'NBH': {'role': 'electrolyte', 'formula': 'Na4(B12H12)(B10H10)', 'theoretical_density_g_cm3': 1.17},
    'NASN': {'role': 'active_material', 'formula': 'Na3Sn'},
    'NA': {'role': 'metal_foil', 'formula': 'Na'},
    'AL': {'role': 'current_collector', 'formula': 'Al'},
}


def cell_record(spec: dict, materials: dict | None = None) -> dict:
    """The attributes an imported cell carries: the stated spec and its derived values (stated ones win)."""
    cell = CellSpec.model_validate(spec)
    facts = {key: material_facts(value) for key, value in (materials or MATERIALS).items()}
    derived, layers = derive_cell_values(cell, facts)
    attributes = cell.stored()
    for layer, values in zip(attributes['layers'], layers, strict=True):
        layer.update({f'derived_{key}': value for key, value in values.items() if key not in layer})
    attributes.update({key: value for key, value in derived.items() if key not in attributes})
    return attributes


def summarise(record, cell, **options):
    columns = dict(record.columns)
    return summarise_cycling(
        columns.pop('time_s'), columns.pop('voltage_v'), columns.pop('current_ma'), cell=cell, **columns, **options
    )


def flag_names(summary) -> set[str]:
    return {item['flag'] for item in summary.flags}


# --------------------------------------------------------------------------------------------------- cells


def cathode_half_cell(active_mg: float, **extra) -> dict:
    return cell_record(
        {
            'id': 'NCO-HC',
            'format': 'half',
            'diameter': '12 mm',
            'one_c': '120 mA/g',
            'layers': [
                {'role': 'positive', 'material': 'NCO-EL', 'mass': f'{active_mg / 0.97} mg'},
                {'role': 'separator', 'material': 'NBH', 'mass': '50 mg'},
                {'role': 'negative', 'material': 'NASN', 'mass': '40 mg'},
            ],
            **extra,
        }
    )


def anode_half_cell(active_mg: float, role: str = 'negative', side: str | None = None) -> dict:
    electrode = {'role': role, 'material': 'SN-EL', 'mass': f'{active_mg / 0.90} mg'}
    if side:
        electrode['side'] = side
    return cell_record(
        {
            'id': 'SN-HC',
            'format': 'half',
            'diameter': '12 mm',
            'layers': [electrode, {'role': 'separator', 'material': 'NBH'}, {'role': 'counter', 'material': 'NASN'}],
        }
    )


def full_cell(positive_loading: float = 5.6, negative_loading: float = 1.2, fmt: str = 'full', **extra) -> dict:
    layers = [
        {'role': 'current_collector', 'material': 'AL', 'mass': '5 mg'},
        {'role': 'positive', 'material': 'NCO-EL', 'mass': f'{positive_loading * AREA_12 / 0.97} mg'},
        {'role': 'separator', 'material': 'NBH', 'mass': '60 mg'},
        {'role': 'negative', 'material': 'SN-EL', 'mass': f'{negative_loading * AREA_12 / 0.90} mg'},
        {'role': 'current_collector', 'material': 'AL', 'mass': '5 mg'},
    ]
    if fmt == 'three_electrode':
        layers.append({'role': 'reference', 'material': 'NA'})
    return cell_record({'id': 'FC', 'format': fmt, 'diameter': '12 mm', 'one_c': '120 mA/g', 'layers': layers, **extra})


def mah(capacity_mah_g: float, mass_mg: float) -> float:
    return capacity_mah_g * mass_mg / 1000.0


# ------------------------------------------------------------------------------------- cathode half cell


@pytest.mark.parametrize('active_mg', [4.0, 8.7])
def test_cathode_half_cell_defaults(active_mg):
    """NaCrO2 | NBH | Na3Sn: charge first, CE discharge/charge, per NaCrO2 mass, 1C = 120 mA/g x NaCrO2."""
    cell = cathode_half_cell(active_mg)
    assert cell['cell_kind'] == 'cathode_half_cell' and cell['tested_electrode'] == 'positive'
    assert cell['active_mass_mg'] == pytest.approx(active_mg)
    assert cell['electrode_area_cm2'] == pytest.approx(AREA_12)
    one_c = 0.120 * active_mg
    assert cell['one_c_current_ma'] == pytest.approx(one_c)
    q = [(125.0, 118.0), (119.5, 118.3), (119.0, 118.0)]
    specs = [Cycle(mah(ch, active_mg), mah(dis, active_mg), 0.1, 0.1) for ch, dis in q]
    record = make_record(specs, one_c_ma=one_c, q_nominal_mah=mah(130, active_mg), v0=3.0, slope_v=0.4)
    summary = summarise(record, cell)
    out = summary.to_dict()
    assert summary.cycles['cycle'][0] == 1 and summary.cycles['complete'].all()
    np.testing.assert_allclose(summary.cycles['discharge_capacity_mah_g_active'], [dis for _, dis in q], rtol=1e-6)
    np.testing.assert_allclose(
        summary.cycles['coulombic_efficiency_percent'], [100 * dis / ch for ch, dis in q], rtol=1e-6
    )
    np.testing.assert_allclose(summary.cycles['discharge_c_rate'], 0.1, rtol=1e-6)
    np.testing.assert_allclose(
        summary.cycles['discharge_capacity_mah_g_composite'], [0.97 * d for _, d in q], rtol=1e-6
    )
    conventions = out['conventions']
    assert conventions['cell_kind'] == 'cathode_half_cell'
    assert conventions['first_half'] == 'charge' and conventions['ce_convention'] == 'discharge_over_charge'
    assert conventions['sources']['first_half'] == 'cell: cathode_half_cell'
    assert conventions['capacity_electrode'] == 'positive'
    assert conventions['mass_bases_missing']['both_composites'].startswith('a cathode_half_cell')
    assert out['flags'] == []  # 118 of 120 mAh/g: within +-5 %, voltage within the NaCrO2 window


# --------------------------------------------------------------------------------------- anode half cell


SN_CYCLES = [(700.0, 590.1), (610.0, 591.7), (600.0, 594.0), (598.0, 593.0)]  # (sodiation, desodiation) mAh/g


def sn_record(active_mg: float):
    specs = [Cycle(mah(ch, active_mg), mah(dis, active_mg), 0.1, 0.1) for dis, ch in SN_CYCLES]
    return make_record(
        specs, one_c_ma=0.847 * active_mg, q_nominal_mah=mah(800, active_mg), v0=0.45, slope_v=0.4, first='discharge'
    )


@pytest.mark.parametrize(('role', 'side'), [('negative', None), ('working', 'negative'), ('working', None)])
def test_anode_half_cell_defaults(role, side):
    """Sn | NBH | Na3Sn: sodiation (discharge) first, CE = desodiation / sodiation (84.3 % first), per Sn mass; the
    electrode under test is recognised whether written as negative, working with side negative or working Sn."""
    active_mg = 1.356
    cell = anode_half_cell(active_mg, role, side)
    assert cell['cell_kind'] == 'anode_half_cell' and cell['tested_electrode'] == 'negative'
    assert cell['negative_active_mass_mg'] == pytest.approx(active_mg)
    assert cell['one_c_current_ma'] == pytest.approx(0.847 * active_mg)  # theoretical capacity of Sn
    summary = summarise(sn_record(active_mg), cell)
    cycles = summary.cycles
    assert summary.n_cycles == len(SN_CYCLES) and cycles['complete'].all() and cycles['cycle'][0] == 1
    expected_ce = [100 * ch / dis for dis, ch in SN_CYCLES]
    np.testing.assert_allclose(cycles['coulombic_efficiency_percent'], expected_ce, rtol=1e-6)
    assert expected_ce[0] == pytest.approx(84.3, abs=0.01)
    np.testing.assert_allclose(cycles['discharge_capacity_mah_g_active'], [d for d, _ in SN_CYCLES], rtol=1e-6)
    out = summary.to_dict()
    assert out['conventions']['first_half'] == 'discharge'
    assert out['conventions']['ce_convention'] == 'charge_over_discharge'
    assert out['first_cycle_irreversible_capacity_mah_g_active'] == pytest.approx(700.0 - 590.1, rel=1e-5)
    # 590 of 847 mAh/g: the papers' +-5 % rule flags a half cell this far from its theoretical capacity
    assert flag_names(summary) == {'capacity_off_theoretical'}


def test_anode_half_cell_counted_as_a_cathode_is_flagged_not_relabelled():
    """The bug of issue 17: charge-first counting puts the first sodiation in cycle 0 and gives CE > 100 %."""
    active_mg = 1.356
    summary = summarise(
        sn_record(active_mg), anode_half_cell(active_mg), first_half='charge', ce_convention='discharge_over_charge'
    )
    assert summary.cycles['cycle'][0] == 0 and not summary.cycles['complete'][0]
    assert summary.conventions['sources']['first_half'] == 'option'
    ce = summary.cycles['coulombic_efficiency_percent'][summary.cycles['complete']]
    assert (ce > 100.0).all()
    assert {'first_step_contradicts_convention', 'ce_above_100_percent'} <= flag_names(summary)


# --------------------------------------------------------------------------------------------- full cell


def test_full_cell_balance_and_energy_bases():
    """Seed 001 full cell: NaCrO2 5.6 mg/cm2 (97:1:2), Sn 1.2 mg/cm2 (90:5:5); 110 mAh/g at 2.56 V average gives
    282 Wh/kg of NaCrO2 and 222 Wh/kg of both composites (no electrolyte, no current collectors)."""
    cell = full_cell()
    assert cell['cell_kind'] == 'full_cell'
    m_pos = 5.6 * AREA_12
    m_neg = 1.2 * AREA_12
    assert cell['positive_active_mass_mg'] == pytest.approx(m_pos)
    assert cell['negative_active_mass_mg'] == pytest.approx(m_neg)
    assert cell['negative_mass_loading_mg_cm2'] == pytest.approx(1.2)
    assert cell['np_ratio_theoretical'] == pytest.approx(847 * 1.2 / (120 * 5.6))
    both = m_pos / 0.97 + m_neg / 0.90
    assert cell['both_composites_mass_mg'] == pytest.approx(both)
    assert cell['stack_mass_mg'] == pytest.approx(5 + m_pos / 0.97 + 60 + m_neg / 0.90 + 5)
    assert 'cell_mass_mg' not in cell and 'housing' in cell['mass_basis_notes']['cell']
    one_c = 0.120 * m_pos
    q = mah(110.0, m_pos)
    resistance = 20.0
    v0 = 2.56 + 0.1 * one_c * 1e-3 * resistance  # discharge mid-point OCV minus I R = 2.56 V
    specs = [Cycle(q / 0.722, q, 0.1, 0.1), Cycle(q / 0.958, q, 0.1, 0.1)]
    record = make_record(specs, one_c_ma=one_c, q_nominal_mah=q / 0.7, v0=v0, slope_v=0.0, resistance_ohm=resistance)
    out = summarise(record, cell).to_dict()
    assert out['initial_coulombic_efficiency_percent'] == pytest.approx(72.2, rel=1e-6)
    assert out['second_coulombic_efficiency_percent'] == pytest.approx(95.8, rel=1e-6)
    assert out['initial_average_discharge_voltage_v'] == pytest.approx(2.56, rel=1e-6)
    assert out['initial_specific_energy_wh_kg_active'] == pytest.approx(110 * 2.56, rel=1e-6)  # 281.6
    expected = 110 * 2.56 * m_pos / both
    assert out['initial_specific_energy_wh_kg_both_composites'] == pytest.approx(expected, rel=1e-6)
    assert round(expected) == 222
    assert out['initial_specific_energy_wh_kg_stack'] == pytest.approx(110 * 2.56 * m_pos / cell['stack_mass_mg'])
    assert 'initial_specific_energy_wh_kg_cell' not in out
    assert out['conventions']['mass_bases_missing']['cell'].startswith('no housing mass')
    assert out['flags'] == []  # 110/120: a full cell is not held to the half-cell +-5 % rule
    with_housing = summarise(record, full_cell(housing_mass='2 g')).to_dict()
    assert with_housing['initial_specific_energy_wh_kg_cell'] == pytest.approx(
        110 * 2.56 * m_pos / (cell['stack_mass_mg'] + 2000.0), rel=1e-6
    )


def test_measured_np_ratio_from_the_half_cells():
    """N/P = (q_neg L_neg) / (q_pos L_pos) with the half cells' first-cycle capacities (124 and 694.4 mAh/g)."""
    cell = full_cell()
    positive = {'sample_id': 'NCO-HC', 'initial_charge_capacity_mah_g_active': 124.0}
    negative = {'sample_id': 'SN-HC', 'initial_discharge_capacity_mah_g_active': 694.4}
    found = np_ratio_measured(cell, positive, negative)
    assert found['np_ratio_measured'] == pytest.approx(694.4 * 1.2 / (124.0 * 5.6))
    assert round(found['np_ratio_measured'], 2) == 1.20
    assert found['negative_half_cell'] == 'SN-HC'
    assert 'negative' in np_ratio_measured(cell, positive, None)['np_ratio_measured_note']


# ---------------------------------------------------------------------------------------- symmetric cell


def test_symmetric_cell_uses_the_smaller_foil_and_reports_per_interface():
    """Na (10 mm) | SE pellet (12 mm) | Na (10 mm): current density on 0.785 cm2, not 1.131 (a 1.44x error)."""
    cell = cell_record(
        {
            'id': 'SYM',
            'format': 'symmetric',
            'diameter': '12 mm',
            'layers': [
                {'role': 'negative', 'material': 'NA', 'diameter': '10 mm'},
                {'role': 'electrolyte', 'material': 'NBH', 'mass': '100 mg', 'thickness': '800 um'},
                {'role': 'negative', 'material': 'NA', 'diameter': '10 mm'},
            ],
        }
    )
    assert cell['cell_kind'] == 'symmetric_cell'
    assert cell['electrode_area_cm2'] == pytest.approx(AREA_10)
    assert 'smaller electrode contact' in cell['electrode_area_rule']
    assert cell['electrolyte_area_cm2'] == pytest.approx(AREA_12)
    assert cell['conductivity_area_cm2'] == pytest.approx(AREA_10)
    assert cell['n_interfaces'] == 2
    # the generator's current is j x 0.785 cm2 and its total ASR 1000 ohm cm2 on that area
    (t, v, i), _ = ccd_records.make_symmetric_record(
        soft=ccd_records.Failure(0.14, 0, 0.6, 0.3), area_cm2=AREA_10, asr_ohm_cm2=1000.0
    )
    facts = cell_facts(cell)
    out = critical_current_density(
        t, v, i, facts.values['electrode_area_cm2'], area_rule=cell['electrode_area_rule'], n_interfaces=2
    ).to_dict()
    assert out['ccd_ma_cm2'] == pytest.approx(0.12, rel=1e-6)
    assert out['initial_area_specific_resistance_ohm_cm2'] == pytest.approx(1000.0, rel=0.03)
    assert out['initial_area_specific_resistance_per_interface_ohm_cm2'] == pytest.approx(500.0, rel=0.03)
    on_pellet = critical_current_density(t, v, i, AREA_12).to_dict()
    assert out['ccd_ma_cm2'] / on_pellet['ccd_ma_cm2'] == pytest.approx(AREA_12 / AREA_10, rel=1e-6)  # 1.44


def test_symmetric_cell_without_layer_areas_keeps_the_cell_area():
    cell = cell_record(
        {
            'id': 'SYM',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'working', 'material': 'NA'},
                {'role': 'electrolyte', 'material': 'NBH'},
                {'role': 'counter', 'material': 'NA'},
            ],
        }
    )
    assert cell['electrode_area_cm2'] == pytest.approx(AREA_10)
    assert 'electrolyte layer' in cell['electrode_area_rule']


# ------------------------------------------------------------------------------------ three-electrode cell


def three_electrode_record(
    *, q_mah, n_cycles=3, one_c=0.5, points=60, eta_pos=0.03, eta_neg=0.05, working='positive'
) -> dict:
    """CC cycles of a full cell (CE 100 %) with each electrode's potential against a reference: positive
    3.0 + 0.2 (x - 0.5) +- eta_pos, negative 0.5 - 0.3 (x - 0.5) -+ eta_neg (x: state of charge 0..1)."""
    t_parts, i_parts, pos_parts, neg_parts = [], [], [], []
    now = 0.0
    current = 0.1 * one_c
    duration = q_mah / current * 3600.0
    for _ in range(n_cycles):
        for sign in (1.0, -1.0):
            s = np.linspace(0.0, duration, points)
            x = s / duration if sign > 0 else 1.0 - s / duration
            t_parts.append(now + 1e-3 + s)
            i_parts.append(np.full(points, sign * current))
            pos_parts.append(3.0 + 0.2 * (x - 0.5) + sign * eta_pos)
            neg_parts.append(0.5 - 0.3 * (x - 0.5) - sign * eta_neg)
            now = t_parts[-1][-1]
            rest = now + 1e-3 + np.linspace(0.0, 600.0, 4)
            t_parts.append(rest)
            i_parts.append(np.zeros(4))
            pos_parts.append(np.full(4, 3.0 + 0.2 * (x[-1] - 0.5)))
            neg_parts.append(np.full(4, 0.5 - 0.3 * (x[-1] - 0.5)))
            now = rest[-1]
    t, i = np.concatenate(t_parts), np.concatenate(i_parts)
    pos, neg = np.concatenate(pos_parts), np.concatenate(neg_parts)
    if working == 'positive':
        return {'time_s': t, 'voltage_v': pos, 'counter_voltage_v': neg, 'current_ma': i}
    return {'time_s': t, 'voltage_v': neg, 'counter_voltage_v': pos, 'current_ma': -i}


@pytest.mark.parametrize('working', ['positive', 'negative'])
def test_three_electrode_cell_analyses_each_electrode(working):
    """Ewe and Ece against the reference: the full cell is Ewe - Ece; each electrode gets its own summary with its
    average potentials, energies and overpotential (eta_pos = 30 mV, eta_neg = 50 mV by construction)."""
    cell = full_cell(fmt='three_electrode', working_electrode=working)
    assert cell['cell_kind'] == 'three_electrode_cell' and cell['working_electrode'] == working
    m_pos = cell['positive_active_mass_mg']
    q = mah(110.0, m_pos)
    columns = three_electrode_record(q_mah=q, one_c=cell['one_c_current_ma'], working=working)
    summary = summarise_cycling(
        columns.pop('time_s'), columns.pop('voltage_v'), columns.pop('current_ma'), cell=cell, **columns
    )
    full, pos, neg = summary, summary.electrodes['positive'], summary.electrodes['negative']
    assert full.n_cycles == 3 and full.cycles['complete'].all()
    np.testing.assert_allclose(full.cycles['discharge_capacity_mah_g_active'], 110.0, rtol=1e-6)
    # averages over x = 0..1: positive 3.0 +- 0.03, negative 0.5 -+ 0.05, full 2.5 +- 0.08
    np.testing.assert_allclose(pos.cycles['average_charge_voltage_v'], 3.03, rtol=1e-6)
    np.testing.assert_allclose(pos.cycles['average_discharge_voltage_v'], 2.97, rtol=1e-6)
    np.testing.assert_allclose(neg.cycles['average_charge_voltage_v'], 0.45, rtol=1e-6)
    np.testing.assert_allclose(neg.cycles['average_discharge_voltage_v'], 0.55, rtol=1e-6)
    np.testing.assert_allclose(full.cycles['average_discharge_voltage_v'], 2.42, rtol=1e-6)
    np.testing.assert_allclose(pos.cycles['overpotential_at_soc_v'], 0.03, rtol=1e-6)
    np.testing.assert_allclose(neg.cycles['overpotential_at_soc_v'], 0.05, rtol=1e-6)
    np.testing.assert_allclose(full.cycles['overpotential_at_soc_v'], 0.08, rtol=1e-6)
    np.testing.assert_allclose(full.cycles['plateau_overpotential_v'], 0.08, rtol=1e-6)
    # energies add up: E_cell = E_positive - E_negative (same rows, same integration)
    np.testing.assert_allclose(
        full.cycles['discharge_energy_mwh'],
        pos.cycles['discharge_energy_mwh'] - neg.cycles['discharge_energy_mwh'],
        rtol=1e-9,
    )
    out = summary.to_dict()
    assert out['electrodes']['negative']['initial_average_discharge_voltage_v'] == pytest.approx(0.55)
    assert out['conventions']['three_electrode']['working_electrode'] == working
    arrays = summary.arrays()
    assert 'positive__cycle__average_discharge_voltage_v' in arrays and 'negative__half_cycle__energy_mwh' in arrays
    assert out['flags'] == []


def test_a_two_electrode_record_with_an_ece_column_is_not_split():
    from aiida_ssb.analysis.cycling import summarise_measurement

    cell = full_cell()
    columns = three_electrode_record(q_mah=0.5, one_c=cell['one_c_current_ma'])
    summary = summarise_measurement(columns, cell=cell)
    assert summary.electrodes == {}
    np.testing.assert_allclose(summary.cycles['average_discharge_voltage_v'], 2.97, rtol=1e-6)  # Ewe as recorded


# ------------------------------------------------------------------------------ classification rules


def test_classification_rules_and_explicit_options():
    layers = [
        LayerInfo('positive', 'NCO-EL', has_active=True, active_formula='NaCrO2'),
        LayerInfo('negative', 'NASN', has_active=True, active_formula='Na3Sn'),
    ]
    assert classify_cell('half', layers)[:2] == ('cathode_half_cell', 'positive')
    tin_as_positive = [LayerInfo('positive', 'SN-EL', has_active=True, active_formula='Sn'), layers[1]]
    kind, electrode, index, rule = classify_cell('half', tin_as_positive)
    assert (kind, electrode, index) == ('anode_half_cell', 'negative', 0) and 'negative-electrode material' in rule
    stability = [LayerInfo('working', 'SE-C'), LayerInfo('counter', 'NA')]
    assert classify_cell('half', stability)[0] == 'stability_cell'
    assert classify_cell('symmetric', [])[0] == 'symmetric_cell'
    # explicit settings win over the cell
    settings = CyclingSettings.resolve(first_half='charge', ce_convention='discharge_over_charge')
    from aiida_ssb.analysis.cycling import resolve_conventions

    resolved = resolve_conventions(settings, cell_facts(anode_half_cell(1.0)))
    assert resolved.first_half == 'charge' and resolved.sources['first_half'] == 'option'
    assert (
        resolved.capacity_electrode == 'negative' and resolved.sources['capacity_electrode'] == 'cell: anode_half_cell'
    )


def test_voltage_windows_from_the_active_materials():
    window, rule = average_voltage_window(
        'cathode_half_cell', positive_formula='NaCrO2', counter_formula='Na3Sn', ion='Na'
    )
    assert window == pytest.approx((2.5, 3.3)) and 'Na3Sn' in rule
    window, _ = average_voltage_window('full_cell', positive_formula='NaCrO2', negative_formula='Sn', ion='Na')
    assert window == pytest.approx((2.6 - 0.8, 3.4 - 0.05))
    window, _ = average_voltage_window('full_cell', positive_formula='NaCrO2', negative_formula='Na', ion='Na')
    assert window == pytest.approx((2.6, 3.4))
    assert average_voltage_window('cathode_half_cell', positive_formula='XYZ', ion='Na')[0] is None
    assert full_cell()['average_voltage_window_v'] == pytest.approx([1.8, 3.35])


# ------------------------------------------------------------------------------ derived quantities


@pytest.mark.parametrize('resistance', [50.0, 400.0, 1500.0])
def test_overpotential_at_matched_state_of_charge(resistance):
    """Linear OCV plus I R (CE 100 %): the charge-discharge gap at every matched SOC is 2 I R."""
    active = 2.0
    one_c = 0.12 * active
    specs = [Cycle(mah(110, active), mah(110, active), 0.5, 0.5) for _ in range(3)]
    record = make_record(specs, one_c_ma=one_c, q_nominal_mah=mah(130, active), resistance_ohm=resistance, points=80)
    summary = summarise(record, cathode_half_cell(active), overpotential_soc_percent=30.0)
    ir = 0.5 * one_c * 1e-3 * resistance
    # exact but for the first row of each half cycle, which owns the 1 ms since the rest before it
    np.testing.assert_allclose(summary.cycles['voltage_gap_at_soc_v'], 2 * ir, rtol=1e-4)
    np.testing.assert_allclose(summary.cycles['overpotential_at_soc_v'], ir, rtol=1e-4)
    np.testing.assert_allclose(summary.cycles['plateau_voltage_gap_v'], 2 * ir, rtol=1e-4)
    out = summary.to_dict()
    assert out['initial_plateau_overpotential_v'] == pytest.approx(ir, rel=1e-4)
    assert out['parameters']['overpotential_soc_percent'] == 30.0


@pytest.mark.parametrize('threshold', [3.70, 3.85, 4.0])
def test_capacity_fraction_below_a_voltage(threshold):
    """A charge whose voltage rises linearly from V0 to V1 passes (V - V0) / (V1 - V0) of its capacity below V."""
    active = 2.0
    specs = [Cycle(mah(110, active), mah(105, active), 0.2, 0.2)]
    record = make_record(
        specs, one_c_ma=0.24, q_nominal_mah=mah(110, active), v0=3.8, slope_v=0.4, resistance_ohm=0.0, points=400
    )
    summary = summarise(record, cathode_half_cell(active), voltage_thresholds_v=(threshold,))
    tag = f'{threshold:g}'.replace('.', 'p')
    below = summary.half_cycles[f'capacity_below_{tag}_v_percent']
    v_start, v_end = 3.6, 4.0  # the charge goes from x = 0 to x = 1
    expected = 100 * min(max((threshold - v_start) / (v_end - v_start), 0.0), 1.0)
    assert below[0] == pytest.approx(expected, abs=0.4)
    assert summary.half_cycles[f'capacity_above_{tag}_v_percent'][0] == pytest.approx(100 - expected, abs=0.4)
    assert summary.to_dict()[f'first_charge_capacity_below_{tag}_v_percent'] == pytest.approx(expected, abs=0.4)


def test_first_cycle_at_a_coulombic_efficiency_level():
    active = 2.0
    ces = [91.0, 96.0, 98.5, 99.2, 99.6, 99.95, 99.3]
    specs = [Cycle(mah(100 / (ce / 100), active), mah(100, active), 0.2, 0.2) for ce in ces]
    record = make_record(specs, one_c_ma=0.24, q_nominal_mah=mah(130, active))
    out = summarise(record, cathode_half_cell(active), ce_levels_percent=(98.0, 99.0, 99.9, 99.99)).to_dict()
    assert out['first_cycle_ce_above_98_percent'] == 3
    assert out['first_cycle_ce_above_99_percent'] == 4
    assert out['first_cycle_ce_above_99p9_percent'] == 6
    assert 'first_cycle_ce_above_99p99_percent' not in out
    assert out['second_energy_efficiency_percent'] < 100.0


# ----------------------------------------------------------------------------------- plausibility flags


def cathode_record(capacity_mah_g: float, active: float = 2.0, v0: float = 3.0, ce: float = 98.0, first='charge'):
    specs = [Cycle(mah(capacity_mah_g / (ce / 100), active), mah(capacity_mah_g, active), 0.1, 0.1) for _ in range(3)]
    return make_record(specs, one_c_ma=0.24, q_nominal_mah=mah(1.3 * capacity_mah_g, active), v0=v0, first=first)


def test_flag_first_step_contradicts_convention():
    cell = cathode_half_cell(2.0)
    assert 'first_step_contradicts_convention' not in flag_names(summarise(cathode_record(118), cell))
    flagged = summarise(cathode_record(118, first='discharge'), cell)
    assert 'first_step_contradicts_convention' in flag_names(flagged)
    assert flagged.cycles['cycle'][0] == 0  # counted, not relabelled


@pytest.mark.parametrize(
    ('capacity', 'expected'),
    [
        (118.0, set()),
        (125.0, set()),  # +4.2 %
        (100.0, {'capacity_off_theoretical'}),
        (128.0, {'capacity_above_theoretical'}),  # 106.7 %: above 100 % + 5 %, the hard flag
        (293.0, {'capacity_above_theoretical'}),
    ],
)
def test_flag_capacity_against_theoretical(capacity, expected):
    summary = summarise(cathode_record(capacity), cathode_half_cell(2.0))
    found = flag_names(summary) & {'capacity_off_theoretical', 'capacity_above_theoretical'}
    assert found == expected
    for item in summary.flags:
        assert item['reason'] and item['severity'] in ('warning', 'error')


def test_flag_ce_above_100_percent_and_the_anode_limited_exception():
    cell = cathode_half_cell(2.0)
    assert 'ce_above_100_percent' not in flag_names(summarise(cathode_record(118, ce=99.5), cell))
    assert 'ce_above_100_percent' in flag_names(summarise(cathode_record(118, ce=102.0), cell))
    # a full cell with N/P < 1 (anode-limited) may exceed 100 % in its first cycle only
    limited = full_cell(negative_loading=0.5)
    assert limited['np_ratio_theoretical'] < 1
    one_c = limited['one_c_current_ma']
    m_pos = limited['positive_active_mass_mg']
    first_only = [
        Cycle(mah(100, m_pos), mah(101.5, m_pos), 0.1, 0.1),
        Cycle(mah(101, m_pos), mah(100, m_pos), 0.1, 0.1),
    ]
    record = make_record(first_only, one_c_ma=one_c, q_nominal_mah=mah(130, m_pos), v0=2.5, slope_v=0.2)
    assert 'ce_above_100_percent' not in flag_names(summarise(record, limited))
    assert 'ce_above_100_percent' in flag_names(summarise(record, full_cell()))  # N/P 1.5: not anode-limited


def test_flag_average_voltage_outside_the_chemistry_window():
    """Issue 17: an anode-like record (293 mAh/g at 0.14 V) attached to a NaCrO2 cell."""
    cell = cathode_half_cell(2.0)
    assert 'average_voltage_outside_window' not in flag_names(summarise(cathode_record(118, v0=3.0), cell))
    anode_like = summarise(cathode_record(293, v0=0.14), cell)
    assert {'average_voltage_outside_window', 'capacity_above_theoretical'} <= flag_names(anode_like)
    reason = next(f['reason'] for f in anode_like.flags if f['flag'] == 'average_voltage_outside_window')
    assert 'NaCrO2' in reason
    # an explicit window wins over the chemistry's
    custom = summarise(cathode_record(118, v0=3.0), cell, average_voltage_window_v=(3.5, 4.0))
    assert 'average_voltage_outside_window' in flag_names(custom)


def test_flag_relative_density_above_one():
    """Seed 004 as printed: 100 mg, 10 mm, 0.5 mm gives 2.55 g/cm3, 2.26 x the 1.126 g/cm3 of bcc NaCB11H12."""
    materials = {'NCB': {'role': 'electrolyte', 'formula': 'NaCB11H12', 'theoretical_density_g_cm3': 1.126}}

    def pellet(mass: str, thickness: str) -> dict:
        return cell_record(
            {
                'id': 'P',
                'format': 'blocking_pellet',
                'diameter': '10 mm',
                'layers': [{'role': 'electrolyte', 'material': 'NCB', 'mass': mass, 'thickness': thickness}],
            },
            materials,
        )

    printed = pellet('100 mg', '500 um')
    assert printed['electrolyte_relative_density'] == pytest.approx(2.26, abs=0.01)
    assert [f['flag'] for f in printed['flags']] == ['relative_density_above_1']
    assert printed['flags'][0]['severity'] == 'error'
    assert pellet('60 mg', '740 um')['flags'] == []


def test_flag_loading_contradicts_sheet():
    materials = dict(MATERIALS)
    materials['NCO-EL'] = dict(
        MATERIALS['NCO-EL'], stated_loading_mg_cm2=7.7, stated_loading_basis='active', stated_loading_source='SHEET'
    )
    matching = cell_record(
        {
            'id': 'C',
            'format': 'half',
            'diameter': '12 mm',
            'layers': [
                {'role': 'positive', 'material': 'NCO-EL', 'mass': f'{7.7 * AREA_12 / 0.97} mg'},
                {'role': 'counter', 'material': 'NASN'},
            ],
        },
        materials,
    )
    assert matching['flags'] == []
    heavy = cell_record(
        {
            'id': 'C',
            'format': 'half',
            'diameter': '12 mm',
            'layers': [
                {'role': 'positive', 'material': 'NCO-EL', 'mass': f'{9.0 * AREA_12 / 0.97} mg'},
                {'role': 'counter', 'material': 'NASN'},
            ],
        },
        materials,
    )
    assert [f['flag'] for f in heavy['flags']] == ['loading_contradicts_sheet']
    assert 'SHEET' in heavy['flags'][0]['reason'] and '+17 %' in heavy['flags'][0]['reason']


def test_flag_uptake_contradicts_inputs():
    from aiida_ssb.calculations.record import _uptake_flags
    from aiida_ssb.schemas.processes import InputAmount, normalise_inputs

    inputs = normalise_inputs(
        [
            InputAmount(material='SHEET', parts=100, basis='wt', role='host'),
            InputAmount(material='B12', parts=8.0, basis='wt', role='solute'),
            InputAmount(material='B10', parts=7.0, basis='wt', role='solute'),
            InputAmount(material='IPA', role='solvent'),
        ]
    )
    assert _uptake_flags({'uptake_wt_percent': 15.0}, inputs) == []
    (found,) = _uptake_flags({'uptake_wt_percent': 8.0}, inputs)
    assert found['flag'] == 'uptake_contradicts_inputs' and found['value_percent'] == pytest.approx(15.0)
    assert _uptake_flags({}, inputs) == []


def test_flags_never_stop_a_summary_and_are_json():
    import json

    summary = summarise(cathode_record(293, v0=0.14, first='discharge'), cathode_half_cell(2.0))
    assert len(summary.flags) >= 3
    json.dumps(summary.to_dict())
    assert math.isfinite(summary.to_dict()['initial_discharge_capacity_mah_g_active'])
