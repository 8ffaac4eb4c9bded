"""Helpers shared by the instrument readers: bytes and text, numbers, units, dates.

Nothing here imports AiiDA, pandas or pint at module level (pint is loaded only for unit spellings
the small table below does not know).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from aiida_ssb.parsers._stream import TRUNCATION_HINT, read_numeric
from aiida_ssb.parsers.base import ParseError
from aiida_ssb.units import UnitError, to_unit

__all__ = [
    'MAX_TEXT_BYTES',
    'TRUNCATION_HINT',
    'UnitError',
    'check_size',
    'decode_text',
    'linear_conversion',
    'parse_datetime',
    'parse_numeric_block',
    'read_bytes',
    'split_lines',
]

#: Largest file any text reader accepts (bigger files are certainly not instrument text exports: a 1-million-row
#: EC-Lab export is about 0.5 GB). Checked by :func:`check_size` before a text reader reads anything.
MAX_TEXT_BYTES = 2 * 1024**3


# ---------------------------------------------------------------------------------------------- bytes/text
def check_size(path: str | os.PathLike[str], limit: int = MAX_TEXT_BYTES, what: str = 'text export') -> int:
    """The size of the file in bytes; a ParseError when it cannot be read or is larger than ``limit``."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise ParseError(path, 'no such file') from None
    except OSError as exc:
        raise ParseError(path, f'cannot be opened: {exc.strerror or exc}') from None
    if os.path.isdir(path):
        raise ParseError(path, 'is a directory, not a file')
    if size > limit:
        raise ParseError(
            path,
            f'is {size / 2**30:.2f} GiB, larger than the {limit / 2**30:.0f} GiB any instrument {what} is read up to '
            '(is it the right file?)',
        )
    return size


def read_bytes(path: str | os.PathLike[str], limit: int = MAX_TEXT_BYTES) -> bytes:
    """The whole file, opened read-only, after the size guard. A missing or unreadable file is a ParseError."""
    check_size(path, limit)
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        raise ParseError(path, 'no such file') from None
    except IsADirectoryError:
        raise ParseError(path, 'is a directory, not a file') from None
    except OSError as exc:
        raise ParseError(path, f'cannot be opened: {exc.strerror or exc}') from None


def read_head(path: str | os.PathLike[str], size: int = 65536) -> bytes:
    """The first ``size`` bytes of the file (for format detection)."""
    try:
        with open(path, 'rb') as handle:
            return handle.read(size)
    except FileNotFoundError:
        raise ParseError(path, 'no such file') from None
    except IsADirectoryError:
        raise ParseError(path, 'is a directory, not a file') from None
    except OSError as exc:
        raise ParseError(path, f'cannot be opened: {exc.strerror or exc}') from None


def decode_text(path: str | os.PathLike[str] | None, raw: bytes, *, what: str = 'text file') -> str:
    """Decode an instrument text export.

    Order: a byte-order mark decides (UTF-8, UTF-16); otherwise strict UTF-8, then Windows-1252
    ("ANSI", what EC-Lab, Gamry and NETZSCH write on Western Windows), then Latin-1. NUL bytes without
    a UTF-16 mark mean a binary file or a text in an encoding we cannot guess: a ParseError.
    Line ends are normalised to ``\\n``.
    """
    if not raw:
        raise ParseError(path, 'the file is empty')
    if raw.startswith(b'\xef\xbb\xbf'):
        text = _strict(path, raw[3:], 'utf-8')
    elif raw.startswith((b'\xff\xfe', b'\xfe\xff')):
        text = _strict(path, raw, 'utf-16')
    else:
        if b'\x00' in raw:
            offset = raw.index(b'\x00')
            raise ParseError(
                path,
                f'byte {offset} is a NUL byte: this is not a {what} (a binary file, or text in UTF-16/32 '
                'without a byte-order mark)',
            )
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            try:
                text = raw.decode('cp1252')
            except UnicodeDecodeError:
                text = raw.decode('latin-1')
    if '\r' in text:
        text = text.replace('\r\n', '\n').replace('\r', '\n')
    return text


