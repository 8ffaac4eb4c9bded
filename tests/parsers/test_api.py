"""The public interface: every supported format has a reader, metadata is JSON, no AiiDA import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aiida_ssb.parsers import SUPPORTED_FORMATS, detect_format, read
from aiida_ssb.parsers.reader import _READERS

FORMAT_CODES = {
    'biologic-mpt',
    'biologic-mpr',
    'csv-impedance',
    'gamry-dta',
    'zplot-z',
    'autolab-txt',
    'generic-csv',
    'neware-nda',
    'neware-ndax',
    'arbin-res',
    'maccor-txt',
    'xy',
    'panalytical-xrdml',
    'netzsch-txt',
    'bdf',
    'neware-csv',
    'neware-xlsx',
    'arbin-csv',
    'arbin-xlsx',
    'chi-txt',
    'parstat-txt',
    'versastudio-par',
}


def test_format_codes_are_the_agreed_ones():
    assert set(SUPPORTED_FORMATS) == FORMAT_CODES
    assert set(_READERS) == FORMAT_CODES


def test_every_real_file_gives_json_metadata(shared_data):
    paths = sorted(path for path in shared_data.glob('*/*') if path.suffix != '.md')
    assert len(paths) >= 30
    for path in paths:
        if path.stem == 'wait':  # a header without one data row: refused (tests/parsers/test_biologic.py)
            continue
        if path.suffix == '.res':
            try:
                measurement = read(path)
            except Exception as error:  # no Arbin backend here: the message must say what to install
                assert 'mdbtools' in str(error)
                continue
        else:
            measurement = read(path)
        assert detect_format(path) == measurement.file_format
        json.dumps(measurement.metadata, allow_nan=False)
        assert measurement.metadata['n_rows'] == measurement.n_rows
        assert measurement.source == str(path)


def test_parsers_import_neither_aiida_nor_heavy_libraries():
    code = (
        'import sys; import aiida_ssb.parsers as p; '
        'bad = [m for m in ("aiida", "pandas", "pint", "matplotlib", "galvani", "NewareNDA") if m in sys.modules]; '
        'print(",".join(bad))'
    )
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ''


@pytest.mark.parametrize('relative', ['biologic/peis.mpt', 'eis/exampleDataGamry.DTA', 'cyclers/maccor_example.txt'])
def test_reading_text_formats_imports_no_aiida(shared_file, relative):
    code = (
        'import sys; from aiida_ssb.parsers import read; '
        f'read({str(shared_file(relative))!r}); '
        'print("aiida" in sys.modules)'
    )
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == 'False'
