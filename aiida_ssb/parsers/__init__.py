"""Instrument-file readers: a file becomes a :class:`~aiida_ssb.parsers.base.Measurement`.

Pure Python and numpy: nothing here imports AiiDA. Optional third-party readers (galvani for
BioLogic ``.mpr``, NewareNDA for Neware files) are imported only when such a file is read.

>>> from aiida_ssb.parsers import read
>>> record = read('peis.mpt')                       # doctest: +SKIP
>>> record.technique, record.kind, record.units     # doctest: +SKIP
"""

from aiida_ssb.parsers.base import (
    COLUMNS,
    KIND_OF_TECHNIQUE,
    TECHNIQUES,
    Measurement,
    ParseError,
    UnsupportedFormatError,
    column_unit,
    timestamp_metadata,
)
from aiida_ssb.parsers.detect import SUPPORTED_FORMATS, detect_format
from aiida_ssb.parsers.reader import KINDS, REQUIRED_COLUMNS, read

__all__ = [
    'COLUMNS',
    'KINDS',
    'KIND_OF_TECHNIQUE',
    'REQUIRED_COLUMNS',
    'SUPPORTED_FORMATS',
    'TECHNIQUES',
    'Measurement',
    'ParseError',
    'UnsupportedFormatError',
    'column_unit',
    'detect_format',
    'read',
    'timestamp_metadata',
]
