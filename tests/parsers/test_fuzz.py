"""Property-based robustness: real and synthetic files, mutated at random (truncated, bytes flipped,
inserted or deleted, decimal marks replaced, header cut, lines duplicated), must either read into a
valid Measurement or fail with a ParseError that names the file, never another exception."""

from __future__ import annotations

import os
import pathlib
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiida_ssb.parsers import ParseError, read
from tests.conftest import shared_data_dir
from tests.parsers.helpers import assert_valid, write_netzsch, write_xrdml

REAL_SAMPLES = [
    ('biologic/peis.mpt', 'biologic-mpt'),
    ('biologic/ocv.mpt', 'biologic-mpt'),
    ('biologic/zir.mpt', 'biologic-mpt'),
    ('biologic/peis.mpr', 'biologic-mpr'),
    ('biologic/zir.mpr', 'biologic-mpr'),
    ('biologic/cp.mpr', 'biologic-mpr'),
    ('eis/exampleData.csv', 'csv-impedance'),
    ('eis/exampleDataGamry.DTA', 'gamry-dta'),
    ('eis/exampleDataZPlot.z', 'zplot-z'),
    ('eis/exampleDataAutolab.txt', 'autolab-txt'),
    ('eis/exampleDataBioLogic.mpt', 'biologic-mpt'),
    ('cyclers/maccor_example.txt', 'maccor-txt'),
]
SLOW_SAMPLES = [('cyclers/test.ndax', 'neware-ndax')]
SYNTHETIC = ['scan.xrdml', 'pattern.xy', 'sta.txt']
SYNTHETIC_FORMATS = {'scan.xrdml': 'panalytical-xrdml', 'pattern.xy': 'xy', 'sta.txt': 'netzsch-txt'}

MUTATIONS = st.one_of(
    st.tuples(st.just('truncate'), st.floats(0, 1)),
    st.tuples(st.just('flip'), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8)),
    st.tuples(st.just('insert'), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just('delete'), st.floats(0, 1), st.integers(1, 64)),
    st.tuples(st.just('decimal'), st.floats(0, 1), st.booleans()),
    st.tuples(st.just('cut_header'), st.integers(1, 80)),
    st.tuples(st.just('duplicate_line'), st.floats(0, 1)),
)


def mutate(data: bytes, mutation) -> bytes:
    kind = mutation[0]
    size = len(data)
    if kind == 'truncate':
        return data[: int(mutation[1] * size)]
    if kind == 'flip':
        result = bytearray(data)
        for where, value in mutation[1]:
            if result:
                result[min(int(where * size), size - 1)] = value
        return bytes(result)
    if kind == 'insert':
        at = int(mutation[1] * size)
        return data[:at] + mutation[2] + data[at:]
    if kind == 'delete':
        at = int(mutation[1] * size)
        return data[:at] + data[at + mutation[2] :]
    if kind == 'decimal':
        at = int(mutation[1] * size)
        if mutation[2]:
            return data.replace(b'.', b',')
        return data[:at] + data[at:].replace(b'.', b',', 3)
    if kind == 'cut_header':
        return b'\n'.join(data.split(b'\n')[mutation[1] :])
    if kind == 'duplicate_line':
        lines = data.split(b'\n')
        at = min(int(mutation[1] * len(lines)), len(lines) - 1)
        return b'\n'.join(lines[: at + 1] + [lines[at]] + lines[at + 1 :])
    raise AssertionError(kind)


@pytest.fixture(scope='module')
def synthetic_dir():
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        write_xrdml(folder / 'scan.xrdml')
        (folder / 'pattern.xy').write_text(
            '# synthetic\n' + '\n'.join(f'{10 + 0.1 * i:.2f} {100 + i % 7}' for i in range(300)) + '\n'
        )
        write_netzsch(folder / 'sta.txt')
        yield folder


def check(original: pathlib.Path, mutated: bytes, file_format: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / original.name
        path.write_bytes(mutated)
        for forced in (None, file_format):
            try:
                measurement = read(path, file_format=forced)
            except ParseError as error:
                message = str(error)
                assert original.name in message, message
                assert 'internal error' not in message, message
            else:
                assert_valid(measurement)
        assert path.read_bytes() == mutated  # reading never modifies the file


def _real(relative: str) -> pathlib.Path:
    path = shared_data_dir() / relative
    if not path.is_file():
        pytest.skip(f'real instrument file not available: {path}')
    return path


@pytest.mark.parametrize('relative,file_format', REAL_SAMPLES, ids=[sample for sample, _ in REAL_SAMPLES])
@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=MUTATIONS)
def test_mutated_real_files(relative, file_format, mutation):
    original = _real(relative)
    check(original, mutate(original.read_bytes(), mutation), file_format)


@pytest.mark.parametrize('relative,file_format', SLOW_SAMPLES, ids=[sample for sample, _ in SLOW_SAMPLES])
@settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=MUTATIONS)
def test_mutated_neware_files(relative, file_format, mutation):
    pytest.importorskip('NewareNDA')
    original = _real(relative)
    check(original, mutate(original.read_bytes(), mutation), file_format)


@pytest.mark.parametrize('name', SYNTHETIC)
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutation=MUTATIONS)
def test_mutated_synthetic_files(synthetic_dir, name, mutation):
    original = synthetic_dir / name
    check(original, mutate(original.read_bytes(), mutation), SYNTHETIC_FORMATS[name])


def test_mutations_do_something():
    data = b'line one 1.5\nline two 2.5\n'
    assert mutate(data, ('truncate', 0.5)) == data[:13]
    assert mutate(data, ('decimal', 0.0, True)).count(b',') == 2
    assert mutate(data, ('cut_header', 1)) == b'line two 2.5\n'
    assert mutate(data, ('duplicate_line', 0.0)).count(b'line one') == 2
    assert os.fspath(shared_data_dir())
