"""Issue 17 end to end: a manifest with flagged records imports (with warnings), the flags are stored and
queryable, the cycling analysis takes its conventions from the cell, a full cell gets its measured N/P from the
half cells of its electrode sheets, and ``show`` says how each cell was counted."""

import json
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from aiida_ssb.data.measurements import CyclingData
from aiida_ssb.parsers.base import Measurement
from tests.analysis.test_cycling import Cycle, make_record

AREA = 1.1309733552923256  # 12 mm

MANIFEST = f"""\
campaign: counting
materials:
  - {{id: NCO, role: active_material, formula: NaCrO2, theoretical_capacity: 120 mAh/g}}
  - {{id: SN, role: active_material, formula: Sn, theoretical_capacity: 847 mAh/g}}
  - {{id: PVDF, role: binder}}
  - {{id: SP, role: carbon}}
  - {{id: B12, role: precursor, formula: Na2B12H12}}
  - {{id: IPA, role: solvent}}
  - {{id: NBH, role: electrolyte, formula: Na4(B12H12)(B10H10), theoretical_density: 1.17 g/cm3}}
  - {{id: NASN, role: active_material, formula: Na3Sn}}
  - {{id: NA, role: metal_foil, formula: Na}}
processes:
  - type: casting
    inputs: {{NCO: {{fraction: 97 wt%}}, PVDF: {{fraction: 1 wt%}}, SP: {{fraction: 2 wt%}}}}
    output: {{id: S-NCO, role: electrode_sheet}}
    parameters: {{mass_loading: 5.6 mg/cm2, loading_basis: active}}
  - type: casting
    inputs: {{SN: {{fraction: 90 wt%}}, PVDF: {{fraction: 5 wt%}}, SP: {{fraction: 5 wt%}}}}
    output: {{id: S-SN, role: electrode_sheet}}
    parameters: {{mass_loading: 1.2 mg/cm2, loading_basis: active}}
  - type: infiltration
    inputs: {{S-NCO: {{parts: 100, basis: wt, role: host}}, B12: {{parts: 15, basis: wt, role: solute}}, IPA: {{role: solvent}}}}
    output: {{id: INF-BAD, role: electrode_sheet}}
    parameters: {{uptake_wt_percent: 8}}
cells:
  - id: PELLET
    format: blocking_pellet
    diameter: 10 mm
    layers: [{{role: electrolyte, material: NBH, mass: 100 mg, thickness: 500 um}}]
  - id: NCO-HC
    format: half
    diameter: 12 mm
    one_c: 120 mA/g
    layers:
      - {{role: positive, material: S-NCO, mass: {5.6 * AREA / 0.97:.5f} mg}}
      - {{role: separator, material: NBH, mass: 50 mg}}
      - {{role: negative, material: NASN, mass: 40 mg}}
  - id: SN-HC
    format: half
    diameter: 12 mm
    layers:
      - {{role: negative, material: S-SN, mass: {1.2 * AREA / 0.90:.5f} mg}}
      - {{role: separator, material: NBH, mass: 50 mg}}
      - {{role: counter, material: NASN}}
  - id: FC
    format: full
    diameter: 12 mm
    one_c: 120 mA/g
    layers:
      - {{role: positive, material: S-NCO, mass: {5.6 * AREA / 0.97:.5f} mg}}
      - {{role: separator, material: NBH, mass: 60 mg}}
      - {{role: negative, material: S-SN, mass: {1.2 * AREA / 0.90:.5f} mg}}
  - id: SYM
    format: symmetric
    diameter: 12 mm
    layers:
      - {{role: negative, material: NA, diameter: 10 mm}}
      - {{role: electrolyte, material: NBH, mass: 60 mg, thickness: 600 um}}
      - {{role: negative, material: NA, diameter: 10 mm}}
"""


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope='module')
def imported(aiida_profile, tmp_path_factory):
    aiida_profile.reset_storage()
    path = tmp_path_factory.mktemp('counting') / 'manifest.yaml'
    path.write_text(textwrap.dedent(MANIFEST))
    result = _invoke('import', path)
    return result


def test_flags_never_stop_an_import_and_are_reported(imported):
    assert imported.exit_code == 0, imported.output
    assert 'plausibility flag(s)' in imported.output
    assert 'PELLET: relative_density_above_1' in imported.output
    assert 'INF-BAD: uptake_contradicts_inputs' in imported.output
    assert 'NCO-HC' not in imported.output.split('plausibility flag(s)')[1]  # 5.6 mg/cm2 as the sheet says


def test_flags_are_queryable(imported):
    rows = json.loads(_invoke('cells', '--where', 'flags contains relative_density_above_1', '--format', 'json').output)
    assert [row['sample_id'] for row in rows] == ['PELLET']
    rows = json.loads(_invoke('cells', '--columns', 'sample_id,cell_kind,flags', '--format', 'json').output)
    kinds = {row['sample_id']: row['cell_kind'] for row in rows}
    assert kinds == {
        'PELLET': 'blocking_pellet',
        'NCO-HC': 'cathode_half_cell',
        'SN-HC': 'anode_half_cell',
        'FC': 'full_cell',
        'SYM': 'symmetric_cell',
    }
    assert {row['sample_id']: row['flags'] for row in rows}['PELLET'] == 'relative_density_above_1'
    rows = json.loads(
        _invoke('samples', '--where', 'flags contains uptake_contradicts_inputs', '--format', 'json').output
    )
    assert [row['sample_id'] for row in rows] == ['INF-BAD']
    result = _invoke('cells', '--where', 'flags contains no_such_flag')
    assert result.exit_code == 0 and 'PELLET' not in result.output


