"""Helpers shared by the commands: clean errors, table/CSV/JSON output."""

from __future__ import annotations

import functools
import json
import math
import sys
import warnings
from typing import Any, Callable

import click

__all__ = ['clean_errors', 'print_frame', 'OUTPUT_FORMAT']

OUTPUT_FORMAT = click.option(
    '--format',
    'output_format',
    type=click.Choice(['table', 'csv', 'json']),
    default='table',
    show_default=True,
    help='Output as a text table, CSV or JSON.',
)


def _expected_errors() -> tuple[type[BaseException], ...]:
    from aiida_ssb.data.sample import DuplicateSampleError
    from aiida_ssb.importer.manifest import ManifestError
    from aiida_ssb.parsers.base import ParseError
    from aiida_ssb.query.tables import QueryError

    return (ManifestError, QueryError, ParseError, DuplicateSampleError, KeyError, ValueError, FileNotFoundError)


def clean_errors(function: Callable) -> Callable:
    """Print expected errors (bad input) as one clear message, without a traceback, and exit with 1."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        warnings.filterwarnings('ignore', message='.*not in session.*')  # SQLAlchemy noise on unstored nodes
        try:
            return function(*args, **kwargs)
        except _expected_errors() as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            click.secho('Error: ', fg='red', bold=True, nl=False, err=True)
            click.echo(message, err=True)
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
