"""Tables of samples and cells as pandas DataFrames, with filters that reach across the provenance graph.

Three kinds of fields can be shown (``columns``) and filtered (``filters``):

* **record fields**: the attributes of the cell or material (``stack_pressure_mpa``, ``mass_loading_mg_cm2``,
  ``role``...), stated or derived;
* **analysis fields**: the current headline numbers from the analyses (``capacity_retention_percent_at_100``,
  ``conductivity_25c_s_cm``, ``onset_v``...), read from the query index (:mod:`aiida_ssb.query.index`);
* **lineage fields**: a parameter of a lab step upstream in the provenance, ``ROLE.KIND.PARAMETER`` for a
  cell (``electrolyte.ball_milling.duration_min``: a ball milling in the history of the cell's electrolyte
  layer) and ``KIND.PARAMETER`` for a material (``heat_treatment.temperature_c``). A filter on a lineage field
  holds when *any* such step in the history satisfies it; the column shows the nearest one.
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

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from aiida import orm

from aiida_ssb.calculations.summary import HEADLINE_FIELDS
from aiida_ssb.data.campaign import campaign_group
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import ALL_MEASUREMENT_CLASSES
from aiida_ssb.data.nodes import pk_of
from aiida_ssb.data.sample import find_sample
from aiida_ssb.exceptions import InputError
from aiida_ssb.parsers.settings import SETTINGS_FIELDS
from aiida_ssb.query.index import INDEX_EXTRA, MATERIAL_FIELDS
from aiida_ssb.schemas.analysis import STANDARD_RETENTION_CYCLES
from aiida_ssb.schemas.base import unit_of_field
from aiida_ssb.schemas.processes import PROCESS_KINDS
from aiida_ssb.units import UnitError, is_quantity_string, to_unit

__all__ = [
    'CELL_FIELDS',
    'SAMPLE_FIELDS',
    'Filter',
    'QueryError',
    'cell_fields',
    'cells',
    'parse_filter',
    'sample_fields',
    'samples',
]


class QueryError(InputError):
    """A filter or column that cannot be applied (unknown field, wrong unit, malformed expression)."""


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    value: Any

    def __str__(self) -> str:
        return f'{self.field} {self.operator} {self.value}'


_EXPRESSION = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|!=|=|<|>)\s*(.+?)\s*$')
_CONTAINS = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+contains\s+(.+?)\s*$', re.IGNORECASE)
_OPERATORS = ('<', '<=', '>', '>=', '==', '!=', 'contains')

#: fields holding lists of plausibility flags: the record's (attribute) and the analyses' (index), merged
FLAG_FIELDS = ('flags',)


def parse_filter(expression: str) -> Filter:
    """``'stack_pressure_mpa < 1'`` -> ``Filter('stack_pressure_mpa', '<', 1.0)``; ``'... < 1 bar'`` -> 0.1;
    ``'flags contains ce_above_100_percent'`` -> ``Filter('flags', 'contains', 'ce_above_100_percent')``."""
    contains = _CONTAINS.match(expression)
    if contains:
        return Filter(contains.group(1), 'contains', contains.group(2).strip().strip('"').strip("'"))
    match = _EXPRESSION.match(expression)
    if not match:
        raise QueryError(
            f'cannot read the filter {expression!r}: write FIELD OP VALUE, e.g. "stack_pressure_mpa < 1" '
            '(OP one of < <= > >= == !=), or FIELD contains NAME, e.g. "flags contains ce_above_100_percent"'
        )
    field, operator, raw = match.groups()
    if raw[:1] in '<>=!':
        raise QueryError(
            f'cannot read the filter {expression!r}: {operator}{raw[0]} is not an operator (use one of < <= > >= == !=)'
        )
    return Filter(field, '==' if operator == '=' else operator, _parse_value(field, raw))


def _parse_value(field: str, raw: str) -> Any:
    text = raw.strip().strip('"').strip("'")
    if text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise QueryError(f'{field}: {text!r} is not a finite number')
        return number
    if is_quantity_string(text):
        unit = unit_of_field(field.rsplit('.', 1)[-1])
        if unit is None:
            raise QueryError(f'{field!r} has no unit, so the value {text!r} cannot be converted')
        try:
            return to_unit(text, unit)
        except UnitError as exc:
            raise QueryError(f'wrong unit for {field}: {exc}') from None
    if unit_of_field(field.rsplit('.', 1)[-1]) is not None:
        raise QueryError(
            f'{field} is a number ({unit_of_field(field.rsplit(".", 1)[-1])}); {text!r} is not a number or a quantity'
        )
    return text


# ------------------------------------------------------------------------------------------------ field catalogues
#: record fields of the samples table: name -> description
SAMPLE_FIELDS: dict[str, str] = {
    'sample_id': 'the unique sample id',
    'name': 'material name',
    'role': 'material role (electrolyte, active_material, precursor...)',
    'formula': 'chemical formula',
    'supplier': 'supplier',
    'lot': 'lot number',
    'form': 'powder, foil, sheet...',
    'literature': 'true for literature records',
    'reference': 'DOI of the record',
    'made_by': 'the lab step that made it (empty: purchased)',
    'flags': 'plausibility flags of the record (e.g. uptake_contradicts_inputs); filter with "flags contains NAME"',
    'active_fraction': 'mass fraction of active material',
    'theoretical_density_g_cm3': 'theoretical density',
    'theoretical_capacity_mah_g': 'theoretical specific capacity',
    'molar_mass_g_mol': 'molar mass',
    'mass_mg': 'batch mass',
}

#: record fields of the cells table: name -> description
CELL_FIELDS: dict[str, str] = {
    'sample_id': 'the unique sample id',
    'format': 'blocking_pellet, symmetric, half, full, three_electrode',
    'name': 'cell name',
    'housing': 'cell housing',
    'housing_type': 'swagelok, pressure_cell, coin_cell, peek_mould, pouch',
    'electrode_area_cm2': 'electrode area (derived)',
    'positive_mass_mg': 'mass of the positive layer',
    'active_mass_mg': 'mass of active material (derived)',
    'active_fraction': 'mass fraction of active material in the positive layer',
    'mass_loading_mg_cm2': 'active material per electrode area (derived)',
    'composite_loading_mg_cm2': 'positive-layer mass per area (derived)',
    'one_c_ma_g': 'specific current of 1C',
    'one_c_current_ma': '1C current (derived)',
    'one_c_current_density_ma_cm2': '1C current density (derived)',
    'areal_capacity_basis_mah_cm2': 'theoretical areal capacity (derived)',
    'electrolyte_thickness_um': 'electrolyte/separator layer thickness',
    'electrolyte_mass_mg': 'electrolyte/separator layer mass',
    'electrolyte_relative_density': 'relative density of the electrolyte layer (derived)',
    'stack_pressure_mpa': 'applied stack pressure during test',
    'stack_pressure_bound': 'exact, upper or approximate',
    'max_fabrication_pressure_mpa': 'highest fabrication pressure',
    'literature': 'true for literature records',
    'reference': 'DOI of the record',
    'cell_kind': 'what the cell tests: cathode_half_cell, anode_half_cell, full_cell, three_electrode_cell, '
    'symmetric_cell, blocking_pellet, stability_cell (derived)',
    'tested_electrode': 'positive or negative: the electrode the capacity is counted on (derived)',
    'electrolyte_area_cm2': 'area of the electrolyte/separator layer (derived)',
    'conductivity_area_cm2': 'area of the conductivity: the smallest electrode contact or the pellet (derived)',
    'positive_active_mass_mg': 'active mass of the positive electrode (derived)',
    'positive_mass_loading_mg_cm2': 'active loading of the positive electrode (derived)',
    'negative_mass_mg': 'mass of the negative electrode layer',
    'negative_active_mass_mg': 'active mass of the negative electrode (derived)',
    'negative_mass_loading_mg_cm2': 'active loading of the negative electrode (derived)',
    'negative_theoretical_capacity_mah_g': 'theoretical capacity of the negative active material',
    'np_ratio_theoretical': 'N/P ratio from the theoretical areal capacities (derived)',
    'both_composites_mass_mg': 'positive + negative electrode layers without electrolyte (derived)',
    'stack_mass_mg': 'every layer of the stack, when all are weighed (derived)',
    'flags': 'plausibility flags of the cell record and of its analyses (e.g. relative_density_above_1, '
    'capacity_above_theoretical); filter with "flags contains NAME"',
}

DEFAULT_SAMPLE_COLUMNS = ('sample_id', 'name', 'role', 'formula', 'supplier', 'made_by')
DEFAULT_CELL_COLUMNS = (
    'sample_id',
    'format',
    'mass_loading_mg_cm2',
    'electrode_area_cm2',
    'one_c_current_density_ma_cm2',
    'stack_pressure_mpa',
    'max_fabrication_pressure_mpa',
)

#: the layer roles a cell lineage field may start with; 'electrolyte' also matches a separator layer
LINEAGE_ROLES = (
    'electrolyte',
    'separator',
    'positive',
    'negative',
    'working',
    'counter',
    'reference',
    'blocking_electrode',
    'current_collector',
    'interlayer',
)


def _analysis_cell_fields() -> dict[str, str]:
    fields = {}
    for name, description in HEADLINE_FIELDS.items():
        if name.endswith('_at_N'):
            for cycle in STANDARD_RETENTION_CYCLES:
                fields[name[:-1] + str(cycle)] = description.split(' (')[0].replace('cycle N', f'cycle {cycle}')
        else:
            fields[name] = description
    fields['ccd_not_reached_up_to_ma_cm2'] = 'highest current density of a CCD test without failure'
    return fields


def cell_fields() -> dict[str, str]:
    """Every record and analysis field of the cells table (lineage fields are ROLE.KIND.PARAMETER)."""
    return {**CELL_FIELDS, **_analysis_cell_fields()}


def sample_fields() -> dict[str, str]:
    """Every record and analysis field of the samples table (lineage fields are KIND.PARAMETER)."""

    return {**SAMPLE_FIELDS, **MATERIAL_FIELDS}


def _lineage_parameters() -> dict[str, set[str]]:
    return {kind: set(schema.model_fields) for kind, schema in PROCESS_KINDS.items()}


def _classify(names: Iterable[str], record: dict[str, str], analysis: dict[str, str], table: str) -> dict[str, str]:
    """field -> 'record' | 'analysis' | 'lineage'; a QueryError listing the fields for an unknown one."""
    kinds = _lineage_parameters()
    result = {}

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
        elif name in analysis:
            result[name] = 'analysis'
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
        else:
            known = sorted(record) + sorted(analysis)
            lineage = 'ROLE.KIND.PARAMETER' if table == 'cell' else 'KIND.PARAMETER'
            raise QueryError(
                f'unknown {table} field {name!r}; fields that exist: {", ".join(known)}; and lineage fields {lineage}'
            )
    return result


# ------------------------------------------------------------------------------------------------ lineage
class _Lineage:
    """Upstream lab-step parameters of materials, memoised per node (a table shares few materials)."""

    def __init__(self) -> None:
        self._memo: dict[int, dict[str, list[dict[str, Any]]]] = {}

    def of(self, node: orm.Node) -> dict[str, list[dict[str, Any]]]:
        """kind -> parameter dicts of every step of that kind in the history, nearest first."""
        if node.pk in self._memo:
            return self._memo[node.pk]
        self._memo[pk_of(node)] = {}  # guards cycles
        result: dict[str, list[dict[str, Any]]] = {}
        creator = node.creator
        if creator is not None and 'ssb.record.' in (creator.process_type or ''):
            kind = creator.process_type.rsplit('.', 1)[-1]
            if kind != 'cell_assembly' and 'parameters' in creator.inputs:
                result.setdefault(kind, []).append(creator.inputs.parameters.get_dict())
            parents = [
                link.node
                for link in creator.base.links.get_incoming().all()
                if link.link_label not in ('parameters', 'product') and hasattr(link.node, 'sample_id')
            ]
            for parent in parents:
                for parent_kind, steps in self.of(parent).items():
                    result.setdefault(parent_kind, []).extend(steps)
        self._memo[pk_of(node)] = result
        return result


def _layer_material_ids(attributes: dict[str, Any], role: str) -> list[str]:
    roles = ('electrolyte', 'separator') if role == 'electrolyte' else (role,)
    return [layer['material'] for layer in attributes.get('layers', []) if layer['role'] in roles]


def flag_names(*lists: Any) -> list[str]:
    """The names in lists of flags (dicts with ``flag``, or names), without repeats, in order."""
    names: list[str] = []
    for items in lists:
        for item in items or []:
            name = item.get('flag') if isinstance(item, dict) else item
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


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


#: boolean fields (SQLite returns JSON booleans as 0/1)
BOOLEAN_FIELDS = ('literature', 'conductivity_25c_extrapolated')


def _columns(columns: Sequence[str] | None, default: Sequence[str]) -> tuple[str, ...]:
    """The columns asked for, each once (a column named twice is shown once), blanks dropped."""
    names = [name.strip() for name in (columns or default) if name.strip()]
    if not names:
        raise QueryError('no columns: give field names separated by commas')
    return tuple(dict.fromkeys(names))


def _finish(rows: list[dict[str, Any]], columns: Sequence[str], sort: str | None, descending: bool, limit: int | None):
    if limit is not None and limit < 0:
        raise QueryError(f'--limit {limit}: give a number of rows, 0 or more')

    for row in rows:
        for name in BOOLEAN_FIELDS:
            if row.get(name) is not None:
                row[name] = bool(row[name])
    frame = pd.DataFrame(rows, columns=list(columns))
    if sort:
        if sort not in frame.columns:
            raise QueryError(f'cannot sort by {sort!r}: add it to the columns')
        frame = frame.sort_values(sort, ascending=not descending, na_position='last', kind='stable')
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
) -> list[dict[str, Any]]:
    kinds = _classify(list(columns) + [f.field for f in filters], record_fields, analysis_fields, table)
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
        elif kind == 'analysis':
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
    lineage = _Lineage()
    creators = _creators([values[0] for values in query.all()]) if 'made_by' in kinds else {}
    for values in query.all():
        pk = values[0]
        row = dict(zip(record, values[1 : 1 + len(record)]))
        index = values[1 + len(record)] or {}
        sample_settings = measured.get(values[id_position], {})
        for name in columns:
            if kinds[name] == 'analysis':
                row[name] = index.get(name)
            elif kinds[name] == 'settings':
                row[name] = sample_settings.get(name[len('settings.') :])
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
                keep = _compare(index.get(filter_.field), filter_)
            else:
                keep = any(
                    _compare(v, filter_) for v in lineage_value(lineage, context, filter_.field, all_values=True)
                )
            if not keep:
                break
        if not keep:
            continue
        for name in columns:
            if kinds[name] == 'lineage':
                found = lineage_value(lineage, context, name, all_values=True)
                row[name] = found[0] if found else None
        for name in list(row):
            if name not in columns:
                del row[name]
            elif name in FLAG_FIELDS:
                row[name] = ', '.join(row[name])
        rows.append(row)
    return rows


def _settings_of_samples(filters: Sequence[Filter]) -> dict[str, dict[str, Any]]:
    """sample id -> the settings summary of one of its measurements that satisfies every filter (all of them
    when there is no filter), from one query over the measurement nodes."""

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


def _material_lineage_value(lineage: _Lineage, context, field: str, all_values: bool = False) -> list[Any]:
    kind, parameter = field.split('.')
    node = orm.load_node(context['pk'])
    return [step.get(parameter) for step in lineage.of(node).get(kind, []) if step.get(parameter) is not None]


def _cell_lineage_value(lineage: _Lineage, context, field: str, all_values: bool = False) -> list[Any]:
    role, kind, parameter = field.split('.')
    values: list[Any] = []
    for sample_id in _layer_material_ids({'layers': context['layers'] or []}, role):
        material = _material_cache.get(sample_id)
        if material is None:
            material = find_sample(sample_id)
            _material_cache[sample_id] = material
        if material is None:
            continue
        values.extend(
            step.get(parameter) for step in lineage.of(material).get(kind, []) if step.get(parameter) is not None
        )
    return values


_material_cache: dict[str, Any] = {}


# ------------------------------------------------------------------------------------------------ the tables
def samples(
    *,
    role: str | None = None,
    campaign: str | None = None,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
):
    """Materials as a DataFrame, one row per batch.

    :param role: only materials with this role.
    :param campaign: only materials of this campaign (group).
    :param filters: :class:`Filter` objects or expressions such as ``'conductivity_25c_s_cm > 1e-3'`` or
        ``'ball_milling.duration_min >= 45'``.
    :param columns: fields to show (record, analysis or lineage fields); default: id, name, role, formula,
        supplier, made_by.
    :param sort: a column to sort by; ``descending`` to reverse; ``limit`` to keep the first rows.
    """

    parsed = [parse_filter(f) if isinstance(f, str) else f for f in filters]
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
    )
    return _finish(rows, columns, sort or ('sample_id' if 'sample_id' in columns else None), descending, limit)


#: impedance headline fields; a table showing one also shows the impedance fits' quality beside them
IMPEDANCE_FIELDS = (
    'conductivity_25c_s_cm',
    'activation_energy_ev',
    'interface_growth_rate_ohm_cm2_per_sqrt_h',
    'interface_resistance_last_ohm_cm2',
    'electrolyte_resistance_ohm_cm2',
    'interface_resistance_ohm_cm2',
)


def _with_quality(columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` plus ``eis_fit_quality`` when they show an impedance result (a flagged or rejected fit is
    marked wherever its numbers appear)."""
    if 'eis_fit_quality' in columns or not any(c in IMPEDANCE_FIELDS for c in columns):
        return columns
    return (*columns, 'eis_fit_quality')


def cells(
    *,
    cell_format: str | None = None,
    campaign: str | None = None,
    filters: Sequence[Filter | str] = (),
    columns: Sequence[str] | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
):
    """Cells as a DataFrame, one row per cell.

    :param cell_format: only cells of this format (full, half, symmetric, blocking_pellet, three_electrode).
    :param campaign: only cells of this campaign (group).
    :param filters: :class:`Filter` objects or expressions such as ``'capacity_retention_percent_at_100 >= 80'``,
        ``'stack_pressure_mpa < 1'`` or ``'electrolyte.ball_milling.duration_min >= 45'``.
    :param columns: fields to show (record, analysis or lineage fields); default: the main record fields.
    :param sort: a column to sort by; ``descending`` to reverse; ``limit`` to keep the first rows.
    """

    parsed = [parse_filter(f) if isinstance(f, str) else f for f in filters]
    columns = _with_quality(_columns(columns, DEFAULT_CELL_COLUMNS))
    base = {'attributes.format': cell_format} if cell_format else {}
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
    )
    return _finish(rows, columns, sort or ('sample_id' if 'sample_id' in columns else None), descending, limit)
