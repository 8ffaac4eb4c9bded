"""Instrument files in the graph: verbatim raw file, parse process, measurement nodes, no duplicates."""

import hashlib

import numpy as np
import pytest
from aiida import orm

from aiida_ssb.calculations.record import assemble_cell
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import CyclingData, ImpedanceSpectrumData, SymmetricCellData
from aiida_ssb.importer.measurements import import_file


@pytest.fixture
def pellet(aiida_profile_clean):
    MaterialData({'id': 'SE-1', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'IN-1', 'role': 'metal_foil'}).store()
    MaterialData({'id': 'NA-1', 'role': 'metal_foil'}).store()
    cell, _ = assemble_cell(
        {
            'id': 'PEL-1',
            'format': 'blocking_pellet',
            'diameter': '10 mm',
            'layers': [
                {'role': 'blocking_electrode', 'material': 'IN-1'},
                {'role': 'electrolyte', 'material': 'SE-1', 'thickness': '500 um'},
                {'role': 'blocking_electrode', 'material': 'IN-1'},
            ],
        }
    )
    assemble_cell(
        {
            'id': 'SYM-1',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'negative', 'material': 'NA-1'},
                {'role': 'electrolyte', 'material': 'SE-1'},
                {'role': 'negative', 'material': 'NA-1'},
            ],
        }
    )
    return cell


def spectrum_csv(tmp_path, name='spectrum.csv', r=1000.0):
    f = np.logspace(6, -1, 40)
    z = r / (1 + 1j * 2 * np.pi * f * r * 1e-9) + 1 / (1j * 2 * np.pi * f * 1e-6)
    path = tmp_path / name
    path.write_text(''.join(f'{a:.6e},{b:.6e},{c:.6e}\n' for a, b, c in zip(f, z.real, z.imag)))
    return path, f, z


def node_count():
    return orm.QueryBuilder().append(orm.Node).count()


def test_raw_file_is_kept_verbatim_and_linked(pellet, tmp_path):
    path, f, z = spectrum_csv(tmp_path)
    status, nodes = import_file(path, 'PEL-1', temperature='25 degC', technique='impedance')
    assert status == 'new'
    raw = next(n for n in nodes if isinstance(n, orm.SinglefileData))
    assert raw.get_content(mode='rb') == path.read_bytes()
    assert raw.base.attributes.get('sha256') == hashlib.sha256(path.read_bytes()).hexdigest()
    assert raw.filename == 'spectrum.csv'
    spectrum = next(n for n in nodes if isinstance(n, ImpedanceSpectrumData))
    assert spectrum.base.attributes.get('temperature_c') == 25.0
    assert spectrum.base.attributes.get('sample_id') == 'PEL-1'
    frequency, impedance = spectrum.impedance()
    np.testing.assert_allclose(frequency, f, rtol=1e-6)
    np.testing.assert_allclose(impedance, z, rtol=1e-5)
    process = spectrum.creator
    assert process.process_type == 'aiida.calculations:ssb.parse.eis'
    assert process.inputs.sample.uuid == pellet.uuid and process.inputs.raw.uuid == raw.uuid
    frame = spectrum.to_dataframe()
    assert list(frame.columns[:3]) == ['frequency_hz', 'z_real_ohm', 'z_imag_ohm']


def test_same_file_twice_is_not_duplicated_and_foreign_reuse_is_refused(pellet, tmp_path):
    path, _, _ = spectrum_csv(tmp_path)
    import_file(path, 'PEL-1')
    count = node_count()
    status, nodes = import_file(path, 'PEL-1')
    assert status == 'unchanged' and nodes == [] and node_count() == count
    copy = tmp_path / 'copy.csv'
    copy.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="already imported for 'PEL-1'"):
        import_file(copy, 'SYM-1')
    assert node_count() == count


@pytest.mark.parametrize('content', [b'', b'\x00\x01\x02garbage\xff' * 50, b'frequency,re,im\n1,2\n'])
def test_unreadable_files_store_nothing(pellet, tmp_path, content):
    path = tmp_path / 'bad.csv'
    path.write_bytes(content)
    count = node_count()
    with pytest.raises(ValueError, match=r'bad\.csv'):
        import_file(path, 'PEL-1')
    assert node_count() == count


def test_wrong_technique_is_refused(pellet, tmp_path):
    path, _, _ = spectrum_csv(tmp_path)
    count = node_count()
    with pytest.raises(ValueError, match=r'spectrum\.csv'):
        import_file(path, 'PEL-1', technique='galvanostatic_cycling')
    assert node_count() == count


@pytest.mark.heavy
def test_multi_spectrum_file_is_split(pellet, shared_file):
    _status, nodes = import_file(shared_file('biologic/geis.mpt'), 'PEL-1', temperature='25 degC')
    spectra = [n for n in nodes if isinstance(n, ImpedanceSpectrumData)]
    assert len(spectra) > 1
    assert [s.base.attributes.get('part_index') for s in spectra] == list(range(len(spectra)))
    assert all(s.base.attributes.get('technique') == 'geis' for s in spectra)


def test_cycling_of_a_symmetric_cell_is_a_symmetric_cell_record(pellet, shared_file):
    _, nodes = import_file(shared_file('biologic/gcpl.pr_182.1.mpt'), 'SYM-1', temperature='25 degC')
    record = next(n for n in nodes if isinstance(n, CyclingData))
    assert isinstance(record, SymmetricCellData)
    assert record.base.attributes.get('n_rows') == len(record.column('time_s'))


def test_large_mpr_record(pellet, shared_file):
    _, nodes = import_file(shared_file('biologic/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr'), 'SYM-1')
    record = next(n for n in nodes if isinstance(n, CyclingData))
    assert record.base.attributes.get('n_rows') == 46102
    assert record.column('voltage_v').shape == (46102,)


def test_a_stored_record_reads_its_attributes_once(aiida_profile_clean):
    """aiida-core reads a stored node's attributes again, one query, at every access; a record's cannot change once
    stored, so its technique, units and metadata are read once, and what is handed out is a copy."""
    from sqlalchemy import event

    from aiida_ssb.parsers.base import Measurement

    t = np.linspace(0.0, 10.0, 11)
    record = CyclingData(
        Measurement('gcpl', {'time_s': t, 'voltage_v': 3 + 0.01 * t, 'current_ma': np.ones(11)}, {'note': [1]}),
        conditions={'temperature_c': 25.0},
    ).store()
    fresh = orm.load_node(record.pk)
    engine = fresh.backend.get_session().get_bind()
    statements = []

    def counted(*args):
        statements.append(args[2])

    event.listen(engine, 'before_cursor_execute', counted)
    try:
        for _ in range(5):
            assert fresh.technique == 'gcpl' and fresh.has_column('voltage_v')
            assert fresh.conditions == {'temperature_c': 25.0} and 'gcpl' in fresh.describe()
    finally:
        event.remove(engine, 'before_cursor_execute', counted)
    assert len(statements) <= 2, statements  # the node's row once, its attributes once
    fresh.metadata['note'].append(2)  # a copy: the next reader sees the stored value
    assert fresh.metadata['note'] == [1]
