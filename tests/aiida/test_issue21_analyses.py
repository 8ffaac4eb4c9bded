"""Issue 21 end to end: dQ/dV, GITT, DC polarisation, transference number on cells; DSC and XRD on a material
(imported from files, analysed by the cell workflow, indexed and queried); the Rietveld record."""

import math

import numpy as np
import pytest
from aiida import orm

from aiida_ssb.calculations.record import assemble_cell
from aiida_ssb.calculations.summary import headline_numbers
from aiida_ssb.data.index import INDEX_EXTRA, index_materials
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import CyclingData, ImpedanceSpectrumData, SymmetricCellData
from aiida_ssb.parsers.base import Measurement
from aiida_ssb.query import tables
from tests.aiida.test_analyses import run_steps, summaries
from tests.analysis.known_answers import (
    dsc_trace,
    galvanostatic_record,
    gitt_record,
    polarisation_record,
    powder_pattern,
    symmetric_polarisation,
)


def _cell(spec):
    node, _ = assemble_cell(spec)
    return node


def test_cycling_cell_gets_dqdv_and_gitt_and_their_headlines(aiida_profile_clean):
    MaterialData(
        {
            'id': 'CATH',
            'role': 'composite',
            'nominal_composition': [
                {'material': 'AM', 'fraction': '70 wt%', 'role': 'active_material'},
                {'material': 'SE', 'fraction': '30 wt%', 'role': 'electrolyte'},
            ],
        }
    ).store()
    for sample, role in (('SE', 'electrolyte'), ('NA', 'metal_foil')):
        MaterialData({'id': sample, 'role': role}).store()
    cell = _cell(
        {
            'id': 'FC',
            'format': 'full',
            'diameter': '10 mm',
            'layers': [
                {'role': 'positive', 'material': 'CATH', 'mass': '2 mg'},
                {'role': 'separator', 'material': 'SE', 'mass': '60 mg'},
                {'role': 'negative', 'material': 'NA'},
            ],
        }
    )
    t, v, i = galvanostatic_record([(3.6, 0.02, 0.5), (4.0, 0.03, 0.4)], cycles=3, shift_v_per_cycle=0.005)
    cycling = CyclingData(Measurement('gcpl', {'time_s': t, 'voltage_v': v, 'current_ma': i}), sample_id='FC').store()
    t, v, i = gitt_record()
    titration = CyclingData(Measurement('cp', {'time_s': t, 'voltage_v': v, 'current_ma': i}), sample_id='FC').store()
    run = run_steps(cell, [cycling, titration], ('dqdv', 'gitt', 'pitt'), {'gitt': {'particle_radius_um': 30.0}})
    assert not run.failures, run.failures
    assert run.skipped['pitt'] == 'no PITT record'
    (dqdv,) = summaries(run, 'dqdv')
    assert dqdv['charge_peak_v'] == pytest.approx(3.6, abs=0.002)
    assert dqdv['mass_mg'] == pytest.approx(1.4)
    (gitt,) = summaries(run, 'gitt')
    assert gitt['diffusion_coefficient_median_cm2_s'] == pytest.approx(1e-10, rel=0.02)
    assert gitt['options']['particle_radius_um'] == 30.0
    items = [dict(node.get_dict(), uuid=node.uuid) for node in summaries(run, 'dqdv') + summaries(run, 'gitt')]
    numbers = headline_numbers(items)
    assert numbers['dqdv_charge_peak_shift_v'] == pytest.approx(0.01, abs=0.003)
    assert numbers['gitt_diffusion_coefficient_cm2_s'] == pytest.approx(1e-10, rel=0.02)


