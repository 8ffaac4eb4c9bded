"""The cells table read straight from the database, for the command line: no ORM, no pandas.

``aiida-ssb cells`` on a 10,000-cell profile spent its time importing AiiDA's ORM (about 1 s of CPU), the
engine and pandas (about 0.8 s each) before it asked the database anything. The table it shows needs none of
them: its record fields are attributes of the cell nodes and its analysis fields are the query index, the extra
``ssb`` that :mod:`aiida_ssb.data.index` writes on every cell. So this module reads them with one SQL query over
the node table (``sqlite3`` of the standard library for a ``core.sqlite_dos`` profile, ``psycopg`` for a
``core.psql_dos`` one), filters them in the database with the same semantics as the QueryBuilder that
:func:`aiida_ssb.query.tables.cells` uses (a number filter matches a JSON number only, ``!=`` also matches a cell
without the field), projects each value as the QueryBuilder does (on SQLite an attribute passes through
``json_extract``, so a boolean reads 1 and a float 15 significant digits, as there), and sorts as pandas sorts
(stable, missing values last).

It answers only what it answers identically (``tests/aiida/test_fast_tables.py`` compares the two paths):
record and analysis columns and filters with numbers or ``==``/``!=`` on text. Anything else (lineage fields
``ROLE.KIND.PARAMETER``, ``settings.*``, ``flags``, ``contains``, a boolean value, an unknown field, a campaign
that does not exist, another storage backend) returns None, and the caller uses the full path, which also
gives the error messages.

The names below are the stored layout this module reads; a test checks them against the classes that write it.
"""

from __future__ import annotations

import abc
import json
import operator as op
from collections.abc import Sequence
from typing import Any

from aiida_ssb.query.fields import (
    BOOLEAN_FIELDS,
    CELL_FIELDS,
    DEFAULT_CELL_COLUMNS,
    DEFAULT_CELL_RESULTS,
    FLAG_FIELDS,
    Filter,
    _default_columns,
    analysis_cell_fields,
    parse_filter,
    table_columns,
    with_quality,
)

__all__ = ['ENABLED', 'cells_table', 'frame_of']

#: switch the fast path off (the tests compare it with the full path)
ENABLED = True

#: node type of :class:`aiida_ssb.data.cell.CellData` (entry point ``ssb.cell``) and its subclasses
CELL_NODE_TYPE = 'data.ssb.cell.CellData.'
#: the extra of the query index (:data:`aiida_ssb.data.index.INDEX_EXTRA`)
INDEX_EXTRA = 'ssb'
#: the extra of a superseded record version (:data:`aiida_ssb.data.sample.SUPERSEDED_EXTRA`)
SUPERSEDED_EXTRA = 'ssb_superseded_by'
#: label prefix of campaign groups (:data:`aiida_ssb.data.campaign.CAMPAIGN_PREFIX`)
CAMPAIGN_PREFIX = 'ssb/campaign/'

_COMPARE = {'<': op.lt, '<=': op.le, '>': op.gt, '>=': op.ge, '==': op.eq, '!=': op.ne}


class _Dialect(abc.ABC):
    """How one backend spells a JSON projection and a typed comparison (:class:`_Sqlite`, :class:`_Postgres`)."""

    placeholder = '?'

    @abc.abstractmethod
    def attribute(self, name: str) -> str:
        """The SQL expression of the cell attribute ``name``, projected as the QueryBuilder projects it."""

    @abc.abstractmethod
    def index_value(self, name: str) -> str:
        """The SQL expression of the query-index value ``name`` (the extra ``ssb``)."""

    @abc.abstractmethod
    def typed(self, column: str, path: str, value: Any) -> tuple[str, str]:
        """(type condition, the value cast for the comparison) of ``column`` at ``path`` for a filter value."""

    @abc.abstractmethod
    def row(self, fields: list[str]) -> str:
        """One JSON array of the projected ``fields`` per row."""

    @abc.abstractmethod
    def current(self) -> str:
        """The condition keeping the current version of a record (no :data:`SUPERSEDED_EXTRA` extra)."""


class _Sqlite(_Dialect):
    placeholder = '?'

    def attribute(self, name: str) -> str:
        # what the QueryBuilder projects: JSON_QUOTE(JSON_EXTRACT(...)) (booleans 0/1, floats to 15 digits)
        return f"json_extract(n.attributes, '$.{name}')"

    def index_value(self, name: str) -> str:
        # the full path loads the whole index dict, whose values keep their JSON text: ``->`` keeps it too
        return f"(n.extras -> '$.{INDEX_EXTRA}.{name}')"

    def typed(self, column: str, path: str, value: Any) -> tuple[str, str]:
        pointer = f"json_extract({column}, '$.{path}')"
        if isinstance(value, str):
            return f"json_type({column}, '$.{path}') = 'text'", pointer
        return f"json_type({column}, '$.{path}') IN ('integer', 'real')", f'CAST({pointer} AS REAL)'

    def row(self, fields: list[str]) -> str:
        return f'json_array({", ".join(fields)})' if fields else "'[]'"

    def current(self) -> str:
        return f"json_type(n.extras, '$.{SUPERSEDED_EXTRA}') IS NULL"


