"""`aiida-ssb show` reads a sample's records, their raw files and conditions, its history and the records of its
headline numbers in a number of queries that does not grow with its number of records (it made a few per
record: about 250 queries for a pellet of 43 spectra)."""

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import event

from aiida_ssb.calculations.record import assemble_cell
from aiida_ssb.cli import cmd_ssb
from aiida_ssb.data.material import MaterialData
from aiida_ssb.importer.measurements import import_file


def _spectrum_file(path, seed):
    f = np.logspace(6, 0, 25)
    w = 2j * np.pi * f
    z = 100.0 / (1 + 100.0 * 1e-9 * w) + 1 / (1e-6 * w**0.9)
    z = z * (1 + 0.002 * np.random.default_rng(seed).standard_normal(f.size))
    np.savetxt(path, np.column_stack([f, z.real, z.imag]), delimiter=',')
    return path


def _statements_of_show(sample_id):
    from aiida.manage import get_manager

    engine = get_manager().get_profile_storage().get_session().get_bind()
    count = [0]

    def counted(*_args):
        count[0] += 1

    event.listen(engine, 'before_cursor_execute', counted)
    try:
        result = CliRunner().invoke(cmd_ssb, ['show', sample_id], catch_exceptions=False)
    finally:
        event.remove(engine, 'before_cursor_execute', counted)
    assert result.exit_code == 0, result.output
    return count[0], result.output


@pytest.mark.heavy
def test_show_queries_do_not_grow_with_the_records(aiida_profile_clean, tmp_path):
    MaterialData({'id': 'SE', 'role': 'electrolyte', 'supplier': 'Acme'}).store()
    MaterialData({'id': 'C', 'role': 'carbon'}).store()
    assemble_cell(
        {
            'id': 'PEL',
            'format': 'blocking_pellet',
            'diameter': '10 mm',
            'layers': [
                {'role': 'blocking_electrode', 'material': 'C'},
                {'role': 'electrolyte', 'material': 'SE', 'thickness': '500 um'},
                {'role': 'blocking_electrode', 'material': 'C'},
            ],
        }
    )
    counts = {}
    for index in range(6):
        path = _spectrum_file(tmp_path / f'PEL_{index}.csv', index)
        import_file(path, 'PEL', technique='peis', temperature=f'{20 + 10 * index} degC')
        if index + 1 in (2, 6):
            counts[index + 1], output = _statements_of_show('PEL')
            assert f'PEL_{index}.csv' in output and 'SE' in output and 'from Acme' in output
    assert counts[6] == counts[2], counts
