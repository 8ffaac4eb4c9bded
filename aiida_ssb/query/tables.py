"""Tables of samples and cells as pandas DataFrames, with filters that reach across the provenance graph.

These kinds of fields can be shown (``columns``) and filtered (``filters``):

* **record fields**: the attributes of the cell or material (``stack_pressure_mpa``, ``mass_loading_mg_cm2``,
  ``role``...), stated or derived;
* **analysis fields**: the current headline numbers from the analyses (``capacity_retention_percent_at_100``,
  ``conductivity_25c_s_cm``, ``onset_v``...), read from the query index (:mod:`aiida_ssb.query.index`);
* **lineage fields**: a parameter of a lab step upstream in the provenance, ``ROLE.KIND.PARAMETER`` for a
  cell (``electrolyte.ball_milling.duration_min``: a ball milling in the history of the cell's electrolyte
  layer) and ``KIND.PARAMETER`` for a material (``heat_treatment.temperature_c``). A filter on a lineage field
  holds when *any* such step in the history satisfies it and the column shows every value, nearest first
  (``'30; 90'``); with ``lineage='nearest'`` both read only the nearest step;
* **result fields** (cells): any number of an analysis result, ``ANALYSIS.KEY`` (``cycling.cycles_to_95_percent``,
  ``conductivity.area_cm2``): the value in the newest summary of that analysis of the cell that holds it;
* **settings fields**: what the instrument was told for a measurement of the sample, ``settings.FIELD``
  (``settings.technique``, ``settings.c_rate``, ``settings.upper_voltage_limit_v``...; see
  :data:`aiida_ssb.parsers.settings.SETTINGS_FIELDS`). The settings filters hold when *one* measurement of the
  sample satisfies all of them ("a GCPL at C/10 with a 4.15 V limit"); the column shows that measurement's value.

Filters are ``(field, operator, value)``; operators ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``, and ``contains``
for list fields such as ``flags`` (``flags contains capacity_above_theoretical``: a flag of that name). A value may
carry a unit (``1 bar``) and is converted to the unit of the field's name (``stack_pressure_mpa``: MPa).
Record and analysis filters run in the database; lineage filters on the rows that remain. An unknown
field, a unit of the wrong dimension or a malformed expression is a :class:`QueryError` listing the
fields that exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiida import orm

from aiida_ssb.data.campaign import campaign_group
from aiida_ssb.data.nodes import pk_of
from aiida_ssb.exceptions import InputError
from aiida_ssb.query.catalogue import (
    _PER_CYCLE_FIELDS,
    LINEAGE_ROLES,
    _analysis_names,
    _check_result_field,
    _PerCycle,
    _result_values,
    _with_profile,
    cell_fields,
    describe_fields,
    field_in_profile,
    profile_fields,
    sample_fields,
)
from aiida_ssb.query.fields import (
    BOOLEAN_FIELDS,
    CELL_FIELDS,
    DEFAULT_CELL_COLUMNS,
    DEFAULT_CELL_RESULTS,
    DEFAULT_SAMPLE_COLUMNS,
    DEFAULT_SAMPLE_RESULTS,
    FLAG_FIELDS,
    IMPEDANCE_FIELDS,
    SAMPLE_FIELDS,
    Filter,
    QueryError,
    _default_columns,
    _parametrised,
    field_unit,
    flag_names,
    parametrised_fields,
    parse_filter,
)
from aiida_ssb.query.fields import analysis_cell_fields as _analysis_cell_fields
from aiida_ssb.query.fields import table_columns as _columns
from aiida_ssb.query.fields import with_quality as _with_quality

__all__ = [
    'BOOLEAN_FIELDS',
    'CELL_FIELDS',
    'DEFAULT_CELL_COLUMNS',
    'DEFAULT_CELL_RESULTS',
    'DEFAULT_SAMPLE_COLUMNS',
    'DEFAULT_SAMPLE_RESULTS',
    'FLAG_FIELDS',
    'IMPEDANCE_FIELDS',
    'SAMPLE_FIELDS',
    'Filter',
    'QueryError',
    'cell_fields',
    'cells',
    'describe_fields',
    'field_unit',
    'flag_names',
    'parse_filter',
    'sample_fields',
    'samples',
]


def _lineage_parameters() -> dict[str, set[str]]:
    from aiida_ssb.schemas.processes import PROCESS_KINDS

    return {kind: set(schema.model_fields) for kind, schema in PROCESS_KINDS.items()}


def _classify(
    names: Iterable[str], record: dict[str, str], analysis: dict[str, str], table: str, node_class=None
) -> dict[str, str]:
    """field -> 'record' | 'analysis' | 'result' | 'lineage' | 'settings'; a QueryError listing the fields for an unknown
    one. A parametrised field (``capacity_retention_percent_at_7``) is an analysis field for any N; with
    ``node_class``, a field the catalogue does not know but a node of the profile holds is accepted too."""
    kinds = _lineage_parameters()
    result = {}
    from aiida_ssb.parsers.settings import SETTINGS_FIELDS

    for name in names:
        if name.startswith('settings.'):
            if name[len('settings.') :] not in SETTINGS_FIELDS:
                raise QueryError(
                    f'{name!r}: unknown settings field; settings fields: '
                    + ', '.join(f'settings.{field}' for field in SETTINGS_FIELDS)
                )
            result[name] = 'settings'
        elif name in record:
            result[name] = 'record'
        elif name in analysis or (table == 'cell' and _parametrised(name)):
            result[name] = 'analysis'
        elif table == 'cell' and name.count('.') == 1 and name.split('.')[0] in _analysis_names():
            _check_result_field(name)
            result[name] = 'result'
        elif '.' in name:
            parts = name.split('.')
            expected = 3 if table == 'cell' else 2
            if len(parts) != expected:
                form = (
                    'ROLE.KIND.PARAMETER (e.g. electrolyte.ball_milling.duration_min)'
                    if table == 'cell'
                    else 'KIND.PARAMETER (e.g. ball_milling.duration_min)'
                )
                raise QueryError(f'{name!r}: a lineage field of the {table}s table is {form}')
            if table == 'cell' and parts[0] not in LINEAGE_ROLES:
                raise QueryError(f'{name!r}: unknown layer role {parts[0]!r}; roles: {", ".join(LINEAGE_ROLES)}')
            kind, parameter = parts[-2], parts[-1]
            if kind not in kinds:
                raise QueryError(f'{name!r}: unknown lab step {kind!r}; steps: {", ".join(sorted(kinds))}')
            if parameter not in kinds[kind]:
                raise QueryError(
                    f'{name!r}: {kind} has no parameter {parameter!r}; parameters: {", ".join(sorted(kinds[kind]))}'
                )
            result[name] = 'lineage'
        elif (found := field_in_profile(node_class, name)) is not None:
            result[name] = found
        else:
            known = dict(record)
            known.update(analysis)
            if node_class is not None:
                extra_record, extra_analysis = profile_fields(node_class)
                known = _with_profile(known, {**extra_record, **extra_analysis})
            names_known = sorted(known)
            if table == 'cell':
                names_known += sorted(parametrised_fields())
            lineage = 'ROLE.KIND.PARAMETER' if table == 'cell' else 'KIND.PARAMETER'
            option = 'cells' if table == 'cell' else 'samples'
            raise QueryError(
                f'unknown {table} field {name!r}; fields that exist: {", ".join(names_known)}; and lineage fields '
                f'{lineage} and settings.FIELD (`aiida-ssb {option} --help-fields` explains each)'
            )
    return result


# ------------------------------------------------------------------------------------------------ lineage
#: how a lineage filter reads the history: 'any' step of the kind, or only the 'nearest' one
LINEAGE_MODES = ('any', 'nearest')


class _Lineage:
    """Upstream lab-step parameters of materials, memoised per node (a table shares few materials)."""

    def __init__(self) -> None:
        self._memo: dict[int, list[tuple[int, int, str, dict[str, Any]]]] = {}

    def steps(self, node: orm.Node) -> list[tuple[int, int, str, dict[str, Any]]]:
        """``(distance, process pk, kind, parameters)`` of every lab step in the history of ``node``, nearest
        first (distance 0: the step that made it; 1: the steps that made its inputs...). A step reached along
        two paths is listed once, at its shorter distance."""
        if node.pk in self._memo:
            return self._memo[node.pk]
        self._memo[pk_of(node)] = []  # guards cycles
        found: dict[int, tuple[int, int, str, dict[str, Any]]] = {}
        creator = node.creator
        if creator is not None and 'ssb.record.' in (creator.process_type or ''):
            kind = creator.process_type.rsplit('.', 1)[-1]
            if kind != 'cell_assembly' and 'parameters' in creator.inputs:
                found[creator.pk] = (0, creator.pk, kind, creator.inputs.parameters.get_dict())
            parents = [
                link.node
                for link in creator.base.links.get_incoming().all()
                if link.link_label not in ('parameters', 'product') and hasattr(link.node, 'sample_id')
            ]
            for parent in parents:
                for distance, pk, parent_kind, parameters in self.steps(parent):
                    if pk not in found or found[pk][0] > distance + 1:
                        found[pk] = (distance + 1, pk, parent_kind, parameters)
        result = sorted(found.values(), key=lambda item: (item[0], item[1]))
        self._memo[pk_of(node)] = result
        return result

    def of(self, node: orm.Node) -> dict[str, list[dict[str, Any]]]:
        """kind -> parameter dicts of every step of that kind in the history, nearest first."""
        result: dict[str, list[dict[str, Any]]] = {}
        for _, _, kind, parameters in self.steps(node):
            result.setdefault(kind, []).append(parameters)
        return result

    def values(self, node: orm.Node, kind: str, parameter: str, *, nearest: bool = False) -> list[Any]:
        """The values of ``parameter`` in the steps of ``kind`` upstream of ``node``, nearest first; with
        ``nearest``, only that of the nearest step of the kind that records the parameter."""
        found = [step[parameter] for step in self.of(node).get(kind, []) if step.get(parameter) is not None]
        return found[:1] if nearest else found


def lineage_display(values: Sequence[Any]) -> Any:
    """The cell of a lineage column: nothing, the one value, or every value nearest first joined by ``'; '``
    (``'30; 90'``: a milling of 30 min, and one of 90 min further upstream). Equal values are shown once."""
    unique: list[Any] = []
    for value in values:
        if value not in unique:
            unique.append(value)
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    return '; '.join(f'{value:g}' if isinstance(value, float) else str(value) for value in unique)


def _layer_material_ids(attributes: dict[str, Any], role: str) -> list[str]:
    roles = ('electrolyte', 'separator') if role == 'electrolyte' else (role,)
    return [layer['material'] for layer in attributes.get('layers', []) if layer['role'] in roles]


def _compare(value: Any, filter_: Filter) -> bool:
    target = filter_.value
    if filter_.operator == 'contains':
        if isinstance(value, (list, tuple)):
            return str(target) in [str(item) for item in value]
        return isinstance(value, str) and str(target) in value
    if filter_.operator == '==':
        return value == target
    if filter_.operator == '!=':
        return value != target
    if value is None or isinstance(value, bool):
        return False
    try:
        return {'<': value < target, '<=': value <= target, '>': value > target, '>=': value >= target}[
            filter_.operator
        ]
    except TypeError:
        return False


def _qb_condition(filter_: Filter) -> dict[str, Any]:
    if filter_.operator == '!=':
        return {'!==': filter_.value}
    if filter_.operator == '==':
        return {'==': filter_.value}
    return {filter_.operator: filter_.value}


def _merge(existing: Any, new: dict[str, Any]) -> Any:
    if existing is None:
        return new
    if isinstance(existing, dict) and set(existing) == {'and'}:
        return {'and': existing['and'] + [new]}
    return {'and': [existing, new]}


def _group_scope(query: orm.QueryBuilder, campaign: str | None) -> dict[str, Any]:
    if campaign is None:
        return {}
    try:
        group = campaign_group(campaign)
    except InputError as exc:
        raise QueryError(str(exc)) from None
    query.append(orm.Group, filters={'id': group.pk}, tag='campaign')
    return {'with_group': 'campaign'}


#: the hidden key of a row holding the nearest value of a lineage column (what that column sorts by)
_SORT_KEY = '\0nearest:'


def _finish(
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    sort: str | None,
    descending: bool,
    limit: int | None,
    optional: Iterable[str] = (),
):
    """The rows as a DataFrame of ``columns``, sorted and cut; the ``optional`` columns are left out where no
    row has a value (the result columns of a default table: only the analyses that ran)."""
    import pandas as pd

    if limit is not None and limit < 0:
        raise QueryError(f'--limit {limit}: give a number of rows, 0 or more')

    for row in rows:
        for name in BOOLEAN_FIELDS:
            if row.get(name) is not None:
                row[name] = bool(row[name])
    optional = set(optional) - {sort}
    columns = [name for name in columns if name not in optional or any(row.get(name) is not None for row in rows)]
    if sort and sort not in columns:
        raise QueryError(f'cannot sort by {sort!r}: add it to the columns')
    hidden = _SORT_KEY + sort if sort and any(_SORT_KEY + sort in row for row in rows) else None
    frame = pd.DataFrame(rows, columns=list(columns) + ([hidden] if hidden else []))
    if sort:
        frame = frame.sort_values(hidden or sort, ascending=not descending, na_position='last', kind='stable')
    if hidden:
        frame = frame.drop(columns=[hidden])
    if limit is not None:
        frame = frame.head(limit)
    return frame.reset_index(drop=True)


def _run(
    node_class,
    *,
    record_fields: dict[str, str],
    analysis_fields: dict[str, str],
    table: str,
    base_filters: dict[str, Any],
    filters: Sequence[Filter],
    columns: Sequence[str],
    campaign: str | None,
    lineage_value,
    lineage: str = 'any',
) -> list[dict[str, Any]]:
    from aiida_ssb.query.index import INDEX_EXTRA

    if lineage not in LINEAGE_MODES:
        raise QueryError(f'lineage {lineage!r}: one of {", ".join(LINEAGE_MODES)}')
    nearest = lineage == 'nearest'
    kinds = _classify(list(columns) + [f.field for f in filters], record_fields, analysis_fields, table, node_class)
    node_filters = dict(base_filters)
    later: list[Filter] = []
    settings_filters = [filter_ for filter_ in filters if kinds[filter_.field] == 'settings']
    settings_columns = [name for name in columns if kinds[name] == 'settings']
    measured: dict[str, dict[str, Any]] = {}
    if settings_filters or settings_columns:
        measured = _settings_of_samples(settings_filters)
        if settings_filters:
            matching = sorted(measured) or ['']  # no sample: an id no sample has ('in' needs one value)
            node_filters['attributes.sample_id'] = _merge(node_filters.get('attributes.sample_id'), {'in': matching})
    for filter_ in filters:
        kind = kinds[filter_.field]
        if kind == 'settings':
            continue
        if filter_.operator == 'contains' or filter_.field in FLAG_FIELDS:
            later.append(filter_)
            continue
        if kind == 'record' and filter_.field != 'made_by':
            key = f'attributes.{filter_.field}'
        elif kind == 'analysis' and _parametrised(filter_.field) not in _PER_CYCLE_FIELDS:
            key = f'extras.{INDEX_EXTRA}.{filter_.field}'
        else:
            later.append(filter_)
            continue
        node_filters[key] = _merge(node_filters.get(key), _qb_condition(filter_))
    query = orm.QueryBuilder()
    scope = _group_scope(query, campaign)
    needs_node = any(kinds[name] == 'lineage' for name in kinds) or 'made_by' in kinds
    record = [name for name in columns if kinds[name] == 'record' and name != 'made_by']
    for filter_ in later:
        if kinds[filter_.field] == 'record' and filter_.field not in record and filter_.field != 'made_by':
            record.append(filter_.field)
    projections = ['id'] + [f'attributes.{name}' for name in record] + [f'extras.{INDEX_EXTRA}']
    if 'sample_id' in record:
        id_position = 1 + record.index('sample_id')
    else:
        id_position = len(projections)
        projections.append('attributes.sample_id')
    with_layers = needs_node and table == 'cell'
    if with_layers:
        projections.append('attributes.layers')
    query.append(node_class, filters=node_filters, tag='node', project=projections, **scope)
    rows = []
    history = _Lineage()
    per_cycle = _PerCycle()
    results = {name: _result_values(name) for name, kind in kinds.items() if kind == 'result'}
    found_rows = query.all()
    creators = _creators([values[0] for values in found_rows]) if 'made_by' in kinds else {}
    for values in found_rows:
        pk = values[0]
        row = dict(zip(record, values[1 : 1 + len(record)]))
        index = values[1 + len(record)] or {}
        sample_settings = measured.get(values[id_position], {})
        for name in columns:
            if kinds[name] == 'analysis':
                row[name] = per_cycle.value(index, name)
            elif kinds[name] == 'settings':
                row[name] = sample_settings.get(name[len('settings.') :])
            elif kinds[name] == 'result':
                row[name] = results[name].get(values[id_position])
        for name in FLAG_FIELDS:
            if name in row:
                row[name] = flag_names(row[name], index.get(name))
        if 'made_by' in kinds:
            row['made_by'] = creators.get(pk)
        context = {'pk': pk, 'layers': values[-1] if with_layers else None}
        keep = True
        for filter_ in later:
            if filter_.field == 'made_by' or kinds[filter_.field] == 'record':
                keep = _compare(row.get(filter_.field), filter_)
            elif kinds[filter_.field] == 'analysis':
                keep = _compare(per_cycle.value(index, filter_.field), filter_)
            elif kinds[filter_.field] == 'result':
                keep = _compare(results[filter_.field].get(values[id_position]), filter_)
            else:
                found = lineage_value(history, context, filter_.field, nearest=nearest)
                keep = any(_compare(v, filter_) for v in found)
            if not keep:
                break
        if not keep:
            continue
        for name in columns:
            if kinds[name] == 'lineage':
                found = lineage_value(history, context, name, nearest=nearest)
                row[name] = lineage_display(found)
                row[_SORT_KEY + name] = found[0] if found else None
        for name in list(row):
            if name.startswith(_SORT_KEY):
                continue
            if name not in columns:
                del row[name]
            elif name in FLAG_FIELDS:
                row[name] = ', '.join(row[name])
        rows.append(row)
    return rows


def _settings_of_samples(filters: Sequence[Filter]) -> dict[str, dict[str, Any]]:
    """sample id -> the settings summary of one of its measurements that satisfies every filter (all of them
    when there is no filter), from one query over the measurement nodes."""
    from aiida_ssb.data.measurements import ALL_MEASUREMENT_CLASSES

    conditions: dict[str, Any] = {'attributes': {'has_key': 'settings'}}
    for filter_ in filters:
        key = f'attributes.settings.{filter_.field[len("settings.") :]}'
        conditions[key] = _merge(conditions.get(key), _qb_condition(filter_))
    query = orm.QueryBuilder().append(
        ALL_MEASUREMENT_CLASSES, filters=conditions, project=['attributes.sample_id', 'attributes.settings']
    )
    found: dict[str, dict[str, Any]] = {}
    for sample_id, settings in query.iterall():
        if sample_id is not None:
            found.setdefault(sample_id, settings or {})
    return found


def _creators(pks: list[int]) -> dict[int, str]:
    """material pk -> kind of the lab step that created it."""
    if not pks:
        return {}
    result = {}
    for start in range(0, len(pks), 500):
        query = orm.QueryBuilder()
        query.append(orm.Data, filters={'id': {'in': pks[start : start + 500]}}, tag='node', project='id')
        query.append(
            orm.CalcFunctionNode, with_outgoing='node', edge_filters={'type': 'create'}, project='process_type'
        )
        for pk, process_type in query.all():
            result[pk] = (process_type or '').rsplit('.', 1)[-1]
    return result


def _material_lineage_value(lineage: _Lineage, context, field: str, nearest: bool = False) -> list[Any]:
    """The values of a material lineage field ``KIND.PARAMETER``, nearest first."""
    kind, parameter = field.split('.')
    return lineage.values(orm.load_node(context['pk']), kind, parameter, nearest=nearest)


def _cell_lineage_value(lineage: _Lineage, context, field: str, nearest: bool = False) -> list[Any]:
    """The values of a cell lineage field ``ROLE.KIND.PARAMETER`` over the layers of that role, nearest first
    (with ``nearest``: the nearest one of each layer's material)."""
    from aiida_ssb.data.sample import find_sample

    role, kind, parameter = field.split('.')
    values: list[Any] = []
    for sample_id in dict.fromkeys(_layer_material_ids({'layers': context['layers'] or []}, role)):
        material = _material_cache.get(sample_id)
        if material is None:
            material = find_sample(sample_id)
            _material_cache[sample_id] = material
        if material is None:
            continue
        values.extend(lineage.values(material, kind, parameter, nearest=nearest))
    return values


_material_cache: dict[str, Any] = {}


def samples(
    *,
    role: str | None = None,
    campaign: str | None = None,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    lineage: str = 'any',
):
    """Materials as a DataFrame, one row per batch.

    :param role: only materials with this role.
    :param campaign: only materials of this campaign (group).
    :param filters: :class:`Filter` objects or expressions such as ``'conductivity_25c_s_cm > 1e-3'`` or
        ``'ball_milling.duration_min >= 45'``.
    :param columns: fields to show (record, analysis or lineage fields); default: id, name, role, formula,
        supplier, made_by, the fields filtered on, and the headline results of the analyses that ran
        (:data:`DEFAULT_SAMPLE_RESULTS`, each shown when some row has it).
    :param sort: a column to sort by; ``descending`` to reverse; ``limit`` to keep the first rows.
    :param lineage: how a lineage filter reads the history: ``'any'`` (default) holds when any upstream step of
        the kind satisfies it, ``'nearest'`` only looks at the nearest such step. A lineage column shows every
        upstream value nearest first (``'30; 90'``), or with ``'nearest'`` the nearest one.
    """
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.query.index import MATERIAL_FIELDS

    parsed = [parse_filter(f) if isinstance(f, str) else f for f in filters]
    optional: tuple[str, ...] = ()
    if columns is None:
        columns = _default_columns(DEFAULT_SAMPLE_COLUMNS, DEFAULT_SAMPLE_RESULTS, parsed)
        optional = tuple(name for name in DEFAULT_SAMPLE_RESULTS if name not in {f.field for f in parsed})
    columns = _columns(columns, DEFAULT_SAMPLE_COLUMNS)
    base = {'attributes.role': role} if role else {}
    _material_cache.clear()
    rows = _run(
        MaterialData,
        record_fields=SAMPLE_FIELDS,
        analysis_fields=MATERIAL_FIELDS,
        table='sample',
        base_filters=base,
        filters=parsed,
        columns=columns,
        campaign=campaign,
        lineage_value=_material_lineage_value,
        lineage=lineage,
    )
    return _finish(
        rows, columns, sort or ('sample_id' if 'sample_id' in columns else None), descending, limit, optional
    )


def cells(
    *,
    cell_format: str | None = None,
    campaign: str | None = None,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    lineage: str = 'any',
):
    """Cells as a DataFrame, one row per cell.

    :param cell_format: only cells of this format (full, half, symmetric, blocking_pellet, three_electrode).
    :param campaign: only cells of this campaign (group).
    :param filters: :class:`Filter` objects or expressions such as ``'capacity_retention_percent_at_100 >= 80'``,
        ``'stack_pressure_mpa < 1'`` or ``'electrolyte.ball_milling.duration_min >= 45'``.
    :param columns: fields to show (record, analysis or lineage fields); default: the main record fields, the
        fields filtered on, and the headline results of the analyses that ran (:data:`DEFAULT_CELL_RESULTS`,
        each shown when some row has it).
    :param sort: a column to sort by; ``descending`` to reverse; ``limit`` to keep the first rows.
    :param lineage: how a lineage filter reads the history: ``'any'`` (default) holds when any upstream step of
        the kind satisfies it, ``'nearest'`` only looks at the nearest such step. A lineage column shows every
        upstream value nearest first (``'30; 90'``), or with ``'nearest'`` the nearest one, so that it never
        contradicts the filter.
    """
    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.sample import CURRENT_VERSIONS

    parsed = [parse_filter(f) if isinstance(f, str) else f for f in filters]
    optional: tuple[str, ...] = ()
    if columns is None:
        columns = _default_columns(DEFAULT_CELL_COLUMNS, DEFAULT_CELL_RESULTS, parsed)
        optional = tuple(name for name in DEFAULT_CELL_RESULTS if name not in {f.field for f in parsed})
    else:
        columns = _with_quality(_columns(columns, DEFAULT_CELL_COLUMNS))
    columns = _columns(columns, DEFAULT_CELL_COLUMNS)
    base: dict[str, Any] = {'attributes.format': cell_format} if cell_format else {}
    base.update(CURRENT_VERSIONS)  # a cell corrected by `aiida-ssb amend` is one row: its current version
    _material_cache.clear()
    rows = _run(
        CellData,
        record_fields=CELL_FIELDS,
        analysis_fields=_analysis_cell_fields(),
        table='cell',
        base_filters=base,
        filters=parsed,
        columns=columns,
        campaign=campaign,
        lineage_value=_cell_lineage_value,
        lineage=lineage,
    )
    return _finish(
        rows, columns, sort or ('sample_id' if 'sample_id' in columns else None), descending, limit, optional
    )