class _Postgres(_Dialect):
    placeholder = '%s'

    def attribute(self, name: str) -> str:
        return f"(n.attributes -> '{name}')"

    def index_value(self, name: str) -> str:
        return f"(n.extras -> '{INDEX_EXTRA}' -> '{name}')"

    def typed(self, column: str, path: str, value: Any) -> tuple[str, str]:
        keys = path.split('.')
        pointer = f'{column}' + ''.join(f" -> '{key}'" for key in keys)
        text = f'{column}' + ''.join(f" -> '{key}'" for key in keys[:-1]) + f" ->> '{keys[-1]}'"
        if isinstance(value, str):
            return f"jsonb_typeof({pointer}) = 'string'", text
        return f"jsonb_typeof({pointer}) = 'number'", f'CAST({text} AS DOUBLE PRECISION)'

    def row(self, fields: list[str]) -> str:
        return f'jsonb_build_array({", ".join(fields)})'

    def current(self) -> str:
        return f"NOT (n.extras ? '{SUPERSEDED_EXTRA}')"


def _connection():
    """(connection, dialect) of the loaded profile's database, or None for a backend this module does not read."""
    from aiida.manage import get_manager

    profile = get_manager().get_profile()
    if profile is None:
        return None
    backend = profile.storage_backend
    config = profile.storage_config
    if backend == 'core.sqlite_dos':
        import pathlib
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 38, 0):  # the -> operator
            return None
        path = pathlib.Path(config['filepath']) / 'database.sqlite'
        if not path.is_file():
            return None
        # a short busy timeout: a database locked longer goes the full path, which waits as every writer does
        connection = sqlite3.connect(f'{path.as_uri()}?mode=ro', uri=True, timeout=5.0, isolation_level=None)
        try:
            connection.execute('BEGIN')  # one read transaction: the whole answer from one state of the database
            connection.execute('SELECT 1 FROM db_dbnode LIMIT 1').fetchall()
        except sqlite3.Error:
            connection.close()
            return None
        return connection, _Sqlite()
    if backend == 'core.psql_dos':
        try:
            import psycopg
        except ImportError:
            return None
        try:
            connection = psycopg.connect(
                host=config.get('database_hostname') or None,
                port=config.get('database_port') or None,
                dbname=config['database_name'],
                user=config.get('database_username'),
                password=config.get('database_password') or None,
            )  # one transaction (psycopg's default): the whole answer from one snapshot
        except psycopg.Error:
            return None  # the full path reports what is wrong with the database
        return connection, _Postgres()
    return None


def _database_errors() -> tuple[type[Exception], ...]:
    """The errors of a database this module gives up on (the full path then answers, or says what is wrong)."""
    import sqlite3
    import sys

    errors: list[type[Exception]] = [sqlite3.Error]
    if 'psycopg' in sys.modules:
        errors.append(sys.modules['psycopg'].Error)
    return tuple(errors)


def _supported(value: Any, operator: str) -> bool:
    """Filters this module applies exactly as the QueryBuilder does: numbers with any comparison, text with
    == and != (ordering text depends on the database's collation); never booleans (SQLite stores them as
    numbers the QueryBuilder's boolean filter does not match)."""
    if isinstance(value, bool) or operator not in _COMPARE:
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and operator in ('==', '!=')


