"""One page of the cells or samples table, filtered, sorted and counted in the database.

:func:`aiida_ssb.query.tables.cells` builds the whole table as a DataFrame; a page of a browser table needs
only 50 rows of 10,000. :func:`table_page` runs the same filters (the ``--where`` language of the command
line, :func:`~aiida_ssb.query.tables.parse_filter`) but lets the database count the matches, sort them and
return one page (``offset``/``limit``), so the cost does not grow with the number of cells:

* record fields filter and sort on the node's attributes, analysis fields on the query index extra;
* rows without a value in the sorted field come last, in both directions and on SQLite and PostgreSQL alike
  (the matches with a value are paged first, those without after them, each by sample id);
* lineage fields (``electrolyte.ball_milling.duration_min``) and ``made_by`` are computed for the rows of the
  page only. Filtering or sorting *by* them needs every row, so it falls back to the full table (the page
  says so in ``exact_paging = False``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiida import orm

from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.query import tables
from aiida_ssb.query.index import INDEX_EXTRA, MATERIAL_FIELDS
from aiida_ssb.query.tables import Filter, QueryError, parse_filter
from aiida_ssb.schemas.base import unit_of_field

__all__ = ['TABLES', 'Page', 'table_fields', 'table_frame', 'table_page']

#: the tables that can be paged
TABLES = ('cells', 'samples')


@dataclass
class Page:
    """One page of a table: its rows (dicts, column -> value), the number of matching rows in all, and how
    long the database work took."""

    rows: list[dict[str, Any]]
    total: int
    columns: list[str]
    offset: int
    limit: int
    seconds: float
    exact_paging: bool = True
    filters: list[Filter] = field(default_factory=list)


def _spec(table: str):
    if table == 'cells':
        return (
            CellData,
            tables.CELL_FIELDS,
            tables._analysis_cell_fields(),
            'cell',
            tables.DEFAULT_CELL_COLUMNS,
            tables._cell_lineage_value,
        )
    if table == 'samples':
        return (
            MaterialData,
            tables.SAMPLE_FIELDS,
            MATERIAL_FIELDS,
            'sample',
            tables.DEFAULT_SAMPLE_COLUMNS,
            tables._material_lineage_value,
        )
    raise QueryError(f'unknown table {table!r}; tables: {", ".join(TABLES)}')


def table_fields(table: str) -> dict[str, str]:
    """Every record and analysis field of a table (name -> description); lineage fields come on top."""
    return tables.cell_fields() if table == 'cells' else tables.sample_fields()


def _off_index(name: str) -> bool:
    """A retention field at a cycle the query index may lack (not one of the standard retention cycles)."""
    from aiida_ssb.schemas.analysis import STANDARD_RETENTION_CYCLES

    template = tables._parametrised(name)
    return template in tables._PER_CYCLE_FIELDS and int(name.rsplit('_', 1)[-1]) not in STANDARD_RETENTION_CYCLES


def _key(kind: str, name: str) -> str:
    return f'attributes.{name}' if kind == 'record' else f'extras.{INDEX_EXTRA}.{name}'


def _presence(kind: str, name: str) -> dict[str, Any]:
    """A filter 'this field is present' on the node (record) or in its index extra (analysis)."""
    if kind == 'record':
        return {'attributes': {'has_key': name}}
    return {f'extras.{INDEX_EXTRA}': {'has_key': name}}


def _cast(node_class, filters: dict[str, Any], kind: str, name: str, scope) -> str:
    """'f' when the field holds numbers (the first stored value decides), else 't'."""
    query = orm.QueryBuilder()
    extra_scope = scope(query)
    both = dict(filters)
    for key, value in _presence(kind, name).items():
        both[key] = tables._merge(both.get(key), value)
    query.append(node_class, filters=both, project=_key(kind, name), tag='node', **extra_scope)
    value = query.first(flat=True)
    return 'f' if isinstance(value, (int, float)) and not isinstance(value, bool) else 't'


def _row_values(
    node_class, pks: list[int], record: list[str], table: str
) -> dict[int, tuple[dict[str, Any], dict[str, Any], Any]]:
    """pk -> (record values, index extra, layers) of the given nodes."""
    if not pks:
        return {}
    projections = ['id'] + [f'attributes.{name}' for name in record] + [f'extras.{INDEX_EXTRA}']
    if table == 'cell':
        projections.append('attributes.layers')
    query = orm.QueryBuilder().append(node_class, filters={'id': {'in': pks}}, project=projections)
    found = {}
    for values in query.all():
        found[values[0]] = (
            dict(zip(record, values[1 : 1 + len(record)])),
            values[1 + len(record)] or {},
            values[-1] if table == 'cell' else None,
        )
    return found


def table_page(
    table: str = 'cells',
    *,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
    campaign: str | None = None,
) -> Page:
    """Rows ``offset`` to ``offset + limit`` of the filtered, sorted ``cells`` or ``samples`` table, and how many
    rows match in all. Filters are expressions in the ``--where`` language or :class:`Filter` objects; an unknown
    field or malformed expression raises :class:`QueryError`."""
    start = time.perf_counter()
    node_class, record_fields, analysis_fields, kind_name, default_columns, lineage_value = _spec(table)
    parsed = [parse_filter(f) if isinstance(f, str) else f for f in filters]
    columns = list(dict.fromkeys(columns or default_columns))
    if 'sample_id' not in columns:
        columns.insert(0, 'sample_id')
    sort = sort or 'sample_id'
    if sort not in columns:
        columns.append(sort)
    offset, limit = max(0, int(offset)), max(1, min(int(limit), 1000))
    kinds = tables._classify(columns + [f.field for f in parsed], record_fields, analysis_fields, kind_name, node_class)
    slow = any(kinds[f.field] == 'lineage' or f.field == 'made_by' for f in parsed)
    slow = slow or kinds[sort] == 'lineage' or sort == 'made_by'
    # retention at a cycle outside the standard ones is indexed only where the analysis was asked for it
    # (cycling.retention_at); elsewhere it comes from the per-cycle table: the full table reads both
    slow = slow or any(_off_index(name) for name in [sort, *(f.field for f in parsed)])
    slow = slow or any(kinds[name] == 'result' for name in [sort, *(f.field for f in parsed)])
    if slow:
        frame = table_frame(table, filters=parsed, columns=columns, sort=sort, descending=descending, campaign=campaign)
        rows = [_clean_row(row) for row in frame.iloc[offset : offset + limit].to_dict(orient='records')]
        return Page(rows, len(frame), columns, offset, limit, time.perf_counter() - start, False, parsed)

    from aiida_ssb.data.sample import CURRENT_VERSIONS

    node_filters: dict[str, Any] = dict(CURRENT_VERSIONS)  # a corrected record: its current version only
    for filter_ in parsed:
        key = _key(kinds[filter_.field], filter_.field)
        node_filters[key] = tables._merge(node_filters.get(key), tables._qb_condition(filter_))

    def scope(query):
        return tables._group_scope(query, campaign)

    def base_query(extra: dict[str, Any] | None = None):
        query = orm.QueryBuilder()
        extra_scope = scope(query)
        both = dict(node_filters)
        for key, value in (extra or {}).items():
            both[key] = tables._merge(both.get(key), value)
        query.append(node_class, filters=both, tag='node', project='id', **extra_scope)
        return query

    total = base_query().count()
    sort_kind = kinds[sort]
    order = 'desc' if descending else 'asc'
    pks: list[int] = []
    if sort == 'sample_id':
        query = base_query().order_by({'node': [{'attributes.sample_id': {'order': order, 'cast': 't'}}]})
        pks = query.offset(offset).limit(limit).all(flat=True)
    else:
        presence = _presence(sort_kind, sort)
        # a unit suffix means numbers; otherwise the first stored value tells
        cast = 'f' if unit_of_field(sort) else _cast(node_class, node_filters, sort_kind, sort, scope)
        query = base_query(presence).order_by(
            {
                'node': [
                    {_key(sort_kind, sort): {'order': order, 'cast': cast}},
                    {'attributes.sample_id': {'order': 'asc', 'cast': 't'}},
                ]
            }
        )
        pks = query.offset(offset).limit(limit).all(flat=True)
        if len(pks) < limit:  # the rows without a value come after those with one
            # how many have a value: known from a short page, counted when the page starts beyond them
            with_value = offset + len(pks) if pks else base_query(presence).count()
            if total > with_value:
                missing = {key: {'!has_key': value['has_key']} for key, value in presence.items()}
                rest_offset = max(0, offset - with_value)
                query = _without(node_class, node_filters, missing, scope)
                pks += query.offset(rest_offset).limit(limit - len(pks)).all(flat=True)
    record = [name for name in columns if kinds[name] == 'record' and name != 'made_by']
    values = _row_values(node_class, pks, record, kind_name)
    creators = tables._creators(pks) if 'made_by' in columns else {}
    lineage = tables._Lineage()
    per_cycle = tables._PerCycle()  # retention at a cycle the index lacks: from the per-cycle table
    results = {name: tables._result_values(name) for name in columns if kinds[name] == 'result'}
    tables._material_cache.clear()
    rows = []
    for pk in pks:
        if pk not in values:
            continue
        record_values, index, layers = values[pk]
        row: dict[str, Any] = {}
        for name in columns:
            kind = kinds[name]
            if name == 'made_by':
                row[name] = creators.get(pk)
            elif kind == 'record':
                row[name] = record_values.get(name)
            elif kind == 'analysis':
                row[name] = per_cycle.value(index, name)
            elif kind == 'result':
                sample_id = record_values.get('sample_id')
                row[name] = results[name].get(sample_id) if sample_id is not None else None
            else:
                row[name] = tables.lineage_display(lineage_value(lineage, {'pk': pk, 'layers': layers}, name))
        rows.append(_clean_row(row))
    return Page(rows, total, columns, offset, limit, time.perf_counter() - start, True, parsed)


def _without(node_class, node_filters, missing, scope):
    """The page query restricted to the nodes that lack the sorted field, by sample id."""
    query = orm.QueryBuilder()
    extra_scope = scope(query)
    both = dict(node_filters)
    for key, value in missing.items():
        both[key] = tables._merge(both.get(key), value)
    query.append(node_class, filters=both, tag='node', project='id', **extra_scope)
    return query.order_by({'node': [{'attributes.sample_id': {'order': 'asc', 'cast': 't'}}]})


def _clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values: NaN -> None, booleans stay booleans (SQLite returns JSON booleans as 0/1)."""

    clean = {}
    for key, value in row.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif hasattr(value, 'item') and not isinstance(value, (list, dict, str)):
            value = value.item()
        if key in tables.BOOLEAN_FIELDS and value is not None:
            value = bool(value)
        clean[key] = value
    return clean


def table_frame(
    table: str = 'cells',
    *,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    campaign: str | None = None,
):
    """The whole filtered table as a DataFrame (for a CSV download): :func:`~aiida_ssb.query.tables.cells` or
    :func:`~aiida_ssb.query.tables.samples` with the same arguments."""
    getter = tables.cells if table == 'cells' else tables.samples
    if table not in TABLES:
        raise QueryError(f'unknown table {table!r}; tables: {", ".join(TABLES)}')
    return getter(
        filters=list(filters),
        columns=list(columns) if columns else None,
        sort=sort,
        descending=descending,
        campaign=campaign,
    )