def test_polarisations_feed_the_electrolyte_index_and_the_samples_query(aiida_profile_clean):
    for sample, role in (('SE', 'electrolyte'), ('LI', 'metal_foil'), ('CU', 'current_collector')):
        MaterialData({'id': sample, 'role': role}).store()
    blocking = _cell(
        {
            'id': 'LI-SE-CU',
            'format': 'half',
            'diameter': '10 mm',
            'layers': [
                {'role': 'blocking_electrode', 'material': 'CU'},
                {'role': 'working', 'material': 'SE', 'mass': '50 mg', 'thickness': '500 um'},
                {'role': 'electrolyte', 'material': 'SE', 'mass': '50 mg', 'thickness': '500 um'},
                {'role': 'counter', 'material': 'LI'},
            ],
        }
    )
    area = math.pi * 0.5**2
    electronic = 0.05 / (5e-9 * area)
    t, v, i = polarisation_record(biases_v=(0.25, 0.5), ocv_v=2.3, electronic_ohm=electronic)
    ca = CyclingData(
        Measurement('ca', {'time_s': t, 'voltage_v': v, 'current_ma': i}),
        sample_id='LI-SE-CU',
        conditions={'temperature_c': 60.0},
    ).store()
    symmetric = _cell(
        {
            'id': 'LI-SYM',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'negative', 'material': 'LI'},
                {'role': 'electrolyte', 'material': 'SE', 'mass': '50 mg', 'thickness': '500 um'},
                {'role': 'negative', 'material': 'LI'},
            ],
        }
    )
    frequency = np.logspace(6, -1, 50)

    def spectrum(interface):
        z = 500.0 + interface / (1 + 1j * 2 * np.pi * frequency * interface * 1e-6)
        return ImpedanceSpectrumData(
            Measurement('peis', {'frequency_hz': frequency, 'z_real_ohm': z.real, 'z_imag_ohm': z.imag}),
            sample_id='LI-SYM',
        ).store()

    # records in measurement order (nodes are dated when they are made): spectrum, polarisation, spectrum
    spectra = [spectrum(300.0)]
    t, v, i, _ = symmetric_polarisation(t_plus=0.91, delta_v=0.05)
    hold = SymmetricCellData(
        Measurement('ca', {'time_s': t, 'voltage_v': v, 'current_ma': i}), sample_id='LI-SYM'
    ).store()
    spectra.append(spectrum(400.0))
    run = run_steps(blocking, [ca], ('dc_polarisation', 'cycling', 'dqdv'))
    assert not run.failures, run.failures
    assert 'cycling' not in run.results and 'dqdv' not in run.results  # a CA record is not galvanostatic
    (dc,) = summaries(run, 'dc_polarisation')
    assert dc['electronic_conductivity_s_cm'] == pytest.approx(5e-9, rel=0.01)
    assert dc['electrolyte_sample_id'] == 'SE' and dc['bias_v'] == pytest.approx(0.25)
    sym_run = run_steps(symmetric, [spectra[0], hold, spectra[1]], ('eis_fit', 'transference_number', 'ccd'))
    assert not sym_run.failures, sym_run.failures
    assert 'ccd' not in sym_run.results
    (transference,) = summaries(sym_run, 'transference_number')
    assert transference['method'] == 'bruce_vincent'
    assert transference['transference_number'] == pytest.approx(0.91, abs=0.01)
    assert transference['resistance_source'].startswith('before: fit')
    index_materials(summaries(run, 'dc_polarisation') + summaries(sym_run, 'transference_number'))
    entry = orm.load_node(MaterialData.objects.find(filters={'attributes.sample_id': 'SE'})[0].pk).base.extras.get(
        INDEX_EXTRA
    )
    assert entry['electronic_conductivity_s_cm'] == pytest.approx(5e-9, rel=0.01)
    assert entry['electronic_conductivity_temperature_c'] == 60.0
    assert entry['transference_number'] == pytest.approx(0.91, abs=0.01)
    frame = tables.samples(
        filters=['electronic_conductivity_s_cm < 1e-8'], columns=['sample_id', 'transference_number']
    )
    assert list(frame['sample_id']) == ['SE']


NETZSCH = """#EXPORTTYPE:DATA ALL
#INSTRUMENT:NETZSCH STA 449F3
#SAMPLE MASS /mg:10.0
#EXO:1
#RANGE:30°C/5.0(K/min)/600°C
##Temp./°C;Time/min;DSC/(mW/mg);Mass/%
"""


