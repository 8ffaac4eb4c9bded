"""Recorded lab steps: every kind, provenance links, no caching, unique sample ids, derived values."""

import pytest
from aiida import orm

from aiida_ssb.calculations.record import RECORD_FUNCTIONS, assemble_cell, link_label, record_step
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.sample import DuplicateSampleError, find_sample


def material(sample_id, role, **extra):
    return MaterialData({'id': sample_id, 'role': role, **extra}).store()


STEP_PARAMETERS = {
    'ball_milling': {'mill': 'Spex 8000M', 'cycle_duration': '15 min', 'repetitions': 3, 'ball_to_powder_ratio': 30},
    'solution_impregnation': {
        'solvent': 'isopropanol',
        'method': 'ultrasonication',
        'drying': [{'temperature': '180 degC', 'duration': '4 h', 'atmosphere': 'vacuum'}],
    },
    'solution_synthesis': {'solvent': 'isopropanol', 'solvent_volume': '20 mL', 'drying': [{'temperature': '60 degC'}]},
    'heat_treatment': {
        'purpose': 'drying',
        'temperature': '250 degC',
        'duration': '12 h',
        'atmosphere': 'vacuum',
        'pressure': '1e-3 mbar',
    },
    'mixing': {'method': 'mortar', 'duration': '15 min'},
    'slurry_casting': {
        'solvent': 'NMP',
        'blade_gap': '200 um',
        'mass_loading': '7.7 mg/cm2',
        'loading_basis': 'active',
    },
    'pressing': {'die_diameter': '10 mm', 'pressure': '240 MPa'},
}


@pytest.mark.parametrize('kind', sorted(RECORD_FUNCTIONS))
def test_every_step_kind_links_inputs_to_its_product(aiida_profile_clean, kind):
    a = material('A-1', 'precursor')
    b = material('B-1', 'precursor')
    product, process = record_step(
        kind,
        [{'material': 'A-1', 'fraction': '60 wt%'}, {'material': 'B-1', 'fraction': '40 wt%'}],
        {'id': 'P-1', 'role': 'composite', 'name': 'product'},
        STEP_PARAMETERS[kind],
    )
    assert product.is_stored and product.sample_id == 'P-1'
    assert process.process_type == f'aiida.calculations:ssb.record.{kind}'
    incoming = {link.link_label: link.node for link in process.base.links.get_incoming().all()}
    assert incoming[link_label('A-1')].uuid == a.uuid and incoming[link_label('B-1')].uuid == b.uuid
    parameters = incoming['parameters'].get_dict()
    assert [item['material'] for item in parameters['inputs']] == ['A-1', 'B-1']
    assert product.base.attributes.get('nominal_composition')[0]['fraction'] == pytest.approx(0.6)
    assert product.creator.uuid == process.uuid
    assert process.base.attributes.get('version')['plugin']


def test_ball_milling_total_duration_and_units(aiida_profile_clean):
    material('NCB-01', 'precursor')
    _, process = record_step(
        'ball_milling',
        ['NCB-01'],
        {'id': 'NCB-MM45', 'role': 'electrolyte'},
        {'duration': '0.75 h', 'ball_to_powder_ratio': 180, 'mill': 'Spex 8000M'},
    )
    params = process.inputs.parameters.get_dict()
    assert params['duration_min'] == pytest.approx(45.0)
    with pytest.raises(ValueError, match='repetitions x cycle_duration_min'):
        record_step(
            'ball_milling',
            ['NCB-01'],
            {'id': 'X', 'role': 'electrolyte'},
            {'duration': '40 min', 'cycle_duration': '15 min', 'repetitions': 3},
        )


def test_lab_steps_are_never_cached(aiida_profile_clean):
    from aiida.manage.caching import enable_caching

    material('A-1', 'precursor')
    with enable_caching():
        _, first = record_step('mixing', ['A-1'], {'id': 'M-1', 'role': 'composite'}, {'method': 'mortar'})
        _, second = record_step('mixing', ['A-1'], {'id': 'M-2', 'role': 'composite'}, {'method': 'mortar'})
    assert not second.base.caching.is_created_from_cache
    assert first.pk != second.pk


def test_duplicate_sample_id_is_refused(aiida_profile_clean):
    material('SE-03', 'electrolyte')
    with pytest.raises(DuplicateSampleError, match='SE-03'):
        material('SE-03', 'electrolyte')
    assert find_sample('SE-03').role == 'electrolyte'


