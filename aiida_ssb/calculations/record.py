"""``record_*``: the lab steps as process functions, one per step kind. Never cached.

Each takes the consumed materials (any number, as the dynamic namespace ``materials``), a ``parameters``
Dict (the step's validated parameters plus ``inputs``: what was taken of each material) and a
``product`` Dict (the new material's description), and returns the new :class:`MaterialData` as output
``material``. :func:`record_cell_assembly` returns the :class:`CellData` as output ``cell``.

Call them through :func:`record_step` / :func:`assemble_cell`, which validate everything *before* a node
is stored, disable caching and mark the run as an invalid cache source: two identical millings are two
powders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.calculations.common import run_function
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData, active_fraction_of, flatten_composition
from aiida_ssb.data.sample import load_sample
from aiida_ssb.exceptions import InputError
from aiida_ssb.labels import link_label, unlink_label  # re-exported
from aiida_ssb.schemas.cell import CellSpec, material_facts
from aiida_ssb.schemas.literature import LiteratureValue
from aiida_ssb.schemas.material import MaterialSpec
from aiida_ssb.schemas.processes import (
    PROCESS_KINDS,
    InputAmount,
    check_input_fractions,
    composition_inputs,
    normalise_inputs,
)

__all__ = [
    'MATERIAL_FLAGS',
    'RECORD_FUNCTIONS',
    'assemble_cell',
    'composition_from_inputs',
    'link_label',
    'record_amendment',
    'record_ball_milling',
    'record_cell_assembly',
    'record_heat_treatment',
    'record_literature',
    'record_literature_value',
    'record_mixing',
    'record_pressing',
    'record_slurry_casting',
    'record_solution_impregnation',
    'record_solution_synthesis',
    'record_step',
    'unlink_label',
]


def composition_from_inputs(inputs: list[InputAmount]) -> list[dict[str, Any]] | None:
    """The nominal composition of a product from what went in: stated fractions, else masses (wt basis),
    else amounts of substance (mol basis). None when the inputs do not say."""
    inputs = composition_inputs(inputs)
    if not inputs:
        return None
    if all(item.fraction is not None for item in inputs):
        return [{'material': item.material, 'fraction': item.fraction, 'basis': item.basis} for item in inputs]
    for field, basis in (('mass_mg', 'wt'), ('amount_mol', 'mol')):
        values = [getattr(item, field) for item in inputs]
        if all(value is not None for value in values):
            total = math.fsum(values)
            return [
                {'material': item.material, 'fraction': value / total, 'basis': basis}
                for item, value in zip(inputs, values)
            ]
    return None


#: plausibility flags of a material record -> (severity, meaning and threshold)
MATERIAL_FLAGS: dict[str, tuple[str, str]] = {
    'uptake_contradicts_inputs': (
        'warning',
        'an infiltration whose stated uptake (wt% of the dry host) differs from the uptake its input amounts imply '
        '(infiltrant / host) by more than 1 percentage point and 5 % of the stated value',
    ),
}


def _implied_uptake_percent(inputs: list[InputAmount]) -> tuple[float, str] | None:
    """100 x infiltrant / host from the inputs' mass fractions or masses, and which input is the host: the inputs
    with role ``host``, else the first composition input. None when the inputs do not say."""
    members = composition_inputs(inputs)
    if len(members) < 2:
        return None
    hosts = [item for item in members if item.role == 'host'] or members[:1]
    others = [item for item in members if item not in hosts]
    for field in ('fraction', 'mass_mg'):
        values = [getattr(item, field) for item in members]
        if any(value is None for value in values):
            continue
        if field == 'fraction' and any(item.basis != 'wt' for item in members):
            return None
        host = math.fsum(getattr(item, field) for item in hosts)
        if host <= 0:
            return None
        return 100.0 * math.fsum(getattr(item, field) for item in others) / host, ', '.join(h.material for h in hosts)
    return None


def _uptake_flags(stored: Mapping[str, Any], inputs: list[InputAmount]) -> list[dict[str, Any]]:
    stated = stored.get('uptake_wt_percent')
    implied = _implied_uptake_percent(inputs) if stated is not None else None
    if stated is None or implied is None:
        return []
    value, host = implied
    if abs(value - stated) <= max(1.0, 0.05 * stated):
        return []
    return [
        {
            'flag': 'uptake_contradicts_inputs',
            'severity': MATERIAL_FLAGS['uptake_contradicts_inputs'][0],
            'reason': f'stated uptake {stated:g} wt% of the host, but the input amounts give {value:.3g} wt% '
            f'(infiltrant / host {host})',
            'value_percent': value,
            'stated_percent': stated,
        }
    ]


def _lineage_facts(spec: MaterialSpec, stored: Mapping[str, Any], inputs: list[InputAmount], lookup) -> dict[str, Any]:
    """What a product inherits for the cell derivations: the formula of the active material inside (a mixture's,
    from its inputs) and the loading stated for the sheet it is (a casting) or was made from (a host)."""
    derived: dict[str, Any] = {}
    if spec.role != 'active_material':
        found: dict[str, set] = {'active_formula': set(), 'active_theoretical_capacity_mah_g': set()}
        for item in composition_inputs(inputs):
            attributes = lookup.get(item.material, {})
            own = attributes.get('role') == 'active_material'
            formula = attributes.get('formula') if own else attributes.get('active_formula')
            capacity = (
                attributes.get('theoretical_capacity_mah_g')
                if own
                else attributes.get('active_theoretical_capacity_mah_g')
            )
            if formula:
                found['active_formula'].add(formula)
            if capacity:
                found['active_theoretical_capacity_mah_g'].add(capacity)
        for key, values in found.items():
            if len(values) == 1:
                derived[key] = values.pop()
    if stored.get('mass_loading_mg_cm2') is not None:
        derived['stated_loading_mg_cm2'] = stored['mass_loading_mg_cm2']
        derived['stated_loading_basis'] = stored.get('loading_basis')
        derived['stated_loading_source'] = spec.sample_id
    else:
        carriers = [
            lookup[item.material]
            for item in inputs
            if lookup.get(item.material, {}).get('stated_loading_mg_cm2') is not None
            and (item.role == 'host' or len(inputs) == 1 or not any(i.role == 'host' for i in inputs))
        ]
        if len(carriers) == 1:
            for key in ('stated_loading_mg_cm2', 'stated_loading_basis', 'stated_loading_source'):
                derived[key] = carriers[0].get(key)
    return derived


def _make_material(parameters: orm.Dict, product: orm.Dict, materials: Mapping[str, MaterialData]) -> MaterialData:
    stored = parameters.get_dict()
    inputs = [
        InputAmount.model_validate({k: v for k, v in item.items() if k != 'link_label'})
        for item in stored.get('inputs', [])
    ]
    spec = MaterialSpec.model_validate(product.get_dict())
    derived: dict[str, Any] = {}
    nominal = spec.nominal_composition
    components = [c.model_dump(exclude_none=True) for c in nominal] if nominal else composition_from_inputs(inputs)
    lookup = {node.sample_id: node.base.attributes.all for node in materials.values()}
    if components is not None:
        if not nominal:
            derived['nominal_composition'] = components
            derived['composition_source'] = 'inputs'
        flat = flatten_composition(components, lookup)
        if flat is not None:
            derived['composition_flat'] = flat
            fraction = active_fraction_of(flat)
            if fraction is not None:
                derived['active_fraction'] = fraction
    derived.update(_lineage_facts(spec, stored, inputs, lookup))
    flags = _uptake_flags(stored, inputs)
    if flags:
        derived['flags'] = flags
    return MaterialData(spec, derived=derived)


def _body(parameters: orm.Dict, product: orm.Dict, materials: Mapping[str, MaterialData]) -> dict[str, MaterialData]:
    return {'material': _make_material(parameters, product, materials)}


@calcfunction
def record_ball_milling(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Ball milling: the input powders become the milled product."""
    return _body(parameters, product, materials)