def _strict(path: str | os.PathLike[str] | None, raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(
            path, f'the file declares {encoding} (byte-order mark) but byte {exc.start} is not valid'
        ) from None


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only (``str.splitlines`` would also split on form feeds and U+0085, which
    appear inside Latin-1 text)."""
    return text.split('\n')


def line_offsets(text: str, count: int) -> int:
    """Character offset of the start of line ``count`` (0-based), or -1 when the text is shorter."""
    position = 0
    for _ in range(count):
        position = text.find('\n', position)
        if position < 0:
            return -1
        position += 1
    return position


# ---------------------------------------------------------------------------------------------- numbers
def parse_numeric_block(
    path: str | os.PathLike[str] | None,
    block: str,
    *,
    first_line: int,
    delimiter: str | None,
    n_columns: int,
    decimal: str = '.',
    column_names: Sequence[str] | None = None,
    allow_truncated: bool = False,
    usecols: Sequence[int] | None = None,
    empty_ok: Sequence[int] = (),
    integer_columns: Sequence[int] = (),
) -> tuple[np.ndarray, dict[str, Any]]:
    """Parse a block of delimited numbers into a float array of shape ``(rows, n_columns)``.

    The rules (extra fields, empty fields, the truncated last line) are those of
    :func:`aiida_ssb.parsers._stream.read_numeric`, which this calls on the block's bytes.

    :param block: the data lines joined by ``\\n`` (no header).
    :param first_line: 1-based line number of the first line of ``block`` in the file (for messages).
    :param delimiter: the field separator, ``None`` for runs of whitespace.
    :param n_columns: the number of fields the header gives (a trailing delimiter is ignored).
    :param decimal: ``'.'`` or ``','``.
    :param allow_truncated: drop a truncated last line (noted as ``truncated_last_line``) instead of failing.
    :param usecols: parse only these 0-based columns (the others may hold text); the result then
        has ``len(usecols)`` columns.
    :param empty_ok: columns whose empty fields are read as NaN (not recorded).
    :param integer_columns: columns holding whole numbers (a row whose values moved is refused).
    :returns: the array and notes for the metadata.
    """
    positions = list(range(n_columns)) if usecols is None else [int(position) for position in usecols]
    data = block.encode('latin-1', errors='replace')
    table = read_numeric(
        path,
        data,
        first_line=first_line,
        delimiter=delimiter,
        n_columns=n_columns,
        usecols=positions,
        decimal=decimal,
        column_names=column_names,
        allow_truncated=allow_truncated,
        empty_ok=empty_ok,
        integer_columns=integer_columns,
    )
    return table.stacked(positions), table.notes


def to_float(text: str, decimal: str = '.') -> float | None:
    """A number from a header value such as ``'0.875 mg'`` -> 0.875 (``None`` if there is none)."""
    match = _FIRST_NUMBER.search(text.replace(',', '.') if decimal == ',' else text)
    if not match:
        return None
    try:
        value = float(match.group(0))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_FIRST_NUMBER = re.compile(r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?')


# ---------------------------------------------------------------------------------------------- units
_DIMENSION_OF_TARGET = {
    's': 'time',
    'V': 'voltage',
    'mA': 'current',
    'mAh': 'charge',
    'mWh': 'energy',
    'mW': 'power',
    'Hz': 'frequency',
    'ohm': 'resistance',
    'deg': 'angle',
    'mg': 'mass',
    'cm2': 'area',
    'g/mol': 'molar mass',
    'angstrom': 'length',
    'uF': 'capacitance',
}

# spelling -> (dimension, factor to the target unit of that dimension)
_UNIT_TABLE: dict[str, tuple[str, float]] = {}


def _register(dimension: str, spellings: Iterable[str], factor: float) -> None:
    for spelling in spellings:
        _UNIT_TABLE[spelling] = (dimension, factor)


_register('time', ['s', 'sec', 'secs', 'second', 'seconds'], 1.0)
_register('time', ['ms'], 1e-3)
_register('time', ['min', 'mn', 'minute', 'minutes'], 60.0)
_register('time', ['h', 'hr', 'hour', 'hours'], 3600.0)
_register('time', ['d', 'day', 'days'], 86400.0)
_register('voltage', ['V', 'v', 'volt', 'volts'], 1.0)
_register('voltage', ['mV'], 1e-3)
_register('voltage', ['uV', 'µV', 'μV'], 1e-6)
_register('voltage', ['kV'], 1e3)
_register('current', ['A', 'amp', 'amps', 'ampere'], 1e3)
_register('current', ['mA'], 1.0)
_register('current', ['uA', 'µA', 'μA'], 1e-3)
_register('current', ['nA'], 1e-6)
_register('current', ['pA'], 1e-9)
_register('charge', ['mA.h', 'mAh', 'mA*h', 'mA h', 'mAhr'], 1.0)
_register('charge', ['A.h', 'Ah', 'A*h', 'A h', 'Ahr', 'AHr', 'Amp-hr'], 1e3)
_register('charge', ['uA.h', 'µA.h', 'μA.h', 'uAh', 'µAh', 'μAh'], 1e-3)
_register('charge', ['C', 'coulomb', 'coulombs'], 1.0 / 3.6)
_register('charge', ['mC'], 1.0 / 3600.0)
_register('charge', ['uC', 'µC', 'μC'], 1.0 / 3.6e6)
_register('energy', ['W.h', 'Wh', 'W*h', 'WHr', 'Watt-hr'], 1e3)
_register('energy', ['mW.h', 'mWh', 'mW*h'], 1.0)
_register('energy', ['uW.h', 'µW.h', 'uWh', 'µWh'], 1e-3)
_register('energy', ['J'], 1.0 / 3.6)
_register('energy', ['mJ'], 1.0 / 3600.0)
_register('power', ['W'], 1e3)
_register('power', ['mW'], 1.0)
_register('power', ['uW', 'µW', 'μW'], 1e-3)
_register('frequency', ['Hz', 'hz'], 1.0)
_register('frequency', ['mHz'], 1e-3)
_register('frequency', ['kHz', 'khz'], 1e3)
_register('frequency', ['MHz'], 1e6)
_register('resistance', ['Ohm', 'ohm', 'Ohms', 'ohms', 'Ω', 'Ω'], 1.0)
_register('resistance', ['mOhm', 'mohm', 'mΩ', 'mΩ'], 1e-3)
_register('resistance', ['kOhm', 'kohm', 'kΩ', 'kΩ'], 1e3)
_register('resistance', ['MOhm', 'Mohm', 'MΩ', 'MΩ'], 1e6)
_register('angle', ['deg', '°', 'degree', 'degrees', '° '], 1.0)
_register('angle', ['rad'], 180.0 / math.pi)
_register('mass', ['mg'], 1.0)
_register('mass', ['g'], 1e3)
_register('mass', ['ug', 'µg', 'μg'], 1e-3)
_register('mass', ['kg'], 1e6)
_register('area', ['cm²', 'cm2', 'cm^2', 'cm**2'], 1.0)
_register('area', ['mm²', 'mm2', 'mm^2', 'mm**2'], 1e-2)
_register('area', ['m²', 'm2', 'm^2', 'm**2'], 1e4)
_register('molar mass', ['g/mol'], 1.0)
_register('molar mass', ['kg/mol'], 1e3)
_register('capacitance', ['F'], 1e6)
_register('capacitance', ['mF'], 1e3)
_register('capacitance', ['uF', 'µF', 'μF'], 1.0)
_register('capacitance', ['nF'], 1e-3)
_register('capacitance', ['pF'], 1e-6)
_register('length', ['Angstrom', 'angstrom', 'Å', 'A°'], 1.0)
_register('length', ['nm'], 10.0)
_register('length', ['pm'], 1e-2)

_TEMPERATURES = {
    '°C': (1.0, 0.0),
    'degC': (1.0, 0.0),
    'C': (1.0, 0.0),
    'celsius': (1.0, 0.0),
    '℃': (1.0, 0.0),
    'K': (1.0, -273.15),
    'kelvin': (1.0, -273.15),
    '°F': (5.0 / 9.0, -32.0 * 5.0 / 9.0),
    'degF': (5.0 / 9.0, -32.0 * 5.0 / 9.0),
}

_DIMENSIONLESS = {'', '1', '-', 'counts', 'count', 'cts', '#', 'a.u.', 'au', 'arb. units', 'arb.u.'}

# text that a wrong code page made of a unit symbol -> the symbol (UTF-8 read as Windows-1252 or Latin-1,
# twice-encoded UTF-8). Unambiguous: none of these sequences is a unit of its own.
_MOJIBAKE = (
    ('Ã‚Â°', '°'),
    ('Ã‚Âµ', 'µ'),
    ('Â°', '°'),
    ('Âµ', 'µ'),
    ('Â²', '²'),
    ('Â³', '³'),
    ('Î¼', 'µ'),
    ('Î©', 'Ω'),
    ('â„ƒ', '°C'),
    ('º', '°'),  # the masculine ordinal, typed for a degree sign on Spanish/Portuguese keyboards
)
# a symbol lost to a replacement character or '?' (a lossy re-encoding): only where one symbol fits
_LOST = ('\ufffd', '?')


def repair_unit(unit: str) -> tuple[str, str | None]:
    """``(unit, what was repaired)``: a unit symbol mangled by a wrong code page (``Â°`` -> ``°``, ``Âµ`` ->
    ``µ``, ``Î©`` -> ``Ω``) or lost to a replacement character (``\ufffd``/``?`` standing alone or before
    ``C``/``F`` for a degree, before an SI base letter ``A``, ``V``, ``W``, ``F``, ``g``, ``m``, ``s`` for micro).
    The second element is None when nothing was changed."""
    text = unit.strip()
    repaired = text
    for bad, good in _MOJIBAKE:
        repaired = repaired.replace(bad, good)
    for lost in _LOST:
        if lost not in repaired:
            continue
        if repaired == lost:
            repaired = '°'
        elif repaired in (f'{lost}C', f'{lost}F'):
            repaired = '°' + repaired[len(lost) :]
        elif repaired.startswith(lost) and repaired[len(lost) :] in (
            'A',
            'V',
            'W',
            'F',
            'g',
            'm',
            's',
            'A.h',
            'Ah',
            'W.h',
        ):
            repaired = 'µ' + repaired[len(lost) :]
    if repaired == text:
        return unit, None
    return repaired, f'{text!r} read as {repaired!r}'


def linear_conversion(unit: str, target: str) -> tuple[float, float]:
    """``(scale, offset)`` such that ``value_in_target = scale * value_in_unit + offset``.

    ``target`` is one of the canonical units of :data:`aiida_ssb.parsers.base.COLUMNS` (``'s'``,
    ``'V'``, ``'mA'``, ``'mAh'``, ``'mWh'``, ``'mW'``, ``'Hz'``, ``'ohm'``, ``'deg'``, ``'mg'``,
    ``'degC'``, ``'%'``, ``'1'``, ``'counts'``) or ``'cm2'``, ``'g/mol'``, ``'angstrom'``. Common
    spellings are looked up in a table; anything else goes through pint
    (:func:`aiida_ssb.units.to_unit`). Raises :class:`~aiida_ssb.units.UnitError` when the unit is
    unknown or of another dimension.
    """
    spelled = unit.strip()
    repaired, _ = repair_unit(spelled)
    spelled = repaired
    if target == 'degC':
        if spelled in _TEMPERATURES:
            return _TEMPERATURES[spelled]
        return _pint_conversion(spelled, 'degC')
    if target in ('1', 'counts', 'mol/mol'):
        if spelled in _DIMENSIONLESS or spelled == target:
            return 1.0, 0.0
        raise UnitError(f'{unit!r} is not a pure number (expected a dimensionless count)')
    if target == '%':
        if spelled in ('%', 'percent', 'pct'):
            return 1.0, 0.0
        if spelled in ('', '1', 'fraction'):
            return 100.0, 0.0
        raise UnitError(f'{unit!r} is not a percentage')
    dimension = _DIMENSION_OF_TARGET.get(target)
    if dimension is None:
        return _pint_conversion(spelled, target)
    entry = _UNIT_TABLE.get(spelled)
    if entry is None:
        return _pint_conversion(spelled, target)
    unit_dimension, factor = entry
    if unit_dimension != dimension:
        raise UnitError(f'{unit!r} is a {unit_dimension} unit, not convertible to {target} (a {dimension})')
    target_factor = _UNIT_TABLE[_CANONICAL_SPELLING[target]][1]
    return factor / target_factor, 0.0


_CANONICAL_SPELLING = {
    's': 's',
    'V': 'V',
    'mA': 'mA',
    'mAh': 'mAh',
    'mWh': 'mWh',
    'mW': 'mW',
    'Hz': 'Hz',
    'ohm': 'ohm',
    'deg': 'deg',
    'mg': 'mg',
    'cm2': 'cm2',
    'g/mol': 'g/mol',
    'angstrom': 'angstrom',
    'uF': 'uF',
}


def _pint_conversion(unit: str, target: str) -> tuple[float, float]:
    spelled = unit.replace('.', '*') if re.fullmatch(r'[A-Za-zµμΩ]+(\.[A-Za-zµμΩ]+)+', unit) else unit
    spelled = spelled.replace('²', '^2').replace('³', '^3')
    try:
        zero = to_unit(f'0 {spelled}', target)
        one = to_unit(f'1 {spelled}', target)
    except UnitError:
        raise
    except Exception as exc:  # pint raises many exception types for odd spellings
        raise UnitError(f'unknown unit {unit!r}') from exc
    return one - zero, zero


def convert(values: np.ndarray, unit: str, target: str, *, copy: bool = True) -> np.ndarray:
    """``values`` (in ``unit``) as float64 in ``target`` (see :func:`linear_conversion`).

    :param copy: ``True`` (default) always returns a new array; ``False`` converts ``values`` in place when it is
        a writable float64 array the caller owns (large records: no second copy of every column).
    """
    scale, offset = linear_conversion(unit, target)
    if not copy and isinstance(values, np.ndarray) and values.dtype == np.float64 and values.flags.writeable:
        result = values
    else:
        result = np.array(values, dtype=np.float64)  # a writable, contiguous copy
    if scale != 1.0:
        result *= scale
    if offset != 0.0:
        result += offset
    return result


def quantity_from_text(text: str, target: str, *, decimal: str = '.') -> float | None:
    """``'0.875 mg'`` -> 0.875 in ``target`` units; ``None`` when there is no number or the unit is
    unknown or of another dimension (header values are informative, never fatal)."""
    cleaned = text.strip()
    if decimal == ',':
        cleaned = cleaned.replace(',', '.')
    match = re.match(r'^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$', cleaned)
    if not match:
        return None
    number = float(match.group(1))
    unit = match.group(2)
    if not math.isfinite(number):
        return None
    try:
        scale, offset = linear_conversion(unit, target)
    except UnitError:
        return None
    return number * scale + offset


# ---------------------------------------------------------------------------------------------- dates
_DATE_FORMATS = (
    '%m/%d/%Y %H:%M:%S.%f',
    '%m/%d/%Y %H:%M:%S',
    '%m/%d/%Y %H:%M',
    '%m/%d/%y %H:%M:%S.%f',
    '%m/%d/%y %H:%M:%S',
    '%d.%m.%Y %H:%M:%S.%f',
    '%d.%m.%Y %H:%M:%S',
    '%d.%m.%Y %H:%M',
    '%d.%m.%y %H:%M:%S',
    '%Y-%m-%d %H:%M:%S.%f',
    '%Y-%m-%d %H:%M:%S',
    '%Y-%m-%dT%H:%M:%S.%f',
    '%Y-%m-%dT%H:%M:%S',
    '%Y/%m/%d %H:%M:%S.%f',
    '%Y/%m/%d %H:%M:%S',
    '%m/%d/%Y %I:%M:%S %p',
    '%m/%d/%Y %I:%M:%S.%f %p',
    '%m-%d-%Y %H:%M:%S',
    '%d-%b-%y %I:%M:%S %p',
    '%d-%b-%Y %H:%M:%S',
    '%d-%b-%y %H:%M:%S',
    '%d %b %Y %H:%M:%S',
    '%b %d %Y %H:%M:%S',
    '%b %d, %Y %I:%M:%S %p',
)
#: the same with the day first, tried when the first number cannot be a month (``23/08/2021``)
_DAY_FIRST_FORMATS = (
    '%d/%m/%Y %H:%M:%S.%f',
    '%d/%m/%Y %H:%M:%S',
    '%d/%m/%Y %H:%M',
    '%d/%m/%y %H:%M:%S',
    '%d-%m-%Y %H:%M:%S',
)
_DAY_FIRST = re.compile(r'^\s*(\d{1,2})[/-](\d{1,2})[/-]\d{2,4}\b')
# a comma before the fraction of a second (a decimal-comma locale): 11:44:40,646
_COMMA_SECONDS = re.compile(r'(\d{1,2}:\d{2}:\d{2}),(\d+)')
# month names of the locales instruments are run in -> English abbreviations strptime knows
_MONTHS = {
    'jan.': 'Jan', 'janv.': 'Jan', 'janv': 'Jan', 'jän': 'Jan', 'jänner': 'Jan', 'januar': 'Jan', 'janvier': 'Jan',
    'feb.': 'Feb', 'févr.': 'Feb', 'févr': 'Feb', 'februar': 'Feb', 'février': 'Feb',
    'mär': 'Mar', 'mrz': 'Mar', 'märz': 'Mar', 'mars': 'Mar',
    'apr.': 'Apr', 'avr.': 'Apr', 'avr': 'Apr', 'avril': 'Apr',
    'mai': 'May', 'juin': 'Jun', 'juni': 'Jun', 'juil.': 'Jul', 'juil': 'Jul', 'juli': 'Jul', 'juillet': 'Jul',
    'aug.': 'Aug', 'août': 'Aug', 'sept.': 'Sep', 'sep.': 'Sep', 'okt': 'Oct', 'okt.': 'Oct', 'oktober': 'Oct',
    'oct.': 'Oct', 'nov.': 'Nov', 'dez': 'Dec', 'dez.': 'Dec', 'dezember': 'Dec', 'déc.': 'Dec', 'déc': 'Dec',
}  # fmt: skip


def parse_datetime(text: str, formats: Sequence[str] = _DATE_FORMATS) -> _dt.datetime | None:
    """The first format that reads ``text`` wins; ``None`` when none does. Fractions of a second
    longer than microseconds are cut (EC-Lab writes up to 4 decimals).

    Locale spellings are read too: a comma before the fraction of a second (``11:44:40,646``), German and
    French month names, and day-first dates (``23/08/2021``) when the first number cannot be a month (a date
    such as ``03/02/2021`` stays month-first, as EC-Lab and Maccor write it)."""
    cleaned = ' '.join(text.strip().split())
    if not cleaned:
        return None
    cleaned = _COMMA_SECONDS.sub(r'\1.\2', cleaned)
    cleaned = re.sub(r'(\.\d{6})\d+', r'\1', cleaned)
    words = cleaned.split(' ')
    translated = [_MONTHS.get(word.lower(), word) for word in words]
    cleaned = ' '.join(translated)
    candidates = list(formats)
    match = _DAY_FIRST.match(cleaned)
    if match and int(match.group(1)) > 12 and int(match.group(2)) <= 12:
        candidates = list(_DAY_FIRST_FORMATS) + candidates
    for pattern in candidates:
        try:
            return _dt.datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    try:
        return _dt.datetime.fromisoformat(cleaned)
    except ValueError:
        return None


_DURATION = re.compile(r'^\s*(?:(\d+)\s*d(?:ays?)?[\s,-]*)?(\d+):(\d{1,2}):(\d{1,2}(?:[.,]\d*)?)\s*$')


def parse_duration(text: str) -> float | None:
    """Seconds of a duration written ``[Nd ]h:mm:ss[.fff]`` (``0d 00:00:05.05`` -> 5.05, ``25:01:00`` -> 90060);
    ``None`` when the text is not such a duration."""
    match = _DURATION.match(text)
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400.0 + int(hours) * 3600.0 + int(minutes) * 60.0 + float(seconds.replace(',', '.'))


def ole_to_datetime(days: float) -> _dt.datetime | None:
    """An OLE automation date (days since 1899-12-30, as Windows instruments store them)."""
    if not math.isfinite(days) or not 1.0 < days < 2958465.0:
        return None
    return _dt.datetime(1899, 12, 30) + _dt.timedelta(days=float(days))


# ---------------------------------------------------------------------------------------------- misc
def clean_header_value(value: str) -> str:
    return ' '.join(value.strip().split())


def json_safe(value: Any) -> Any:
    """numpy scalars -> Python scalars; non-finite floats -> None (JSON cannot hold NaN)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------------------------- tables
COMMENT_PREFIXES = ('#', '!', '%', '//', ';')
_DELIMITER_TRIALS: tuple[tuple[str | None, str], ...] = (
    ('\t', '.'),
    ('\t', ','),
    (';', '.'),
    (';', ','),
    (',', '.'),
    (None, '.'),
    (None, ','),
)


class TableLayout:
    """What :func:`sniff_table` found: delimiter, decimal mark, header and where the numbers start."""

    def __init__(
        self,
        delimiter: str | None,
        decimal: str,
        n_columns: int,
        first_data_line: int,
        header: list[str] | None,
        header_line: int | None,
        header_is_comment: bool,
        comments: list[str],
        sample: list[list[float]],
    ) -> None:
        self.delimiter: str | None = delimiter
        self.decimal: str = decimal
        self.n_columns: int = n_columns
        self.first_data_line: int = first_data_line  # 0-based index into the lines given
        self.header: list[str] | None = header
        self.header_line: int | None = header_line
        self.header_is_comment: bool = header_is_comment
        self.comments: list[str] = comments
        self.sample: list[list[float]] = sample

    def parse(
        self, path: str | os.PathLike[str] | None, lines: Sequence[str], **options: Any
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """:func:`parse_numeric_block` on the data lines of ``lines`` with this layout (delimiter, decimal mark,
        width, header as column names); ``options`` override any of them or add ``usecols``/``allow_truncated``."""
        settings: dict[str, Any] = {
            'first_line': self.first_data_line + 1,
            'delimiter': self.delimiter,
            'n_columns': self.n_columns,
            'decimal': self.decimal,
            'column_names': self.header,
        }
        settings.update(options)
        return parse_numeric_block(path, '\n'.join(lines[self.first_data_line :]), **settings)


def split_fields(line: str, delimiter: str | None) -> list[str]:
    """Fields of one line; a trailing delimiter does not make an extra empty field."""
    if delimiter is None:
        return line.split()
    stripped = line.strip()
    while stripped.endswith(delimiter):
        stripped = stripped[: -len(delimiter)].rstrip()
    return [field.strip() for field in stripped.split(delimiter)]


def numeric_fields(line: str, delimiter: str | None, decimal: str, min_fraction: float = 1.0) -> list[float] | None:
    """The numbers of a line (NaN for a field that is not a number), or None when fewer than
    ``min_fraction`` of the fields are numbers (1.0: every field must be a number)."""
    fields = split_fields(line, delimiter)
    if not fields or (len(fields) == 1 and delimiter is not None):
        return None
    values = []
    numeric = 0
    for field in fields:
        text: str | None = field
        if decimal == ',':
            text = None if '.' in field else field.replace(',', '.')
        try:
            value = float(text) if text is not None else None
        except ValueError:
            value = None
        if value is None:
            if min_fraction >= 1.0:
                return None
            values.append(float('nan'))
        else:
            numeric += 1
            values.append(value)
    if numeric == 0 or numeric < min_fraction * len(fields):
        return None
    return values


def sniff_table(
    lines: Sequence[str],
    comment_prefixes: tuple[str, ...] = COMMENT_PREFIXES,
    max_sample: int = 50,
    min_fraction: float = 1.0,
) -> TableLayout | None:
    """Find the numeric block of a delimited text table: delimiter (tab, semicolon, comma or
    whitespace), decimal mark, the column-name row just above the numbers (possibly a comment line,
    as in NETZSCH's ``##Temp./°C;...``) and the comment lines. ``None`` when no numeric line exists.

    :param min_fraction: the share of fields of a data line that must be numbers (1.0 for purely
        numeric tables; less for tables with text columns, read through a column map).
    """
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(comment_prefixes):
            continue
        for delimiter, decimal in _DELIMITER_TRIALS:
            if delimiter is not None and delimiter not in stripped:
                continue
            if delimiter == ',' and decimal == ',':
                continue
            values = numeric_fields(stripped, delimiter, decimal, min_fraction)
            if values is None:
                continue
            width = len(values)
            sample = [values]
            for later in lines[index + 1 : index + 1 + max_sample]:
                if not later.strip():
                    continue
                more = numeric_fields(later.strip(), delimiter, decimal, min_fraction)
                if more is None or len(more) != width:
                    break
                sample.append(more)
            if min_fraction < 1.0 and len(sample) < min(3, len([text for text in lines[index:] if text.strip()])):
                continue
            header, header_line, is_comment = _header_above(lines, index, delimiter, width, comment_prefixes)
            comments = [text.strip() for text in lines[:index] if text.strip().startswith(comment_prefixes)]
            return TableLayout(delimiter, decimal, width, index, header, header_line, is_comment, comments, sample)
    return None


def _header_above(
    lines: Sequence[str], index: int, delimiter: str | None, width: int, comment_prefixes: tuple[str, ...]
) -> tuple[list[str] | None, int | None, bool]:
    for back in range(index - 1, -1, -1):
        text = lines[back].strip()
        if not text:
            continue
        is_comment = text.startswith(comment_prefixes)
        candidate = text.lstrip('#!%/; ') if is_comment else text
        fields = split_fields(candidate, delimiter)
        if len(fields) == width and all(fields):
            return [field.strip('"\' ') for field in fields], back, is_comment
        return None, None, False
    return None, None, False


def integer_column(path: str | os.PathLike[str] | None, name: str, values: np.ndarray) -> np.ndarray:
    """A counter column as int64; non-integral or non-finite values are a ParseError."""
    array = np.asarray(values)
    if array.dtype.kind in 'iub':
        return array.astype(np.int64)
    array = array.astype(np.float64)
    bad = ~np.isfinite(array) | (np.abs(array) > 2.0**52)
    safe = np.where(bad, 0.0, array)
    rounded = np.rint(safe)
    bad |= rounded != safe
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ParseError(
            path, f'counter column {name!r} holds {float(array[row])!r} in data row {row + 1}, not an integer'
        )
    return rounded.astype(np.int64)
