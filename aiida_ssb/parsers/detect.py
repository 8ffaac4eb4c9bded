"""Which reader a file needs: decided from its content (signature bytes, first lines), not its name.

The extension is used only to break a tie between plain numeric tables (two columns: diffraction
``.xy``; three: an impedance ``f, Re, Im`` table).
"""

from __future__ import annotations

import itertools
import math
import os

from aiida_ssb.parsers._common import COMMENT_PREFIXES, TableLayout, decode_text, read_head, sniff_table
from aiida_ssb.parsers.base import ParseError
from aiida_ssb.parsers.bdf import looks_like_bdf
from aiida_ssb.parsers.biologic_mpt import looks_like_mpt_columns
from aiida_ssb.parsers.cycler_tables import detect_cycler_table, xlsx_kind
from aiida_ssb.parsers.impedance_more import looks_like_chi, looks_like_parstat, looks_like_versastudio

__all__ = ['SUPPORTED_FORMATS', 'detect_format']

#: Format code -> short description. Codes are stable: the AiiDA layer stores them.
SUPPORTED_FORMATS: dict[str, str] = {
    'biologic-mpt': 'BioLogic EC-Lab/BT-Lab text export (.mpt)',
    'biologic-mpr': 'BioLogic EC-Lab binary file (.mpr); needs the optional GPL-3 extra aiida-ssb[mpr]',
    'csv-impedance': 'plain impedance table without header: frequency, Re(Z), Im(Z) (.csv, .txt)',
    'gamry-dta': 'Gamry Framework EXPLAIN file (.DTA) with a ZCURVE impedance table',
    'zplot-z': 'Scribner ZPlot/ZView impedance file (.z)',
    'autolab-txt': 'Metrohm Autolab impedance text export (Z60W-style or NOVA column export)',
    'generic-csv': 'any delimited table, read through a user column_map (e.g. Novocontrol exports)',
    'neware-nda': 'Neware binary file (.nda); needs NewareNDA (aiida-ssb[neware])',
    'neware-ndax': 'Neware zipped binary file (.ndax); needs NewareNDA (aiida-ssb[neware])',
    'arbin-res': 'Arbin MS-Access results file (.res); needs mdbtools (mdb-export) or access-parser',
    'maccor-txt': 'Maccor text export (tab separated, Rec#/Cyc#/Step columns)',
    'xy': 'two-column diffraction pattern: 2theta, intensity (.xy, .csv, .txt)',
    'panalytical-xrdml': 'PANalytical/Malvern XRDML diffraction file (.xrdml)',
    'netzsch-txt': 'NETZSCH Proteus ASCII export of DSC/TGA/STA data (#-prefixed header)',
    'bdf': 'Battery Data Format time series (CSV with BDF column labels, or .bdf.parquet)',
    'neware-csv': 'Neware BTS CSV export (record or step layout)',
    'neware-xlsx': 'Neware BTS Excel export (record/step sheets); needs openpyxl (aiida-ssb[xlsx])',
    'arbin-csv': 'Arbin MITS Pro CSV export (Data_Point, Test_Time(s), Current(A), Voltage(V)...)',
    'arbin-xlsx': 'Arbin MITS Pro Excel export (Channel sheets); needs openpyxl (aiida-ssb[xlsx])',
    'chi-txt': 'CH Instruments text export (A.C. Impedance, cyclic or linear sweep voltammetry)',
    'parstat-txt': 'Princeton Applied Research Parstat (PowerSine) impedance text export',
    'versastudio-par': 'Princeton Applied Research VersaStudio .par file (<SegmentN> sections)',
}


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format code (a key of :data:`SUPPORTED_FORMATS`) of the file at ``path``.

    Raises :class:`~aiida_ssb.parsers.base.ParseError` for an empty file or content that matches no
    format.
    """
    head = read_head(path)
    if not head:
        raise ParseError(path, 'the file is empty')
    if head.startswith(b'BIO-LOGIC MODULAR FILE'):
        return 'biologic-mpr'
    if head.startswith(b'PK\x03\x04'):
        if b'data.ndc' in head or b'TestInfo.xml' in head or b'Step.xml' in head:
            return 'neware-ndax'

        kind = xlsx_kind(path)
        if kind in ('neware-xlsx', 'arbin-xlsx'):
            return kind
        if kind == 'xlsx':
            raise ParseError(path, 'is an Excel workbook that is neither a Neware nor an Arbin export')
        raise ParseError(path, 'is a zip archive that is not a Neware .ndax file nor an Excel export')
    if head.startswith(b'NEWARE'):
        return 'neware-nda'
    if head[4:19] in (b'Standard Jet DB', b'Standard ACE DB'):
        return 'arbin-res'
    if head.startswith(b'PAR1'):
        return 'bdf'  # Parquet: the BDF serialisation (the reader says when the columns are not BDF's)
    text = _decode_head(path, head)
    lines = [line.strip().lstrip('\ufeff') for line in text.split('\n')[:400]]
    nonempty = [line for line in lines if line]
    if not nonempty:
        raise ParseError(path, 'holds only blank lines')
    first = nonempty[0]
    if first in ('EC-Lab ASCII FILE', 'BT-Lab ASCII FILE'):
        return 'biologic-mpt'

    if looks_like_bdf(first):
        return 'bdf'
    if first == 'EXPLAIN':
        return 'gamry-dta'
    if first.startswith('ZPLOT2 ASCII'):
        return 'zplot-z'
    if 'Z60W Data File' in first:
        return 'autolab-txt'
    if '<xrdMeasurements' in text[:8192] or ('<?xml' in first and 'xrdml' in text[:8192].lower()):
        return 'panalytical-xrdml'
    if first.startswith('#') and any(
        line.startswith(('#EXPORTTYPE', '#FORMAT', '#INSTRUMENT', '##Temp', '#FTYPE', '#MTYPE'))
        for line in nonempty[:80]
    ):
        return 'netzsch-txt'

    raw_first = next(line for line in text.split('\n') if line.strip())
    if looks_like_mpt_columns(raw_first.lstrip('\ufeff')):
        return 'biologic-mpt'
    for line in nonempty[:20]:
        if 'Rec#' in line and ('Cyc#' in line or 'Step' in line):
            return 'maccor-txt'
    if first.startswith("Today's Date") or 'Date of Test' in first:
        return 'maccor-txt'

    if looks_like_versastudio(text):
        return 'versastudio-par'
    if looks_like_chi(nonempty):
        return 'chi-txt'
    if looks_like_parstat(nonempty):
        return 'parstat-txt'

    cycler = detect_cycler_table(nonempty[:5])
    if cycler:
        return cycler
    for line in nonempty[:40]:
        lowered = line.lower()
        if 'frequency (hz)' in lowered and ("z'" in lowered or 'z (' in lowered):
            return 'autolab-txt'
    return _numeric_table_format(path, nonempty)


def _decode_head(path: str | os.PathLike[str] | None, head: bytes) -> str:
    """The start of the file as text, for looking at it (a character cut at the end of the head or
    an unusual code page must not fail detection; the reader decodes strictly)."""
    if head.startswith((b'\xff\xfe', b'\xfe\xff')):
        text = head[: len(head) // 2 * 2].decode('utf-16', errors='replace')
    else:
        if b'\x00' in head:
            return decode_text(path, head, what='known instrument file')  # raises: binary content
        text = head.decode('utf-8', errors='replace')
    return text.replace('\r\n', '\n').replace('\r', '\n')


def _check_header_width(path: str | os.PathLike[str] | None, lines: list[str], table: TableLayout) -> None:
    """A column-name row right above the numbers that names another number of columns than the rows hold is
    a broken table (e.g. ``frequency,re,im`` over rows of two values), not some other format."""
    if table.header is not None or table.delimiter is None:
        return
    for back in range(table.first_data_line - 1, -1, -1):
        text = lines[back].strip()
        if not text or text.startswith(COMMENT_PREFIXES):
            continue
        fields = list(text.split(table.delimiter))
        if len(fields) > 1 and len(fields) != table.n_columns:
            raise ParseError(
                path,
                f'the column-name row {text[:60]!r} names {len(fields)} columns but the data '
                f'rows hold {table.n_columns} values',
            )
        return


def _numeric_table_format(path: str | os.PathLike[str] | None, lines: list[str]) -> str:
    """Plain tables: 2 numeric columns -> 'xy'; 3 -> 'csv-impedance' or 'xy' (2theta, intensity, error); anything
    else, or a table under a header row -> 'generic-csv'.

    A diffraction pattern is told by its content, never by a range alone: its angles are equally spaced (a
    goniometer step) within 0-180 degrees and its intensities are never negative. An impedance table (frequency,
    Re, Im) has log-spaced frequencies and a negative Im(Z) on a capacitive arc: a table with negative values in
    the intensity position, or log-spaced first column, is never read as a pattern (a sweep from 3 mHz cut before
    it reaches 180 Hz still ascends within 0-180)."""
    table = sniff_table(lines)
    if table is None:
        if sniff_table(lines, min_fraction=0.5) is not None:
            return 'generic-csv'  # a table with text columns: only a column_map can read it
        raise ParseError(path, 'is not a format we recognise (no known signature and no numeric table)')
    width = table.n_columns
    _check_header_width(path, lines, table)
    rows = table.sample
    first_column = [row[0] for row in rows]
    if table.header is not None and not table.header_is_comment:
        first_name = table.header[0].lower()
        if width == 2 and ('theta' in first_name or first_name.startswith(('2th', 'angle', 'pos'))):
            return 'xy'
        if width == 3 and first_name.startswith(('f', 'freq')):
            return 'csv-impedance'
        return 'generic-csv'
    if width == 2:  # the xy reader says why angles outside 0-180 cannot be 2theta
        return 'xy' if _looks_like_pattern(rows, check_range=False) else 'generic-csv'
    if width == 3 and all(value > 0 for value in first_column):
        return 'xy' if _looks_like_pattern(rows) else 'csv-impedance'
    return 'generic-csv'


def _looks_like_pattern(rows: list[list[float]], check_range: bool = True) -> bool:
    """Angles rising in equal steps (within 0-180 degrees), intensities (and errors) never negative."""
    if len(rows) < 3:
        return False
    angles = [row[0] for row in rows]
    if check_range and not all(0 <= value <= 180 for value in angles):
        return False
    steps = [b - a for a, b in itertools.pairwise(angles)]
    if not all(step > 0 for step in steps):
        return False
    mean = sum(steps) / len(steps)
    if any(abs(step - mean) > 0.05 * mean + 1e-9 for step in steps):
        return False  # not a goniometer step (e.g. log-spaced frequencies)
    return all(value >= 0 for row in rows for value in row[1:] if not math.isnan(value))