def test_record_values_of_the_cell_kinds(imported):
    from aiida_ssb.data.sample import load_sample

    full = load_sample('FC').base.attributes.all
    assert full['np_ratio_theoretical'] == pytest.approx(847 * 1.2 / (120 * 5.6), rel=1e-5)
    assert full['both_composites_mass_mg'] == pytest.approx(5.6 * AREA / 0.97 + 1.2 * AREA / 0.90, rel=1e-5)
    assert full['average_voltage_window_v'] == pytest.approx([1.8, 3.35])
    assert load_sample('SN-HC').base.attributes.get('negative_theoretical_capacity_mah_g') == 847.0
    sym = load_sample('SYM')
    assert sym.base.attributes.get('electrode_area_cm2') == pytest.approx(0.7854, abs=1e-4)
    thickness, area, rule = sym.conductivity_geometry()
    assert thickness == pytest.approx(0.06) and area == pytest.approx(0.7854, abs=1e-4) and 'electrode contact' in rule
    result = _invoke('show', 'PELLET')
    assert 'Flags' in result.output and 'relative_density_above_1' in result.output


def _record(cell_id, specs, one_c, first='charge', v0=3.0, slope=0.4):
    record = make_record(
        specs, one_c_ma=one_c, q_nominal_mah=1.3 * specs[0].charge_mah, v0=v0, slope_v=slope, first=first
    )
    columns = {k: v for k, v in record.columns.items() if k in ('time_s', 'voltage_v', 'current_ma', 'cycle_index')}
    return CyclingData(Measurement('gcpl', columns), sample_id=cell_id).store()


def test_cycling_counts_each_cell_by_its_kind_and_balances_the_full_cell(imported):
    from aiida_ssb.calculations.summary import summarise_cell
    from aiida_ssb.data.index import index_cell
    from aiida_ssb.data.sample import load_sample
    from tests.aiida.test_analyses import run_steps, summaries

    positive, negative = 5.6 * AREA, 1.2 * AREA
    nco_record = _record('NCO-HC', [Cycle(0.124 * positive, 0.118 * positive) for _ in range(2)], 0.12 * positive)
    sn_specs = [Cycle(0.5851 * negative, 0.6944 * negative), Cycle(0.59 * negative, 0.60 * negative)]
    sn_record = _record('SN-HC', sn_specs, 0.847 * negative, first='discharge', v0=0.45)
    for cell_id, record in (('NCO-HC', nco_record), ('SN-HC', sn_record)):
        run = run_steps(load_sample(cell_id), [record], ('cycling',))
        assert not run.failures, run.failures
    sn_run_summary = summaries(run, 'cycling')[0]
    assert sn_run_summary['conventions']['first_half'] == 'discharge'
    assert sn_run_summary['initial_coulombic_efficiency_percent'] == pytest.approx(84.26, abs=0.01)
    assert [f['flag'] for f in sn_run_summary['flags']] == ['capacity_off_theoretical']
    # the full cell takes the half cells' first-cycle capacities (124 and 694.4 mAh/g): N/P 1.20
    q = 0.110 * positive
    fc_record = _record('FC', [Cycle(q / 0.722, q), Cycle(q / 0.958, q)], 0.12 * positive, v0=2.6, slope=0.2)
    cell = load_sample('FC')
    run = run_steps(cell, [fc_record], ('cycling',))
    assert not run.failures, run.failures
    (summary,) = summaries(run, 'cycling')
    assert summary['np_ratio_measured'] == pytest.approx(1.20, abs=0.005)
    assert summary['positive_half_cell'] == 'NCO-HC' and summary['negative_half_cell'] == 'SN-HC'
    process = summary.creator
    assert process.inputs.negative_half_cell.uuid == sn_run_summary.uuid
    assert summary['conventions']['cell_kind'] == 'full_cell'
    assert summary['initial_coulombic_efficiency_percent'] == pytest.approx(72.2, rel=1e-4)
    # index and show: the conventions and the flags of the anode half cell
    sn_cell = load_sample('SN-HC')
    result, _ = summarise_cell.run_get_node(cell=sn_cell, cycling__sn=sn_run_summary)
    index_cell(sn_cell, result['summary'])
    rows = json.loads(_invoke('cells', '--where', 'flags contains capacity_off_theoretical', '--format', 'json').output)
    assert [row['sample_id'] for row in rows] == ['SN-HC']
    shown = _invoke('show', 'SN-HC').output
    assert 'anode_half_cell; first half discharge (cell); CE charge/discharge (cell)' in shown
    assert 'capacity_off_theoretical' in shown
    assert np.isfinite(summary['initial_specific_energy_wh_kg_both_composites'])
