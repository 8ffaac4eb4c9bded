"""Helpers shared by the commands: clean errors, table/CSV/JSON output."""

from __future__ import annotations

import functools
import json
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import click

__all__ = ['OUTPUT_FORMAT', 'clean_errors', 'print_frame', 'print_rows', 'simple_table']

OUTPUT_FORMAT = click.option(
    '--format',
    'output_format',
    type=click.Choice(['table', 'csv', 'json']),
    default='table',
    show_default=True,
    help='Output as a text table, CSV or JSON.',
)


def clean_errors(function: Callable) -> Callable:
    """Print the errors a user can cause (:class:`~aiida_ssb.exceptions.SsbError`) as one clear message, without
    a traceback, and exit with 1. Anything else is a bug and keeps its traceback."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from aiida_ssb.exceptions import SsbError

        warnings.filterwarnings('ignore', message='.*not in session.*')  # SQLAlchemy noise on unstored nodes
        try:
            return function(*args, **kwargs)
        except SsbError as exc:
            click.secho('Error: ', fg='red', bold=True, nl=False, err=True)
            click.echo(str(exc), err=True)
            sys.exit(1)

    return wrapper


def _format_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ''
    if isinstance(value, float):
        return f'{value:.4g}'
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def print_frame(frame, output_format: str = 'table') -> None:
    """Print a DataFrame as a table, CSV or JSON (records; missing values are null)."""
    if output_format == 'csv':
        click.echo(frame.to_csv(index=False), nl=False)
        return
    if output_format == 'json':
        records = []
        for row in frame.to_dict(orient='records'):
            records.append(
                {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
            )
        click.echo(json.dumps(records, indent=2, default=str))
        return
    from tabulate import tabulate

    if frame.empty:
        click.echo('(no rows)')
        return
    rows = [[_format_cell(value) for value in row] for row in frame.itertuples(index=False)]
    click.echo(tabulate(rows, headers=list(frame.columns), tablefmt='simple', disable_numparse=True))


def print_rows(columns: list[str], rows: list[dict[str, Any]], output_format: str = 'table') -> None:
    """Print rows (dicts) as :func:`print_frame` prints the DataFrame of them, without pandas (the command line's
    fast path, :mod:`aiida_ssb.query.fast`, whose rows hold their values as a DataFrame does)."""
    table = [[row.get(name) for name in columns] for row in rows]
    if output_format == 'csv':
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator='\n')
        writer.writerow(columns)
        for line in table:
            writer.writerow(['' if value is None else value for value in line])
        click.echo(buffer.getvalue(), nl=False)
        return
    if output_format == 'json':
        records = [
            {
                name: (None if isinstance(value, float) and math.isnan(value) else value)
                for name, value in zip(columns, line)
            }
            for line in table
        ]
        click.echo(json.dumps(records, indent=2, default=str))
        return
    if not table:
        click.echo('(no rows)')
        return
    cells = [[_format_cell(value) for value in line] for line in table]
    click.echo(simple_table(list(columns), cells))


def simple_table(headers: list[str], cells: list[list[str]]) -> str:
    """``tabulate(cells, headers, tablefmt='simple', disable_numparse=True)`` for plain ASCII text, without
    tabulate's per-cell type detection (most of the time of a 10,000-row table); other text goes to tabulate."""
    texts = [*headers, *(text for line in cells for text in line)]
    if not all(text.isascii() and text.isprintable() for text in texts):
        from tabulate import tabulate

        return tabulate(cells, headers=headers, tablefmt='simple', disable_numparse=True)
    lines = [[text.strip() for text in line] for line in cells]
    names = list(headers)
    widths = [len(name) + 2 for name in names]  # tabulate's padding of the headers
    for line in lines:
        for position, text in enumerate(line):
            widths[position] = max(widths[position], len(text))
    out = ['  '.join(name.ljust(width) for name, width in zip(names, widths)).rstrip()]
    out.append('  '.join('-' * width for width in widths))
    out.extend('  '.join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in lines)
    return '\n'.join(out)