def test_full_cell_derived_values_match_seed_000(aiida_profile_clean):
    """2 mg composite x 70 % over a 12 mm disc = 1.24 mg/cm2; 1C = 0.161 mA/cm2 at 130 mA/g."""
    nvopf = material('NVOPF-01', 'active_material', theoretical_capacity='130 mAh/g')
    se = material('SE-03', 'electrolyte')
    carbon = material('C65-01', 'carbon')
    material('NA-01', 'metal_foil')
    composite, _ = record_step(
        'mixing',
        [
            {'material': 'NVOPF-01', 'fraction': '70 wt%'},
            {'material': 'SE-03', 'fraction': '20 wt%'},
            {'material': 'C65-01', 'fraction': '10 wt%'},
        ],
        {'id': 'CATH-01', 'role': 'composite'},
        {'method': 'mortar', 'duration': '15 min'},
        materials={'NVOPF-01': nvopf, 'SE-03': se, 'C65-01': carbon},
    )
    assert composite.base.attributes.get('active_fraction') == pytest.approx(0.70)
    cell, process = assemble_cell(
        {
            'id': 'FC-01',
            'format': 'full',
            'diameter': '12 mm',
            'one_c': '130 mA/g',
            'stack_pressure': '< 0.2 MPa',
            'layers': [
                {'role': 'positive', 'material': 'CATH-01', 'mass': '2 mg'},
                {'role': 'separator', 'material': 'SE-03', 'mass': '80 mg'},
                {'role': 'negative', 'material': 'NA-01'},
            ],
            'fabrication': [{'pressure': '40 MPa', 'layers': ['positive']}, {'pressure': '250 MPa'}],
        }
    )
    get = cell.base.attributes.all.get
    assert get('mass_loading_mg_cm2') == pytest.approx(1.238, abs=5e-4)
    assert get('one_c_current_density_ma_cm2') == pytest.approx(0.161, abs=5e-4)
    assert get('active_mass_mg') == pytest.approx(1.4)
    assert get('stack_pressure_bound') == 'upper'
    assert get('max_fabrication_pressure_mpa') == 250
    assert process.process_type == 'aiida.calculations:ssb.record.cell_assembly'
    assert isinstance(cell, CellData) and cell.creator.uuid == process.uuid


def test_high_loading_cell_and_relative_density(aiida_profile_clean):
    """14 mg x 70 % over 12.5 mm = 8.0 mg/cm2 (seed 000); pellet relative density from the theoretical one."""
    material(
        'CATH-01',
        'composite',
        nominal_composition=[
            {'material': 'NVOPF', 'fraction': '70 wt%', 'role': 'active_material'},
            {'material': 'SE', 'fraction': '30 wt%', 'role': 'electrolyte'},
        ],
    )
    material('SE-03', 'electrolyte', theoretical_density='1.126 g/cm3')
    material('NA-01', 'metal_foil')
    cell, _ = assemble_cell(
        {
            'id': 'FC-HL',
            'format': 'full',
            'diameter': '12.5 mm',
            'one_c': '130 mA/g',
            'layers': [
                {'role': 'positive', 'material': 'CATH-01', 'mass': '14 mg'},
                {'role': 'separator', 'material': 'SE-03', 'mass': '90 mg', 'thickness': '650 um'},
                {'role': 'negative', 'material': 'NA-01'},
            ],
        }
    )
    get = cell.base.attributes.all.get
    assert get('mass_loading_mg_cm2') == pytest.approx(8.0, abs=0.02)
    density = 0.090 / (1.2272 * 0.065)
    assert get('electrolyte_density_g_cm3') == pytest.approx(density, rel=1e-3)
    assert get('electrolyte_relative_density') == pytest.approx(density / 1.126, rel=1e-3)


def test_cell_refuses_a_cell_as_layer_material(aiida_profile_clean):
    material('SE-1', 'electrolyte')
    assemble_cell({'id': 'P-1', 'format': 'blocking_pellet', 'layers': [{'role': 'electrolyte', 'material': 'SE-1'}]})
    with pytest.raises(ValueError, match='not a material'):
        assemble_cell(
            {'id': 'P-2', 'format': 'blocking_pellet', 'layers': [{'role': 'electrolyte', 'material': 'P-1'}]}
        )
    assert orm.QueryBuilder().append(CellData).count() == 1