def _sort(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """pandas' ``sort_values(kind='stable', na_position='last')``: missing values last, in their order."""
    missing = [row for row in rows if row.get(sort) is None or row.get(sort) != row.get(sort)]
    present = [row for row in rows if not (row.get(sort) is None or row.get(sort) != row.get(sort))]
    return sorted(present, key=lambda row: row[sort], reverse=descending) + missing


def cells_table(
    *,
    cell_format: str | None = None,
    campaign: str | None = None,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
) -> tuple[list[str], list[dict[str, Any]]] | None:
    """The columns and rows :func:`aiida_ssb.query.tables.cells` would give for the same arguments, read with one
    SQL query; None when this module cannot answer identically (the caller then uses the full path)."""
    if not ENABLED or (limit is not None and limit < 0):
        return None
    parsed = [parse_filter(f) if isinstance(f, str) else f for f in filters]
    optional: tuple[str, ...] = ()
    if columns is None:  # as the full path: record columns, the fields filtered on, the results some row has
        shown = list(table_columns(_default_columns(DEFAULT_CELL_COLUMNS, DEFAULT_CELL_RESULTS, parsed), ()))
        optional = tuple(name for name in DEFAULT_CELL_RESULTS if name not in {f.field for f in parsed})
    else:
        shown = list(with_quality(table_columns(columns, DEFAULT_CELL_COLUMNS)))
    analysis = analysis_cell_fields()
    kinds: dict[str, str] = {}
    for name in shown + [f.field for f in parsed]:
        if name in FLAG_FIELDS:
            return None
        if name in CELL_FIELDS:
            kinds[name] = 'record'
        elif name in analysis:
            kinds[name] = 'analysis'
        else:
            return None  # lineage, settings or an unknown field: the full path (and its error messages)
    if any(not _supported(f.value, f.operator) for f in parsed):
        return None
    sort = sort or ('sample_id' if 'sample_id' in shown else None)
    if sort is not None and sort not in shown:
        return None
    found = _connection()
    if found is None:
        return None
    connection, dialect = found
    given_up: tuple[type[Exception], ...] = (_CannotAnswerError, *_database_errors())
    try:
        rows = _query(connection, dialect, cell_format, campaign, parsed, shown, kinds, sort, descending, limit)
    except given_up:
        return None
    finally:
        connection.close()
    empty = {name for name in optional if all(row.get(name) is None for row in rows)}
    return [name for name in shown if name not in empty], rows


class _CannotAnswerError(Exception):
    """This module cannot answer identically."""


def _query(connection, dialect: _Dialect, cell_format, campaign, filters, shown, kinds, sort, descending, limit):
    mark = dialect.placeholder
    fields = [dialect.attribute(n) if kinds[n] == 'record' else dialect.index_value(n) for n in shown]
    # a cell corrected by `aiida-ssb amend` is one row: its current version (as the full path)
    conditions = ['n.node_type LIKE ' + mark, dialect.current()]
    parameters: list[Any] = [CELL_NODE_TYPE + '%']
    constraints = [Filter('format', '==', cell_format)] if cell_format else []
    for filter_ in constraints + list(filters):
        if filter_.field == 'format' or kinds[filter_.field] == 'record':
            column, path = 'n.attributes', filter_.field
        else:
            column, path = 'n.extras', f'{INDEX_EXTRA}.{filter_.field}'
        type_condition, value = dialect.typed(column, path, filter_.value)
        comparison = '=' if filter_.operator in ('==', '!=') else filter_.operator
        matched = f'(CASE WHEN {type_condition} THEN {value} {comparison} {mark} ELSE FALSE END)'
        conditions.append(f'NOT {matched}' if filter_.operator == '!=' else matched)
        parameters.append(filter_.value)
    joins = ''
    if campaign is not None:
        label = CAMPAIGN_PREFIX + str(campaign).strip()
        group = connection.execute(
            f"SELECT id FROM db_dbgroup WHERE label = {mark} AND type_string = 'core'", (label,)
        ).fetchone()
        if group is None:
            raise _CannotAnswerError  # the full path says which campaigns exist
        joins = ' JOIN db_dbgroup_dbnodes AS member ON member.dbnode_id = n.id'
        conditions.append(f'member.dbgroup_id = {mark}')
        parameters.append(group[0])
    sql = f'SELECT {dialect.row(fields)} FROM db_dbnode AS n{joins} WHERE {" AND ".join(conditions)} ORDER BY n.id'
    rows = []
    for (values,) in connection.execute(sql, parameters):
        values = json.loads(values) if isinstance(values, str) else values
        row = dict(zip(shown, values))
        for name in BOOLEAN_FIELDS:
            if row.get(name) is not None:
                row[name] = bool(row[name])
        rows.append(row)
    _as_in_a_frame(shown, rows)
    if sort is not None:
        try:
            rows = _sort(rows, sort, descending)
        except TypeError:
            raise _CannotAnswerError from None  # values pandas cannot order either: the full path says so
    return rows[:limit] if limit is not None else rows


def _as_in_a_frame(columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Hold the values as the full path's DataFrame holds them (before its ``limit``): a column of numbers with a
    float or a missing value holds floats (an integer 12345 then prints as 1.234e+04 there, and here)."""
    for name in columns:
        present = [row[name] for row in rows if row[name] is not None]
        if not present or any(isinstance(value, bool) or not isinstance(value, (int, float)) for value in present):
            continue
        if len(present) < len(rows) or any(isinstance(value, float) for value in present):
            for row in rows:
                if row[name] is not None:
                    row[name] = float(row[name])


def frame_of(columns: Sequence[str], rows: list[dict[str, Any]]):
    """The rows as the DataFrame :func:`aiida_ssb.query.tables.cells` returns (for the Python API and tests)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=list(columns))