@calcfunction
def record_solution_impregnation(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Solution impregnation / infiltration: a host and a dissolved material become the impregnated product."""
    return _body(parameters, product, materials)


@calcfunction
def record_solution_synthesis(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Synthesis or crystallisation from solution."""
    return _body(parameters, product, materials)


@calcfunction
def record_heat_treatment(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Drying, annealing, sintering or calcination of a material."""
    return _body(parameters, product, materials)


@calcfunction
def record_mixing(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Mixing materials into a composite."""
    return _body(parameters, product, materials)


@calcfunction
def record_slurry_casting(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Slurry casting of an electrode sheet."""
    return _body(parameters, product, materials)


@calcfunction
def record_pressing(parameters: orm.Dict, product: orm.Dict, **materials: MaterialData) -> dict:
    """Pressing a powder or a stack into a pellet."""
    return _body(parameters, product, materials)


@calcfunction
def record_cell_assembly(parameters: orm.Dict, **materials: MaterialData) -> dict:
    """Cell assembly: the layer materials become the cell described by ``parameters`` (a cell spec)."""
    spec = CellSpec.model_validate(parameters.get_dict())
    facts = {node.sample_id: material_facts(node.base.attributes.all) for node in materials.values()}
    return {'cell': CellData(spec, materials=facts)}


@calcfunction
def record_amendment(previous: CellData, parameters: orm.Dict, amendment: orm.Dict, **materials: MaterialData) -> dict:
    """A corrected version of a cell record: the cell described by ``parameters`` (the whole corrected cell
    spec) replaces ``previous``; ``amendment`` holds what changed (``changes``: ``path: old -> new``) and why
    (``reason``). The previous version stays in the graph, marked superseded (see :func:`amend_cell`)."""
    spec = CellSpec.model_validate(parameters.get_dict())
    facts = {node.sample_id: material_facts(node.base.attributes.all) for node in materials.values()}
    return {'cell': CellData(spec, materials=facts)}


#: process kind -> record function
RECORD_FUNCTIONS = {
    'ball_milling': record_ball_milling,
    'solution_impregnation': record_solution_impregnation,
    'solution_synthesis': record_solution_synthesis,
    'heat_treatment': record_heat_treatment,
    'mixing': record_mixing,
    'slurry_casting': record_slurry_casting,
    'pressing': record_pressing,
}


def _run_uncached(function: Any, label: str, **inputs: Any) -> tuple[dict[str, Any], orm.ProcessNode]:
    results, node = run_function(function, {'disable_cache': True, 'label': label}, **inputs)
    node.base.caching.is_valid_cache = False
    if not node.is_finished_ok:
        raise RuntimeError(f'{label} failed: {node.exit_message or node.process_state}')
    return results, node


def record_step(
    kind: str,
    inputs: list[InputAmount | Mapping[str, Any] | str],
    product: MaterialSpec | Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    materials: Mapping[str, MaterialData] | None = None,
) -> tuple[MaterialData, orm.ProcessNode]:
    """Record one lab step and return ``(new material node, process node)``.

    :param kind: a key of :data:`~aiida_ssb.schemas.processes.PROCESS_KINDS` (``ball_milling``...).
    :param inputs: the consumed materials: sample ids, or dicts/InputAmount with amounts or fractions.
    :param product: the new material (a MaterialSpec or its dict; ``id``/``sample_id`` and ``role`` required).
    :param parameters: the step's parameters (validated against the kind's schema; any pint unit).
    :param materials: stored input nodes by sample id (looked up by sample id when not given).
    """

    try:
        schema = PROCESS_KINDS[kind]
    except KeyError:
        raise InputError(f'unknown process kind {kind!r}; known: {", ".join(PROCESS_KINDS)}') from None
    params = schema.model_validate(dict(parameters or {}))
    amounts = [
        item
        if isinstance(item, InputAmount)
        else InputAmount.model_validate({'material': item} if isinstance(item, str) else dict(item))
        for item in inputs
    ]
    if not amounts:
        raise InputError(f'a {kind} step needs at least one input material')
    amounts = normalise_inputs(amounts)
    check_input_fractions(amounts)
    spec = product if isinstance(product, MaterialSpec) else MaterialSpec.model_validate(dict(product))
    nodes: dict[str, MaterialData] = {}
    for item in amounts:
        node = (materials or {}).get(item.material) or load_sample(item.material)
        if not isinstance(node, MaterialData):
            raise InputError(f'{item.material!r} is a {node.__class__.__name__}, not a material')
        nodes[link_label(item.material)] = node
    stored = params.stored()
    stored['inputs'] = [dict(item.stored(), link_label=link_label(item.material)) for item in amounts]
    results, process = _run_uncached(
        RECORD_FUNCTIONS[kind],
        f'{kind} -> {spec.sample_id}',
        parameters=orm.Dict(stored),
        product=orm.Dict(spec.stored()),
        **nodes,
    )
    return results['material'], process


def assemble_cell(
    spec: CellSpec | Mapping[str, Any], *, materials: Mapping[str, MaterialData] | None = None
) -> tuple[CellData, orm.ProcessNode]:
    """Record the assembly of a cell from its layer materials and return ``(cell node, process node)``."""

    spec = spec if isinstance(spec, CellSpec) else CellSpec.model_validate(dict(spec))
    nodes: dict[str, MaterialData] = {}
    for sample_id in spec.material_ids():
        node = (materials or {}).get(sample_id) or load_sample(sample_id)
        if not isinstance(node, MaterialData):
            raise InputError(f'layer material {sample_id!r} is a {node.__class__.__name__}, not a material')
        nodes[link_label(sample_id)] = node
    results, process = _run_uncached(
        record_cell_assembly, f'cell_assembly -> {spec.sample_id}', parameters=orm.Dict(spec.stored()), **nodes
    )
    return results['cell'], process


@calcfunction
def record_literature_value(material: MaterialData, parameters: orm.Dict) -> dict:
    """A value reported in the literature about ``material``: stored as a summary (``analysis: literature``)
    that the samples table shows beside the lab's own results."""
    data = parameters.get_dict()
    summary = {
        'analysis': 'literature',
        'literature': True,
        'literature_id': data['id'],
        'sample_id': material.sample_id,
        'electrolyte_sample_id': material.sample_id,
    }
    for key, value in data.items():
        if key in ('id', 'material'):
            continue
        summary['measurement_temperature_c' if key == 'temperature_c' else key] = value
    return {'summary': orm.Dict(summary)}


def record_literature(value, *, material: MaterialData | None = None, default_reference: str | None = None):
    """Record one :class:`~aiida_ssb.schemas.literature.LiteratureValue` (uncached); returns (summary, process)."""

    value = value if isinstance(value, LiteratureValue) else LiteratureValue.model_validate(dict(value))
    node = material or load_sample(value.material)
    if not isinstance(node, MaterialData):
        raise InputError(f'{value.material!r} is a {node.__class__.__name__}, not a material')
    parameters = value.stored()
    if default_reference and 'reference' not in parameters:
        parameters['reference'] = default_reference
    results, process = _run_uncached(
        record_literature_value,
        f'literature {value.id} -> {node.sample_id}',
        material=node,
        parameters=orm.Dict(parameters),
    )
    return results['summary'], process
