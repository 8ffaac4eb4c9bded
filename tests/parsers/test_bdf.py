"""Battery Data Format: export of cycling records, import of BDF tables, the round trip, the reference validator."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, detect_format, read
from aiida_ssb.parsers.bdf import BDF_REQUIRED, bdf_table, write_bdf

RECORDS = ['biologic/gcpl.pr_182.1.mpr', 'biologic/gcpl.pr_182.1.mpt', 'biologic/mb.mpt', 'cyclers/maccor_example.txt']


@pytest.mark.parametrize('relative', RECORDS)
@pytest.mark.parametrize('suffix', ['.bdf.csv', '.bdf.parquet'])
def test_round_trip_reproduces_the_columns(shared_file, tmp_path, relative, suffix):
    if suffix.endswith('parquet'):
        pytest.importorskip('pyarrow')
    original = read(shared_file(relative))
    path, metadata_path = write_bdf(original, tmp_path / f'record{suffix}', stack_pressure_mpa=2.5)
    assert detect_format(path) == 'bdf'
    again = read(path)
    assert again.technique == original.technique  # from the metadata file
    assert set(again.columns) == set(original.columns)
    for name, values in original.columns.items():
        np.testing.assert_allclose(again[name], values, rtol=1e-14, atol=0, equal_nan=True, err_msg=name)
        assert again[name].dtype == values.dtype, name
    assert again.metadata['applied_pressure_mpa'] == pytest.approx(2.5)
    document = json.loads(open(metadata_path).read())
    assert document['columns']['Current / A'] == 'A'


def test_bdf_columns_units_and_step_count(shared_file):
    record = read(shared_file('biologic/gcpl.pr_182.1.mpr'))
    table = bdf_table(record, stack_pressure_mpa=0.2, extra_columns=False)
    assert list(table)[:3] == list(BDF_REQUIRED)
    np.testing.assert_allclose(table['Current / A'], record['current_ma'] / 1000, equal_nan=True)
    np.testing.assert_allclose(table['Net Capacity / Ah'], record['charge_mah'] / 1000)
    assert np.all(table['Applied Pressure / Pa'] == 2e5)
    steps = table['Step Count / 1']
    assert steps[0] == 1 and np.all(np.diff(steps) >= 0)  # never resets, unlike the instrument's Ns
    assert steps[-1] == 1 + np.count_nonzero(np.diff(record['step_index']))
    assert 'Unix Time / s' not in table  # that .mpr has a start date but no start time: unknown stays absent


def test_a_bdf_file_written_elsewhere(tmp_path):
    path = tmp_path / 'UCam__A0001__20241031_001.bdf'
    path.write_text(
        'Test Time / s,Voltage / V,Current / A,Cycle Count / 1,Step Count / 1,Unix Time / s,Surface Temperature T2 / degC\n'
        + ''.join(
            f'{10.0 * k},{3.0 + 0.01 * k},{0.5 if k < 5 else -0.5},1,{1 if k < 5 else 2},{1.7e9 + 10 * k},25\n'
            for k in range(10)
        )
    )
    measurement = read(path)
    assert measurement.technique == 'cycling'
    np.testing.assert_allclose(measurement['current_ma'][:2], [500.0, 500.0])
    assert measurement['step_index'].tolist() == [1] * 5 + [2] * 5
    assert measurement.metadata['start_time_unix_s'] == pytest.approx(1.7e9)
    assert measurement.metadata['ignored_columns'] == ['Surface Temperature T2 / degC']


def test_not_bdf_without_its_required_columns(tmp_path):
    path = tmp_path / 'x.bdf'
    path.write_text('Test Time / s,Voltage / V\n1,2\n')
    with pytest.raises(ParseError, match='Current / A'):
        read(path, file_format='bdf')


def test_only_cycling_records_are_bdf(shared_file):
    with pytest.raises(ValueError, match='cycler time series'):
        bdf_table(read(shared_file('biologic/peis.mpt')))


@pytest.mark.parametrize('extra_columns', [False, True])
def test_reference_validator_accepts_the_export(shared_file, tmp_path, extra_columns):
    bdf = pytest.importorskip('bdf', reason='the reference BDF package (pip install batterydf) is not installed')
    import pandas as pd

    path, _ = write_bdf(
        read(shared_file('biologic/gcpl.pr_182.1.mpr')),
        tmp_path / 'record.bdf.csv',
        stack_pressure_mpa=1.0,
        extra_columns=extra_columns,
    )
    report = bdf.validate(pd.read_csv(path), raise_on_error=False)
    assert report['ok'] and report['missing'] == []
    assert report['legacy_labels'] == []
    assert report['time_stats']['monotonic']
    if not extra_columns:
        assert report['extras'] == []  # every column is a BDF quantity under its preferred label
