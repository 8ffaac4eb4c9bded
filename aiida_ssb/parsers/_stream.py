"""The numeric core every text reader shares: delimited numbers, read in blocks of bytes.

Instrument text exports are large tables of numbers under a header. They are read here straight from the
file's bytes, a block of a few tens of megabytes at a time, by pandas' C tokenizer (only the columns asked
for are converted), and collected column by column, so that a 1-million-row export never exists as one
decoded string: memory stays at the size of the arrays read plus one block.

The structure of every line is checked before its numbers are trusted (vectorised over the block):

* a line with **fewer fields** than the header names would shift values into the wrong columns: a
  :class:`~aiida_ssb.parsers.base.ParseError` with its line, except for the last line of the file, which is
  then reported as a truncation (see below);
* a line with **more fields** is kept when the extra fields are empty (a trailing separator) or follow the
  named columns (values EC-Lab writes beyond its column-name line); it is refused when the values of the named
  columns no longer line up, which the caller can detect through ``integer_columns`` (a counter column that
  holds a fraction means the values moved); the rows kept are counted in the notes;
* an **empty field** is refused unless its column is in ``empty_ok`` (then it is NaN: not recorded);
* a field that is **not a number** is a ParseError naming the column and the line.

The **last line** gets one more check, since files cut while being written end in the middle of a line: a
last line with fewer fields, or an unterminated last line whose final value is shorter than every value of
that column in the lines above it (``1.2345678E-002`` cut to ``1.2345678E-0`` still parses), is a
truncation. It is an error unless the caller accepts truncation (``allow_truncated``): then that line is
dropped and its number is reported in the notes as ``truncated_last_line``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import numpy as np

from aiida_ssb.parsers.base import ParseError

__all__ = ['BLOCK_BYTES', 'TRUNCATION_HINT', 'NumericTable', 'read_numeric', 'truncation_reason']

#: bytes handed to the tokenizer at a time (cut at a line end)
BLOCK_BYTES = 8 * 1024**2

#: how a user accepts a truncated file, quoted in the truncation errors
TRUNCATION_HINT = (
    'to import the file without that line, give `allow_truncated: true` in its manifest entry or '
    '`--allow-truncated` to `aiida-ssb import-file`'
)

_NUMBER = re.compile(rb'^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?\s*$|^\s*(?i:[-+]?(?:nan|inf|infinity))\s*$')


class NumericTable:
    """What :func:`read_numeric` returns: one float64 array per column asked for, and notes."""

    def __init__(self, columns: dict[int, np.ndarray], notes: dict[str, Any], n_rows: int):
        self.columns = columns
        self.notes = notes
        self.n_rows = n_rows

    def stacked(self, positions: Sequence[int]) -> np.ndarray:
        """The columns as one ``(rows, len(positions))`` array."""
        if not positions:
            return np.empty((self.n_rows, 0))
        return np.column_stack([self.columns[position] for position in positions])


def read_numeric(
    path: str | os.PathLike[str] | None,
    source: bytes | tuple[str | os.PathLike[str], int],
    *,
    first_line: int,
    delimiter: str | None,
    n_columns: int,
    usecols: Sequence[int] | None = None,
    decimal: str = '.',
    column_names: Sequence[str] | None = None,
    allow_truncated: bool = False,
    empty_ok: Collection[int] = (),
    integer_columns: Collection[int] = (),
    block_bytes: int = BLOCK_BYTES,
) -> NumericTable:
    """Read the numbers of a delimited table.

    :param path: the file, for messages.
    :param source: the table's bytes, or ``(file path, byte offset of its first line)`` to read it from disk in
        blocks (the file is opened read-only and read once).
    :param first_line: 1-based line number of the table's first line in the file (for messages).
    :param delimiter: one character (``'\\t'``, ``','``, ``';'``) or ``None`` for runs of whitespace.
    :param n_columns: the number of fields the header names.
    :param usecols: 0-based columns to convert (default: all); the others are only counted.
    :param decimal: ``'.'`` or ``','``.
    :param column_names: the header's names (for messages).
    :param allow_truncated: drop a truncated last line (noted) instead of failing.
    :param empty_ok: columns whose empty fields are NaN ("not recorded") rather than an error.
    :param integer_columns: columns that only hold whole numbers: a row with extra fields whose values here are
        not whole numbers has moved, and is refused.
    """
    if decimal not in ('.', ','):
        raise ParseError(path, f"the decimal mark must be '.' or ',', not {decimal!r}")
    if decimal == ',' and delimiter == ',':
        raise ParseError(path, 'a comma cannot be both the decimal mark and the delimiter')
    if delimiter is not None and len(delimiter) != 1:
        raise ParseError(path, f'the delimiter must be one character, not {delimiter!r}')
    wanted = list(range(n_columns)) if usecols is None else [int(position) for position in usecols]
    for position in wanted:
        if not 0 <= position < n_columns:
            raise ParseError(path, f'column {position} is outside the table, which has {n_columns} columns')
    reader = _TableReader(
        path,
        first_line=first_line,
        delimiter=delimiter,
        n_columns=n_columns,
        wanted=wanted,
        decimal=decimal,
        names=list(column_names) if column_names is not None else None,
        allow_truncated=allow_truncated,
        empty_ok=set(empty_ok),
        integer_columns=set(integer_columns),
    )
    if isinstance(source, (bytes, bytearray, memoryview)):
        total = len(source)
    else:
        try:
            total = max(os.path.getsize(source[0]) - source[1], 0)
        except OSError:
            total = 0
    reader.total_bytes = total
    for block, block_first_line, is_last in _blocks(path, source, block_bytes):
        reader.feed(block, block_first_line, is_last)
    return reader.result()


def _blocks(
    path: str | os.PathLike[str] | None, source: bytes | tuple[str | os.PathLike[str], int], block_bytes: int
) -> Iterator[tuple[bytes, int, bool]]:
    """(bytes ending at a line end, 1-based number of its first line relative to the table, is the last block)."""
    line = 1
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        start = 0
        while start < len(data):
            stop = min(start + block_bytes, len(data))
            if stop < len(data):
                cut = data.rfind(b'\n', start, stop)
                stop = cut + 1 if cut >= start else data.find(b'\n', stop) + 1 or len(data)
            block = data[start:stop]
            is_last = stop >= len(data)
            yield block, line, is_last
            line += block.count(b'\n')
            start = stop
        return
    file_path, offset = source
    try:
        handle = open(file_path, 'rb')  # closed in the finally below
    except OSError as exc:
        raise ParseError(path, f'cannot be opened: {exc.strerror or exc}') from None
    try:
        handle.seek(offset)
        carry = b''
        while True:
            chunk = handle.read(block_bytes)
            if not chunk:
                if carry:
                    yield carry, line, True
                return
            data = carry + chunk if carry else chunk
            cut = data.rfind(b'\n')
            if cut < 0:
                carry = data
                continue
            block, carry = data[: cut + 1], data[cut + 1 :]
            peek = b'' if carry else handle.read(1)
            if not carry and not peek:
                yield block, line, True
                return
            if peek:
                carry = peek
            yield block, line, False
            line += block.count(b'\n')
    finally:
        handle.close()


class _TableReader:
    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        first_line: int,
        delimiter: str | None,
        n_columns: int,
        wanted: list[int],
        decimal: str,
        names: list[str] | None,
        allow_truncated: bool,
        empty_ok: set[int],
        integer_columns: set[int],
    ) -> None:
        self.path = path
        self.first_line = first_line
        self.delimiter = delimiter
        self.n = n_columns
        self.wanted = wanted
        self.decimal = decimal
        self.names = names
        self.allow_truncated = allow_truncated
        self.empty_ok = empty_ok
        self.integer_columns = [position for position in integer_columns if position < n_columns]
        self.total_bytes = 0
        self.context = b''  # the end of the previous block (the lines above a last line that starts a block)
        self.out: list[np.ndarray] = []  # one preallocated array per wanted column, filled block by block
        self.n_rows = 0
        self.notes: dict[str, Any] = {}
        self.extra_rows = 0
        self.extra_empty_rows = 0
        self.empty_fields = 0
        self.blank_lines = 0

    # ------------------------------------------------------------------ per block
    def feed(self, block: bytes, block_line: int, is_last: bool) -> None:
        line0 = self.first_line + block_line - 1  # file line number of the block's first line
        if is_last:
            block = self._check_last_line(block, line0)
        if not block.strip():
            return
        starts, stops = _line_bounds(block)
        blank = stops <= starts
        counts = self._field_counts(block, starts, stops, blank)
        odd = np.flatnonzero(~blank & (counts != self.n))
        values = self._tokenize(block, line0, starts, stops, blank)
        row_of_line = np.cumsum(~blank) - 1
        for index in odd.tolist():
            self._odd_line(block, starts[index], stops[index], counts[index], line0 + index, row_of_line[index], values)
        nan_rows = np.flatnonzero(np.isnan(values).any(axis=1)) if values.size else np.empty(0, dtype=np.int64)
        if nan_rows.size:
            lines_of_row = np.flatnonzero(~blank)
            for row in nan_rows.tolist():
                index = int(lines_of_row[row])
                self._nan_row(block, starts[index], stops[index], line0 + index, row, values)
        self.blank_lines += int(blank.sum())
        self._store(values, len(block))
        self.context = block[-16384:]

    def _store(self, values: np.ndarray, block_size: int) -> None:
        """Copy a block's rows into the output arrays, allocated once from the first block's bytes per row (the
        rows of a table are alike), grown by half when a file has more rows than that estimate."""
        rows = values.shape[0]
        need = self.n_rows + rows
        if not self.out:
            estimate = need
            if rows and block_size:
                estimate = int(self.total_bytes * rows / block_size * 1.02) + 64
            capacity = max(need, estimate)
            self.out = [np.empty(capacity) for _ in self.wanted]
        elif need > self.out[0].shape[0]:
            capacity = max(need, int(self.out[0].shape[0] * 1.5))
            for column in self.out:
                column.resize(capacity, refcheck=False)
        for slot, column in enumerate(self.out):
            column[self.n_rows : need] = values[:, slot]
        self.n_rows = need

    def _field_counts(self, block: bytes, starts: np.ndarray, stops: np.ndarray, blank: np.ndarray) -> np.ndarray:
        """Fields per line; a trailing delimiter does not make a field. Positions of the separators are searched,
        never a cumulative sum over every byte (memory: a few bytes per field, not eight per byte)."""
        raw = np.frombuffer(block, dtype=np.uint8)
        if self.delimiter is None:
            space = (raw == 32) | (raw == 9) | (raw == 13) | (raw == 10)
            token_starts = np.flatnonzero(~space[1:] & space[:-1]) + 1
            if raw.size and not space[0]:
                token_starts = np.concatenate(([0], token_starts))
            del space
            counts = np.searchsorted(token_starts, stops) - np.searchsorted(token_starts, starts)
            counts[blank] = 0
            return counts
        positions = np.flatnonzero(raw == ord(self.delimiter))
        counts = np.searchsorted(positions, stops) - np.searchsorted(positions, starts) + 1
        # trailing delimiters make empty fields that are not fields
        trailing = np.zeros(starts.size, dtype=bool)
        nonblank = ~blank
        trailing[nonblank] = raw[stops[nonblank] - 1] == ord(self.delimiter)
        counts = counts - trailing
        counts[blank] = 0
        return counts

    def _tokenize(
        self, block: bytes, line0: int, starts: np.ndarray, stops: np.ndarray, blank: np.ndarray
    ) -> np.ndarray:
        import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

        options: dict[str, Any] = {
            'header': None,
            'names': list(range(self.n)),
            'usecols': self.wanted,
            'dtype': np.float64,
            'engine': 'c',
            'decimal': self.decimal,
            'na_filter': True,
            'keep_default_na': False,
            'na_values': [''],
            'skip_blank_lines': True,
            'index_col': False,
            'quoting': 3,  # csv.QUOTE_NONE
            'encoding': 'latin-1',
        }
        if self.delimiter is None:
            options['sep'] = r'\s+'
        else:
            options['sep'] = self.delimiter
        try:
            frame = pd.read_csv(io.BytesIO(block), **options)
        except (ValueError, pd.errors.ParserError, UnicodeError, OverflowError) as exc:
            # something the tokenizer cannot take (a text field, a stray quote...): find it line by line
            return self._slow(block, line0, starts, stops, blank, exc)
        values: np.ndarray = frame.to_numpy(dtype=np.float64, copy=False)
        if values.shape[1] != len(self.wanted):
            return self._slow(block, line0, starts, stops, blank, None)
        expected_rows = int((~blank).sum())
        if values.shape[0] != expected_rows:
            return self._slow(block, line0, starts, stops, blank, None)
        return values

    def _slow(
        self,
        block: bytes,
        line0: int,
        starts: np.ndarray,
        stops: np.ndarray,
        blank: np.ndarray,
        exc: Exception | None,
    ) -> np.ndarray:
        """Every line in Python: the first problem becomes a ParseError with its line; no problem, the numbers."""
        rows = []
        for index in range(starts.size):
            if blank[index]:
                continue
            fields = self._split(block[starts[index] : stops[index]])
            row = []
            for position in self.wanted:
                if position >= len(fields):
                    row.append(np.nan)  # a short line: reported by the structural check
                    continue
                row.append(self._number(fields[position], position, line0 + index))
            rows.append(row)
        if not rows:
            return np.empty((0, len(self.wanted)))
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(self.wanted))

    def _split(self, line: bytes) -> list[bytes]:
        line = line.rstrip(b'\r')
        if self.delimiter is None:
            return line.split()
        return line.split(self.delimiter.encode())

    def _number(self, field: bytes, position: int, line: int) -> float:
        text = field.strip()
        if not text:
            if position in self.empty_ok:
                return float('nan')
            raise ParseError(self.path, f'{self._column(position)} is empty', line=line)
        if self.decimal == ',':
            text = text.replace(b',', b'.')
        try:
            return float(text)
        except ValueError:
            shown = text.decode('latin-1')
            shown = shown if len(shown) <= 40 else shown[:37] + '...'
            raise ParseError(
                self.path, f'{self._column(position)} holds {shown!r}, which is not a number', line=line
            ) from None

    def _column(self, position: int) -> str:
        if self.names is not None and position < len(self.names) and self.names[position]:
            return f'column {self.names[position]!r}'
        return f'field {position + 1}'

    def _odd_line(
        self, block: bytes, start: int, stop: int, count: int, line: int, row: int, values: np.ndarray
    ) -> None:
        """A line whose number of fields differs from the header's."""
        fields = self._split(block[start:stop])
        if count < self.n:
            # a trailing separator before a line end is an empty last field where that column may be empty
            whole = len(fields) == self.n and all(
                position in self.empty_ok for position in range(count, self.n) if not fields[position].strip()
            )
            if not whole:
                raise ParseError(self.path, f'has {count} fields where the header gives {self.n}', line=line)
            return
        extra = [field.strip() for field in fields[self.n :]]
        if not any(extra):
            self.extra_empty_rows += 1
            return
        for position in self.integer_columns:
            text = fields[position].strip()
            if self.decimal == ',':
                text = text.replace(b',', b'.')
            try:
                number = float(text)
            except ValueError:
                number = float('nan')
            if not (np.isfinite(number) and number == round(number)):
                raise ParseError(
                    self.path,
                    f'has {count} fields where the header gives {self.n}, and its values do not line up with the '
                    f'columns ({self._column(position)} holds {text.decode("latin-1")[:40]!r}, not a whole number): '
                    'a value was inserted or lost',
                    line=line,
                )
        self.extra_rows += 1

    def _nan_row(self, block: bytes, start: int, stop: int, line: int, row: int, values: np.ndarray) -> None:
        """A row the tokenizer gave NaN: an empty field (allowed or not), or a literal NaN."""
        fields = self._split(block[start:stop])
        for slot, position in enumerate(self.wanted):
            if not np.isnan(values[row, slot]):
                continue
            if position >= len(fields):
                raise ParseError(self.path, f'has {len(fields)} fields where the header gives {self.n}', line=line)
            number = self._number(fields[position], position, line)
            if np.isnan(number) and not fields[position].strip():
                self.empty_fields += 1
            values[row, slot] = number

    # ------------------------------------------------------------------ the last line
    def _check_last_line(self, block: bytes, line0: int) -> bytes:
        stripped = block.rstrip(b' \t\r\n') if self.delimiter in (None, '\t') else block.rstrip(b' \r\n')
        if not stripped:
            return stripped
        terminated = len(stripped) < len(block) and b'\n' in block[len(stripped) :]
        cut = stripped.rfind(b'\n') + 1
        last = stripped[cut:]
        line = line0 + stripped.count(b'\n')
        fields = self._split(last)
        while len(fields) > self.n and not fields[-1].strip():
            fields.pop()
        reason = None
        if len(fields) < self.n:
            reason = f'it has {len(fields)} of the {self.n} fields'
        elif not terminated:
            # the lines above it, also from the end of the previous block when this one starts with the last line
            reason = self._cut_value(stripped[:cut], fields) if cut else self._cut_value(self.context, fields, True)
        if reason is None:
            return stripped
        if not self.allow_truncated:
            raise ParseError(
                self.path,
                f'the last line is cut short ({reason}): the file looks truncated; {TRUNCATION_HINT}',
                line=line,
            )
        self.notes['truncated_last_line'] = line
        self.notes['truncation'] = f'line {line} dropped: {reason}'
        return stripped[: max(cut - 1, 0)] if cut else b''

    def _cut_value(self, before: bytes, fields: list[bytes], partial_first: bool = False) -> str | None:
        """Why an unterminated last line looks cut inside its final value, or None (``partial_first``: the first
        of the lines above may be cut, as it is when they come from the end of the previous block)."""
        lines = before.rstrip(b'\r\n').split(b'\n')[-51:]
        lines = lines[1:] if partial_first else lines[-50:]
        previous = [self._split(line) for line in lines if line.strip()]
        return truncation_reason(
            [[field.decode('latin-1') for field in row] for row in previous],
            [field.decode('latin-1') for field in fields],
            terminated=False,
            n_columns=len(fields),
            decimal=self.decimal,
        )

    # ------------------------------------------------------------------ result
    def result(self) -> NumericTable:
        columns: dict[int, np.ndarray] = {}
        for slot, position in enumerate(self.wanted):
            if not self.out:
                columns[position] = np.empty(0)
                continue
            column = self.out[slot]
            if column.shape[0] != self.n_rows:
                column.resize(self.n_rows, refcheck=False)  # in place: the estimate's spare rows are given back
            columns[position] = column
        self.out = []
        if self.extra_rows:
            self.notes['rows_with_extra_fields'] = self.extra_rows
            self.notes['extra_fields'] = 'values beyond the named columns were dropped'
        if self.extra_empty_rows:
            self.notes['rows_with_empty_extra_fields'] = self.extra_empty_rows
        if self.empty_fields:
            self.notes['empty_fields'] = self.empty_fields
        return NumericTable(columns, self.notes, self.n_rows)


