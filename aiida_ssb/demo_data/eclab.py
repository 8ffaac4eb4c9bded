"""Writer of BioLogic EC-Lab text exports (``.mpt``), imitating what EC-Lab v11 writes.

Layout (as in genuine exports): latin-1 text with CRLF line ends; line 1 ``EC-Lab ASCII FILE``; line 2
``Nb header lines : N`` (N counts every header line including the column names); the technique name; the
channel, device and acquisition start; the cell characteristics (electrode surface area, characteristic
mass, ...); ``Cycle Definition``; the technique settings in 20-character columns (one column per sequence
``Ns``); a blank line; the tab-separated column names (with a trailing tab); then the tab-separated data.
Floats are written like EC-Lab: ``1.0512296E+001`` (three-digit exponents), time and counters with 15
decimals.

Every file says in its ``Comments`` line that it is synthetic demonstration data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ['Column', 'Instrument', 'MptFile', 'fmt_floats', 'format_table', 'settings_block', 'write_mpt']

_EXPONENT = re.compile(r'E([+-])(\d\d)(?=[\t\r\n]|$)', re.MULTILINE)


def fmt_floats(values: np.ndarray, decimals: int = 7) -> list[str]:
    """EC-Lab style scientific notation with ``decimals`` mantissa decimals (exponent fixed later to 3 digits)."""
    array = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 -> 0.0
    spec = f'.{decimals}E'
    return [format(value, spec) for value in array.tolist()]


@dataclass(frozen=True)
class Column:
    """One data column: EC-Lab name, values, and how to print them ('int', 'f7' or 'f15')."""

    name: str
    values: np.ndarray
    style: str = 'f7'

    def strings(self) -> list[str]:
        if self.style == 'int':
            return [str(int(value)) for value in np.asarray(self.values).tolist()]
        if self.style == 'f15':
            return fmt_floats(self.values, 15)
        return fmt_floats(self.values, 7)


def format_table(columns: Sequence[Column]) -> str:
    """The data block: tab-separated rows joined by CRLF (ending with CRLF)."""
    n_rows = {len(column.values) for column in columns}
    if len(n_rows) != 1:
        raise ValueError(f'columns have different lengths: {sorted(n_rows)}')
    strings = [column.strings() for column in columns]
    rows = ['\t'.join(fields) for fields in zip(*strings)]
    text = '\r\n'.join(rows) + '\r\n'
    return _EXPONENT.sub(r'E\g<1>0\2', text)


@dataclass(frozen=True)
class Instrument:
    """The potentiostat a file claims to come from (a synthetic serial number)."""

    device: str = 'VMP3'
    serial: str = '0000'
    channel: int = 1
    address: str = 'USB'


def settings_block(rows: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """EC-Lab's technique settings: a 20-character key column then one 20-character column per sequence."""
    lines = []
    for key, values in rows:
        lines.append(key.ljust(20) + ''.join(str(value).ljust(20) for value in values))
    return lines


@dataclass
class MptFile:
    """Everything one ``.mpt`` export holds."""

    technique: str
    started: dt.datetime
    filename: str
    directory: str
    instrument: Instrument
    cell_lines: list[str]
    settings: list[str]
    columns: list[Column]
    extra_lines: list[str] = field(default_factory=list)

    def header_lines(self) -> list[str]:
        inst = self.instrument
        body = [
            '',
            self.technique,
            '',
            f'Run on channel : {inst.channel} (SN {inst.serial})',
            'User : ',
            'CE vs. WE compliance from -10 V to 10 V',
            'Electrode connection : standard',
            'Potential control : Ewe',
            'Ewe ctrl range : min = -10.00 V, max = 10.00 V',
            'Safety Limits :',
            '\tDo not start on E overload',
            f'Acquisition started on : {self.started:%m/%d/%Y %H:%M:%S}.000',
            'Loaded Setting File : NONE',
            'Saved on :',
            f'\tFile : {self.filename}',
            f'\tDirectory : {self.directory}',
            '\tHost : 127.0.0.1',
            f'Device : {inst.device} (SN {inst.serial})',
            f'Address : {inst.address}',
            'EC-Lab for windows v11.33 (software)',
            'Internet server v11.32 (firmware)',
            'Command interpretor v11.33 (firmware)',
            *self.cell_lines,
            *self.extra_lines,
            'Cycle Definition : Charge/Discharge alternance',
            *self.settings,
            '',
            '\t'.join(column.name for column in self.columns) + '\t',
        ]
        n_header = len(body) + 2
        return ['EC-Lab ASCII FILE', f'Nb header lines : {n_header}'.ljust(46), *body]

    def text(self) -> str:
        return '\r\n'.join(self.header_lines()) + '\r\n' + format_table(self.columns)


def write_mpt(path: Path, mpt: MptFile) -> int:
    """Write ``mpt`` to ``path`` (latin-1, CRLF); returns the number of bytes written."""
    data = mpt.text().encode('latin-1')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)