@pytest.mark.heavy
def test_material_records_are_analysed_indexed_and_queried(aiida_profile_clean, tmp_path):
    from aiida_ssb.calculations.diffraction import run_record_rietveld
    from aiida_ssb.importer.manifest import import_manifest
    from aiida_ssb.query.records import materials_with_records
    from aiida_ssb.workflows.cell import run_cell_analyses

    temperature, time, q = dsc_trace([(540.0, 6.0, 5.0)], step_c=0.5, noise_w_g=0.002)
    mass = 100.0 - 1.0 / (1.0 + np.exp(-(temperature - 520.0) / 5.0))
    rows = '\n'.join(f'{a:.2f};{b / 60:.4f};{c:.5f};{d:.4f}' for a, b, c, d in zip(temperature, time, q, mass))
    (tmp_path / 'dsc.txt').write_text(NETZSCH + rows + '\n', encoding='latin-1')
    x, y, _ = powder_pattern(7.882, points=4000)
    (tmp_path / 'xrd.xy').write_text('# wavelength: 1.5406 A\n' + '\n'.join(f'{a:.4f} {b:.0f}' for a, b in zip(x, y)))
    (tmp_path / 'manifest.yaml').write_text(
        'campaign: issue21\n'
        'materials:\n'
        '  - {id: COMP-CR, role: composite, name: NaCrO2 composite}\n'
        '  - {id: MM-NCB, role: electrolyte, name: NaCB11H12 milled}\n'
        'measurements:\n'
        '  - {material: COMP-CR, technique: sta, file: dsc.txt}\n'
        '  - {material: MM-NCB, technique: xrd, file: xrd.xy}\n'
        'analysis:\n'
    )
    text = (tmp_path / 'manifest.yaml').read_text().replace('analysis:\n', '')
    (tmp_path / 'manifest.yaml').write_text(text)
    import_manifest(tmp_path / 'manifest.yaml')
    materials = materials_with_records(['issue21'])
    assert sorted(m.sample_id for m in materials) == ['COMP-CR', 'MM-NCB']
    options = {
        'diffraction': {'references': [{'name': 'bcc', 'crystal_system': 'cubic', 'a_angstrom': 7.85, 'centring': 'I'}]}
    }
    nodes = run_cell_analyses(materials, options)
    assert all(node.is_finished_ok for node in nodes), [node.exit_message for node in nodes]
    frame = tables.samples(
        filters=['dsc_onset_c > 500'],
        columns=['sample_id', 'dsc_onset_c', 'dsc_peak_heat_flow_w_g', 'tga_mass_loss_percent'],
    )
    assert list(frame['sample_id']) == ['COMP-CR']
    assert frame['dsc_onset_c'].iloc[0] == pytest.approx(528.0, abs=1.5)
    assert frame['dsc_peak_heat_flow_w_g'].iloc[0] == pytest.approx(5.0, rel=0.03)
    assert frame['tga_mass_loss_percent'].iloc[0] == pytest.approx(1.0, abs=0.05)
    frame = tables.samples(
        filters=['lattice_a_angstrom > 7.8'], columns=['sample_id', 'lattice_a_angstrom', 'xrd_phases']
    )
    assert list(frame['sample_id']) == ['MM-NCB'] and frame['xrd_phases'].iloc[0] == 'bcc'
    assert frame['lattice_a_angstrom'].iloc[0] == pytest.approx(7.882, abs=0.003)
    from click.testing import CliRunner

    from aiida_ssb.cli import cmd_ssb

    for sample, kind in (('COMP-CR', 'thermal'), ('MM-NCB', 'diffraction')):
        result = CliRunner().invoke(cmd_ssb, ['plot', sample, '--kind', kind, '-o', str(tmp_path / f'{kind}.png')])
        assert result.exit_code == 0, result.output
        assert (tmp_path / f'{kind}.png').stat().st_size > 10000
    result = CliRunner().invoke(cmd_ssb, ['plot', 'MM-NCB', '--kind', 'dqdv', '-o', str(tmp_path / 'none.png')])
    assert result.exit_code != 0 and 'dqdv does not apply to MM-NCB: no galvanostatic cycling record' in result.output
    pattern = next(n for n in materials if n.sample_id == 'MM-NCB')
    from aiida_ssb.query.records import measurements_of_cell

    (xrd,) = measurements_of_cell(pattern)
    summary = run_record_rietveld(
        xrd,
        {
            'software': 'TOPAS 6',
            'rwp_percent': 2.49,
            'reference': 'doi:10.1021/acsami.1c21113',
            'phases': [
                {'name': 'bcc NCB', 'space_group': 'Im-3m', 'weight_fraction': 0.92, 'a_angstrom': 7.882},
                {'name': 'orthorhombic NCB', 'space_group': 'Pca21', 'weight_fraction': 0.08},
            ],
        },
    )
    assert summary.creator.inputs.pattern.uuid == xrd.uuid
    frame = tables.samples(
        columns=['sample_id', 'rietveld_rwp_percent', 'rietveld_phases'], filters=['rietveld_rwp_percent < 3']
    )
    assert frame['rietveld_phases'].iloc[0] == 'bcc NCB 0.92, orthorhombic NCB 0.08'
    from aiida_ssb.exceptions import InputError

    with pytest.raises(InputError, match='add up'):
        run_record_rietveld(
            xrd, {'phases': [{'name': 'a', 'weight_fraction': 0.8}, {'name': 'b', 'weight_fraction': 0.8}]}
        )