def truncation_reason(
    previous: Sequence[Sequence[str]],
    last: Sequence[str],
    *,
    terminated: bool,
    n_columns: int,
    decimal: str = '.',
    numeric_last: bool = True,
) -> str | None:
    """Why the last line of a table looks cut while it was written, or None when it looks whole.

    :param previous: the fields of the lines just above it (the last 50 are enough).
    :param last: its fields (trailing empty fields removed).
    :param terminated: whether it ends with a line end (a cut file ends without one).
    :param n_columns: the fields a whole line has.
    :param numeric_last: the final column holds numbers (a cut value then does not parse).

    A line with fewer fields is cut. An unterminated line is cut when its final value does not parse
    (``1.2E``) or is shorter than every value of that column above it, where all of those have one length (a
    fixed-width column: ``1.2345678E-002`` cut to ``1.2345678E-0`` still parses). Free-width columns
    (``0.5``, ``0.25``) cannot tell a cut value from a short one and are not judged.
    """
    if len(last) < n_columns:
        return f'it has {len(last)} of the {n_columns} fields'
    if terminated or not last:
        return None
    position = len(last) - 1
    value = last[position].strip()
    if numeric_last and not _NUMBER.match(
        (value.replace(',', '.') if decimal == ',' else value).encode('latin-1', 'replace')
    ):
        return f'its last value {value[:40]!r} is not a number'
    lengths = [
        len(row[position].strip().lstrip('-+')) for row in previous if len(row) > position and row[position].strip()
    ]
    # only a fixed-width column (every value above as long, signs aside) tells a cut value from a short one
    if len(lengths) >= 3 and len(set(lengths)) == 1 and len(value.lstrip('-+')) < lengths[0]:
        return (
            f'its last value {value!r} is shorter than the {lengths[0]} characters of every value of that column '
            'above it'
        )
    return None


def _line_bounds(block: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive, without ``\\r\\n``) of every line of a block that ends at a line end."""
    raw = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(raw == 10)
    if not block.endswith(b'\n'):
        newlines = np.append(newlines, len(block))
    starts = np.concatenate(([0], newlines[:-1] + 1)).astype(np.int64)
    stops = newlines.astype(np.int64)
    has_cr = np.zeros(stops.size, dtype=bool)
    inside = stops > starts
    has_cr[inside] = raw[stops[inside] - 1] == 13
    stops = stops - has_cr
    return starts, stops
