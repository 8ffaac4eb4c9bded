"""Bad input: every failure is a ParseError naming the file and the reason (and the line where it
makes sense), never another exception type."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.parsers import ParseError, detect_format, read
from tests.parsers.helpers import raw_mpt


def test_missing_empty_and_directory(tmp_path):
    with pytest.raises(ParseError, match='no such file') as error:
        read(tmp_path / 'absent.mpt')
    assert str(tmp_path / 'absent.mpt') in str(error.value)
    empty = tmp_path / 'empty.mpt'
    empty.write_bytes(b'')
    with pytest.raises(ParseError, match='empty'):
        read(empty)
    with pytest.raises(ParseError, match='empty'):
        read(empty, file_format='biologic-mpt')
    with pytest.raises(ParseError, match='not a regular file'):
        read(tmp_path)
    blank = tmp_path / 'blank.txt'
    blank.write_text('\n\n  \n')
    with pytest.raises(ParseError, match='blank'):
        read(blank)


def test_binary_garbage(tmp_path):
    rng = np.random.default_rng(5)
    path = tmp_path / 'garbage.bin'
    path.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes() + b'\x00')
    with pytest.raises(ParseError, match=r'NUL byte|not a format'):
        read(path)
    for file_format in (
        'biologic-mpt',
        'biologic-mpr',
        'gamry-dta',
        'xy',
        'netzsch-txt',
        'panalytical-xrdml',
        'maccor-txt',
        'arbin-res',
        'neware-ndax',
        'csv-impedance',
        'zplot-z',
        'autolab-txt',
    ):
        with pytest.raises(ParseError) as error:
            read(path, file_format=file_format)
        assert 'garbage.bin' in str(error.value)
        assert 'internal error' not in str(error.value)


def test_wrong_encoding(shared_file, tmp_path):
    text = shared_file('biologic/peis.mpt').read_bytes().decode('latin-1')
    without_bom = tmp_path / 'utf16.mpt'
    without_bom.write_bytes(text.encode('utf-16-le'))
    with pytest.raises(ParseError, match='UTF-16'):
        read(without_bom)
    with_bom = tmp_path / 'utf16bom.mpt'
    with_bom.write_bytes(text.encode('utf-16'))
    assert read(with_bom).n_rows == 32
    utf8 = tmp_path / 'utf8.mpt'
    utf8.write_bytes(text.encode('utf-8'))
    measurement = read(utf8)
    assert measurement.metadata['original_columns'][8] == 'Cs/µF'


def test_truncated_mpt(shared_file, tmp_path):
    raw = shared_file('biologic/peis.mpt').read_bytes()
    cut = tmp_path / 'cut.mpt'
    cut.write_bytes(raw[: len(raw) - 200])
    with pytest.raises(ParseError, match='allow_truncated') as error:
        read(cut)
    assert error.value.line == 70 + 32  # the last, cut, data line
    assert read(cut, allow_truncated=True).n_rows == 31
    header_only = tmp_path / 'header.mpt'
    header_only.write_bytes(raw[:2000])
    with pytest.raises(ParseError, match='announces 70 lines'):
        read(header_only)


def test_truncated_mpr(shared_file, tmp_path):
    raw = shared_file('biologic/peis.mpr').read_bytes()
    for size in (60, 3000, len(raw) - 500):
        path = tmp_path / f'cut{size}.mpr'
        path.write_bytes(raw[:size])
        with pytest.raises(ParseError) as error:
            read(path)
        assert 'internal error' not in str(error.value)
        assert f'cut{size}.mpr' in str(error.value)


def test_header_length_mismatch(shared_file, tmp_path):
    raw = shared_file('biologic/peis.mpt').read_bytes()
    for wrong in (69, 71, 5):
        path = tmp_path / f'header{wrong}.mpt'
        path.write_bytes(raw.replace(b'Nb header lines : 70', f'Nb header lines : {wrong}'.encode(), 1))
        with pytest.raises(ParseError, match='header length') as error:
            read(path)
        assert error.value.line == wrong
    path = tmp_path / 'noheader.mpt'
    path.write_bytes(raw.replace(b'Nb header lines : 70', b'Header lines: 70', 1))
    with pytest.raises(ParseError, match='Nb header lines') as error:
        read(path)
    assert error.value.line == 2


def _rewrite_column(source, target, column: str, value: str, rows=None):
    lines = source.read_bytes().decode('latin-1').split('\n')
    count = int(lines[1].split(':')[1])
    names = lines[count - 1].rstrip('\r').rstrip('\t').split('\t')
    position = names.index(column)
    for index in range(count, len(lines)):
        if not lines[index].strip() or (rows is not None and index - count not in rows):
            continue
        fields = lines[index].split('\t')
        fields[position] = value
        lines[index] = '\t'.join(fields)
    target.write_bytes('\n'.join(lines).encode('latin-1'))


def test_nan_only_columns(shared_file, tmp_path):
    path = tmp_path / 'cv.mpt'
    _rewrite_column(shared_file('biologic/cv.mpt'), path, 'Ewe/V', 'NaN')
    with pytest.raises(ParseError, match='voltage_v holds no numbers'):
        read(path)
    _rewrite_column(shared_file('biologic/cv.mpt'), path, 'P/W', 'nan')
    measurement = read(path)
    assert 'power_mw' not in measurement
    assert measurement.metadata['dropped_empty_columns'] == ['power_mw']


def test_non_numeric_cell(shared_file, tmp_path):
    path = tmp_path / 'cv.mpt'
    _rewrite_column(shared_file('biologic/cv.mpt'), path, '<I>/mA', '1.2.3', rows={99})
    with pytest.raises(ParseError, match=r"column '<I>/mA' holds '1\.2\.3'") as error:
        read(path)
    assert error.value.line == 58 + 100
    _rewrite_column(shared_file('biologic/cv.mpt'), path, 'cycle number', '1.5', rows={3})
    with pytest.raises(ParseError, match=r"counter column 'cycle number' holds 1\.5 in data row 4"):
        read(path)


def test_mixed_decimal_marks(shared_file, tmp_path):
    raw = shared_file('biologic/cv.mpt').read_bytes().decode('latin-1')
    lines = raw.split('\n')
    lines[58] = lines[58].replace('.', ',', 1)
    path = tmp_path / 'mixed.mpt'
    path.write_bytes('\n'.join(lines).encode('latin-1'))
    with pytest.raises(ParseError, match='decimal marks') as error:
        read(path)
    assert error.value.line == 59
    lines = raw.split('\n')
    lines[70] = lines[70].replace('.', ',')
    path.write_bytes('\n'.join(lines).encode('latin-1'))
    with pytest.raises(ParseError, match='not a number') as error:
        read(path)
    assert error.value.line == 71


def test_extra_field_in_a_row(shared_file, tmp_path):
    raw = shared_file('biologic/ocv.mpt').read_bytes().decode('latin-1')
    lines = raw.split('\n')
    lines[60] = lines[60].replace('\t', '\t\t', 1)
    path = tmp_path / 'extra.mpt'
    path.write_bytes('\n'.join(lines).encode('latin-1'))
    with pytest.raises(ParseError, match='fields where the header gives') as error:
        read(path)
    assert error.value.line == 61


def test_wrong_technique_and_kind(shared_file, tmp_path):
    with pytest.raises(ParseError, match=r'not peis'):
        read(shared_file('biologic/mb.mpr'), technique='peis')
    with pytest.raises(ParseError, match='expected a eis measurement'):
        read(shared_file('cyclers/maccor_example.txt'), expect_kind='eis')
    names, table = raw_mpt(shared_file('biologic/ocv.mpt'))
    path = tmp_path / 'ocv_short.mpt'
    path.write_text('\t'.join(names) + '\n' + '\n'.join('\t'.join(str(v) for v in row) for row in table[:3]))
    with pytest.raises(ParseError, match=r'looks like a ocv .* not cv'):
        read(path, technique='cv')  # an OCV-like export (no current) is no voltammogram
    table_path = tmp_path / 'table.csv'
    table_path.write_text('E,I\n' + '\n'.join(f'{0.1 * i},{0.01 * i}' for i in range(10)))
    with pytest.raises(ParseError, match='needs the column'):
        read(table_path, column_map={'voltage_v': ('E', 'V')}, technique='peis')


def test_bad_arguments(shared_file):
    path = shared_file('biologic/peis.mpt')
    with pytest.raises(ParseError, match='unknown file_format'):
        read(path, file_format='docx')
    with pytest.raises(ParseError, match='unknown technique'):
        read(path, technique='nmr')
    with pytest.raises(ParseError, match='unknown expect_kind'):
        read(path, expect_kind='spectra')
    with pytest.raises(TypeError, match='no_such_option'):
        read(path, no_such_option=True)
    with pytest.raises(ParseError, match='generic-csv reader needs a column_map'):
        read(path, file_format='generic-csv')


def test_detect_unknown_text(tmp_path):
    path = tmp_path / 'letter.txt'
    path.write_text('Dear colleague,\nplease find the data attached.\n')
    with pytest.raises(ParseError, match='not a format we recognise'):
        detect_format(path)
    zipped = tmp_path / 'other.zip'
    zipped.write_bytes(b'PK\x03\x04' + b'\x14' * 60)
    with pytest.raises(ParseError, match='not a Neware'):
        detect_format(zipped)


def test_parse_error_carries_path_reason_and_line(shared_file, tmp_path):
    path = tmp_path / 'x.mpt'
    _rewrite_column(shared_file('biologic/ocv.mpt'), path, 'Ewe/V', 'abc', rows={0})
    with pytest.raises(ParseError) as error:
        read(path)
    assert error.value.path == str(path)
    assert error.value.line == 54
    assert 'abc' in error.value.reason
    assert str(error.value).startswith(f'{path}, line 54: ')
