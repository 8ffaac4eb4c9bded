"""The fields of the samples and cells tables and the filter expressions on them, without AiiDA.

The catalogues (record fields, analysis fields, default columns) and :func:`parse_filter` live here, apart from
the queries (:mod:`aiida_ssb.query.tables`), so that the command line reads them without importing AiiDA's ORM
(:mod:`aiida_ssb.query.fast`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiida_ssb.exceptions import InputError

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
    'analysis_cell_fields',
    'field_unit',
    'flag_names',
    'parametrised_fields',
    'parse_filter',
    'table_columns',
    'with_quality',
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
    from aiida_ssb.units import UnitError, is_quantity_string, to_unit

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
        unit = field_unit(field)
        if unit is None:
            raise QueryError(f'{field!r} has no unit, so the value {text!r} cannot be converted')
        try:
            return to_unit(text, unit)
        except UnitError as exc:
            raise QueryError(f'wrong unit for {field}: {exc}') from None
    if field_unit(field) is not None:
        raise QueryError(f'{field} is a number ({field_unit(field)}); {text!r} is not a number or a quantity')
    return text


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


#: units of result names whose suffix the record schemas do not use (checked before
#: :func:`aiida_ssb.model.unit_of_field`): regular expression on the name -> unit
_RESULT_UNITS: tuple[tuple[str, str], ...] = (
    (r'^cycles_to_\d+_percent$', ''),  # a number of cycles
    (r'^first_cycle_ce_above_\d+_percent$', ''),  # a cycle number
    (r'_ohm_cm2_per_sqrt_h$', 'ohm*cm^2/h^0.5'),
    (r'_ohm_cm2$', 'ohm*cm^2'),
    (r'_ohm$', 'ohm'),
    (r'_cm2_s$', 'cm^2/s'),
    (r'_w_g$', 'W/g'),
    (r'_j_g$', 'J/g'),
    (r'_wh_kg(_[a-z_]+)?$', 'Wh/kg'),
    (r'_mah_g(_[a-z_]+)?$', 'mAh/g'),
    (r'_mwh$', 'mWh'),
    (r'_percent(_at_(\d+|end|N))?$', 'percent'),
    (r'_angstrom$', 'angstrom'),
    (r'_nm$', 'nm'),
    (r'_temperature_c$', 'degC'),
)


def field_unit(field: str) -> str | None:
    """The unit of a table field from its name (``conductivity_25c_s_cm``: S/cm, ``capacity_retention_percent_at_5``:
    percent, ``interface_resistance_ohm_cm2``: ohm*cm^2), or None for a field without one. Lineage and
    settings fields take the unit of their last part."""
    from aiida_ssb.model import unit_of_field

    name = field.rsplit('.', 1)[-1]
    for pattern, unit in _RESULT_UNITS:
        if re.search(pattern, name):
            return unit or None
    return unit_of_field(name)


def parametrised_fields() -> dict[str, str]:
    """The parametrised analysis fields of the cells table (``capacity_retention_percent_at_N``: one field for
    each cycle N the cycling analysis reported, ``--set cycling.retention_at=[5]`` giving ``..._at_5``), from
    :data:`~aiida_ssb.calculations.summary.HEADLINE_FIELDS`: template -> description."""
    from aiida_ssb.calculations.headline import HEADLINE_FIELDS

    return {name: description for name, description in HEADLINE_FIELDS.items() if name.endswith('_at_N')}


@functools.lru_cache(maxsize=4096)
def _parametrised(name: str) -> str | None:
    """The template of a parametrised field name (``capacity_retention_percent_at_7`` ->
    ``capacity_retention_percent_at_N``), or None."""
    match = re.fullmatch(r'(.+_at_)(\d+)', name)
    if match and match.group(1) + 'N' in parametrised_fields():
        return match.group(1) + 'N'
    return None


def _parametrised_description(name: str) -> str:
    template = _parametrised(name)
    if template is None:
        raise KeyError(f'{name} is not a parametrised field')
    cycle = name.rsplit('_', 1)[-1]
    return parametrised_fields()[template].split(' (')[0].replace('cycle N', f'cycle {cycle}')


#: the headline results a default cells table shows, each where some cell has it (one or two per analysis:
#: cycling, impedance, Arrhenius, voltammetry, CCD, interface growth, issue 21's analyses)
DEFAULT_CELL_RESULTS = (
    'initial_discharge_capacity_mah_g',
    'initial_coulombic_efficiency_percent',
    'capacity_retention_percent_at_end',
    'conductivity_25c_s_cm',
    'activation_energy_ev',
    'electrolyte_resistance_ohm_cm2',
    'interface_resistance_ohm_cm2',
    'interface_growth_rate_ohm_cm2_per_sqrt_h',
    'eis_fit_quality',
    'oxidative_onset_v',
    'soaring_cutoff_v',
    'ccd_ma_cm2',
    'ccd_not_reached_up_to_ma_cm2',
    'dqdv_peak_separation_v',
    'gitt_diffusion_coefficient_cm2_s',
    'electronic_conductivity_s_cm',
    'transference_number',
    'dsc_onset_c',
    'tga_mass_loss_percent',
    'xrd_main_phase',
)

#: the headline results a default samples table shows, each where some material has it
DEFAULT_SAMPLE_RESULTS = (
    'conductivity_25c_s_cm',
    'activation_energy_ev',
    'onset_v',
    'electronic_conductivity_s_cm',
    'transference_number',
    'dsc_onset_c',
    'tga_mass_loss_percent',
    'xrd_main_phase',
)


# ------------------------------------------------------------------------------------------------ the tables
def _default_columns(default: Sequence[str], results: Sequence[str], filters: Sequence[Filter]) -> tuple[str, ...]:
    """The columns of a table shown without ``columns``: the identity and record columns, the fields filtered
    on, and the headline results (kept only where some row has one)."""
    return tuple(dict.fromkeys([*default, *(f.field for f in filters), *results]))


@functools.lru_cache(maxsize=1)
def _analysis_cell_fields_cached() -> tuple[tuple[str, str], ...]:
    from aiida_ssb.analysis.constants import STANDARD_RETENTION_CYCLES
    from aiida_ssb.calculations.headline import HEADLINE_FIELDS

    fields = {}
    for name, description in HEADLINE_FIELDS.items():
        if name.endswith('_at_N'):
            for cycle in STANDARD_RETENTION_CYCLES:
                fields[name[:-1] + str(cycle)] = _parametrised_description(name[:-1] + str(cycle))
        else:
            fields[name] = description
    fields['ccd_not_reached_up_to_ma_cm2'] = 'highest current density of a CCD test without failure'
    fields['conductivity_25c_extrapolated'] = (
        'true when conductivity_25c_s_cm is extrapolated from an Arrhenius regime that does not contain 25 °C'
    )
    return tuple(fields.items())


def analysis_cell_fields() -> dict[str, str]:
    """The analysis fields of the cells table (the query index of a cell): name -> description."""
    return dict(_analysis_cell_fields_cached())


def flag_names(*lists: Any) -> list[str]:
    """The names in lists of flags (dicts with ``flag``, or names), without repeats, in order."""
    names: list[str] = []
    for items in lists:
        for item in items or []:
            name = item.get('flag') if isinstance(item, dict) else item
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


#: boolean fields (SQLite returns JSON booleans as 0/1)
BOOLEAN_FIELDS = ('literature', 'conductivity_25c_extrapolated')


#: impedance headline fields; a table showing one also shows the impedance fits' quality beside them
IMPEDANCE_FIELDS = (
    'conductivity_25c_s_cm',
    'activation_energy_ev',
    'interface_growth_rate_ohm_cm2_per_sqrt_h',
    'interface_resistance_last_ohm_cm2',
    'electrolyte_resistance_ohm_cm2',
    'interface_resistance_ohm_cm2',
)


def with_quality(columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` plus ``eis_fit_quality`` when they show an impedance result (a flagged or rejected fit is
    marked wherever its numbers appear)."""
    if 'eis_fit_quality' in columns or not any(c in IMPEDANCE_FIELDS for c in columns):
        return columns
    return (*columns, 'eis_fit_quality')


def table_columns(columns: Sequence[str] | None, default: Sequence[str]) -> tuple[str, ...]:
    """The columns asked for, each once (a column named twice is shown once), blanks dropped."""
    names = [name.strip() for name in (columns or default) if name.strip()]
    if not names:
        raise QueryError('no columns: give field names separated by commas')
    return tuple(dict.fromkeys(names))
