"""Lab manifest (YAML) -> validated plan -> graph. All-or-nothing and idempotent.

:func:`plan_import` reads the whole manifest, validates every entry (schemas, units, references between
entries and to the database, fractions, files) and reports *every* problem at once, each with its place
in the YAML file, in a :class:`ManifestError`. Only a valid manifest becomes a :class:`Plan`.

:func:`run_import` stores a plan inside one storage transaction: everything or nothing. Entries that
already exist with the same content are skipped (importing twice changes nothing; an extended manifest
adds only its new entries); an entry that exists with *different* content is a problem reported by the
plan, never silently overwritten. Everything imported goes into the group named after the campaign.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from aiida_ssb.exceptions import InputError
from aiida_ssb.importer.yamlpos import Located, YamlSyntaxError, format_path, load_located
from aiida_ssb.schemas.base import bare_name
from aiida_ssb.schemas.cell import CellSpec
from aiida_ssb.schemas.material import MaterialSpec
from aiida_ssb.schemas.measurement import MeasurementEntry, resolve_technique
from aiida_ssb.schemas.processes import (
    PROCESS_KIND_ALIASES,
    PROCESS_KINDS,
    InputAmount,
    ProcessParameters,
    check_input_fractions,
    normalise_inputs,
)

__all__ = ['ImportReport', 'ManifestError', 'Plan', 'Problem', 'import_manifest', 'plan_import', 'run_import']

TOP_LEVEL_KEYS = (
    'campaign',
    'description',
    'reference',
    'analysis',
    'materials',
    'processes',
    'cells',
    'measurements',
    'literature_values',
)
PROCESS_KEYS = ('type', 'kind', 'inputs', 'output', 'parameters', 'notes')

Path = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest, with its place."""

    where: str
    path: Path
    message: str

    def __str__(self) -> str:
        location = format_path(self.path)
        return f'{self.where}: {location}: {self.message}' if location else f'{self.where}: {self.message}'


class ManifestError(InputError):
    """A manifest that cannot be imported; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        header = f'{count} problem{"s" if count != 1 else ""} in the manifest (nothing was stored):'
        super().__init__('\n'.join([header] + [f'  {problem}' for problem in problems]))


@dataclasses.dataclass
class PlannedProcess:
    kind: str
    inputs: list[InputAmount]
    output: MaterialSpec
    parameters: ProcessParameters
    path: Path
    status: str = 'new'


@dataclasses.dataclass
class Planned:
    spec: Any
    path: Path
    status: str = 'new'


@dataclasses.dataclass
class PlannedMeasurement:
    entry: MeasurementEntry
    path: Path
    file: str
    status: str = 'new'


@dataclasses.dataclass
class Plan:
    """A validated manifest, in the order it will be stored."""

    manifest: str
    campaign: str
    description: str | None
    materials: list[Planned]
    processes: list[PlannedProcess]
    cells: list[Planned]
    measurements: list[PlannedMeasurement]
    literature_values: list[Planned] = dataclasses.field(default_factory=list)
    reference: str | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        result = {}
        names = ('materials', 'processes', 'cells', 'measurements') + (
            ('literature_values',) if self.literature_values else ()
        )
        for name in names:
            entries = getattr(self, name)
            result[name] = {
                'new': sum(1 for e in entries if e.status == 'new'),
                'unchanged': sum(1 for e in entries if e.status == 'unchanged'),
            }
        return result

    @property
    def n_new(self) -> int:
        return sum(counts['new'] for counts in self.counts().values())


@dataclasses.dataclass
class ImportReport:
    plan: Plan
    created: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    dry_run: bool = False
    group_label: str | None = None
    #: plausibility flags raised by the stored records ('SAMPLE: flag: reason'); they never stop an import
    warnings: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        lines = []
        verb = 'would create' if self.dry_run else 'created'
        for name, counts in self.plan.counts().items():
            lines.append(f'{name:<13} {verb} {counts["new"]:>4}, unchanged {counts["unchanged"]:>4}')
        return '\n'.join(lines)


# ---------------------------------------------------------------------------------------------- validation
class _Collector:
    def __init__(self, located: Located):
        self.located = located
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self._where(path), tuple(path), message))

    def _where(self, path: Path) -> str:
        path = tuple(path)
        if path in self.located.positions:
            return self.located.where(path)
        if path and isinstance(path[-1], str) and path[:-1] + (bare_name(path[-1]),) in self.located.positions:
            return self.located.where(path[:-1] + (bare_name(path[-1]),))
        if (
            path
            and isinstance(path[-1], str)
            and path[-1] == 'sample_id'
            and path[:-1] + ('id',) in self.located.positions
        ):
            return self.located.where(path[:-1] + ('id',))
        for index, part in enumerate(path):  # shorthands: fabrication_pressure stands for fabrication[0]
            if part == 'fabrication' and path[:index] + ('fabrication_pressure',) in self.located.positions:
                return self.located.where(path[:index] + ('fabrication_pressure',))
        return self.located.where(path)

    def validate(self, model: type[BaseModel], data: Any, path: Path) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error['loc'])
                # pydantic puts union/model-level errors at the parent; keep the useful part of the message
                message = error['msg'].removeprefix('Value error, ')
                if error['type'] == 'extra_forbidden':
                    known = ', '.join(sorted(_written_names(model)))
                    message = f'unknown field; known fields: {known}'
                elif error['type'] == 'missing':
                    message = 'required field is missing'
                elif error['type'] == 'literal_error':
                    message = f'{message} (got {error.get("input")!r})'
                self.add(path + _user_loc(loc), message)
            return None


def _user_loc(loc: tuple) -> tuple:
    """Drop pydantic's internal union/validator markers from an error location."""
    return tuple(part for part in loc if not (isinstance(part, str) and ('[' in part or part.startswith('function-'))))


def _written_names(model: type[BaseModel]) -> set[str]:
    """The names a manifest may use: ``diameter [mm]`` for quantities, aliases such as ``id``."""
    from aiida_ssb.schemas.base import unit_of_field

    names = set()
    for name, info in model.model_fields.items():
        unit = unit_of_field(name)
        names.add(f'{bare_name(name)} [{unit}]' if unit else name)
        if info.validation_alias is not None and hasattr(info.validation_alias, 'choices'):
            names.update(str(choice) for choice in info.validation_alias.choices if choice != name)
    return names


def _as_list(value: Any, path: Path, problems: _Collector, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, f'{what} must be a list')
        return []
    return value


def _normalise_inputs(raw: Any, path: Path, problems: _Collector) -> list[tuple[Any, Path]]:
    """``[A, B]``, ``[{material: A, mass: ..}]`` or ``{A: {amount: 2 mol}, B: {}}`` -> [(dict, path)]."""
    items: list[tuple[Any, Path]] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            if value is None:
                value = {}
            if not isinstance(value, dict):
                problems.add(path + (key,), 'give the amount as a mapping, e.g. {amount: 2 mol} or {fraction: 70 wt%}')
                continue
            if 'material' in value:
                problems.add(path + (key, 'material'), 'the material is the key of this entry; remove material:')
                continue
            items.append(({'material': str(key), **value}, path + (key,)))
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            if isinstance(value, str):
                items.append(({'material': value}, path + (index,)))
            elif isinstance(value, dict):
                items.append((value, path + (index,)))
            else:
                problems.add(path + (index,), 'an input is a sample id or a mapping with material:')
    else:
        problems.add(path, 'inputs must be a list of sample ids or a mapping sample id -> amount')
    return items


def _float_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_float_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_float_equal(x, y) for x, y in zip(a, b))
    return a == b


def _differences(stored: dict[str, Any], wanted: dict[str, Any], fields: Iterable[str]) -> list[str]:
    changes = []
    for name in fields:
        old, new = stored.get(name), wanted.get(name)
        if not _float_equal(old, new):
            changes.append(f'{name}: {old!r} -> {new!r}')
    return changes


def plan_import(path: str | os.PathLike) -> Plan:
    """Validate a manifest completely and return the plan; raise :class:`ManifestError` listing every problem."""
    from aiida_ssb.data.sample import find_sample

    filename = os.fspath(path)
    try:
        located = load_located(filename)
    except YamlSyntaxError as exc:
        raise ManifestError(
            [Problem(exc.filename if exc.line is None else f'{exc.filename}:{exc.line}:{exc.column}', (), exc.reason)]
        ) from None
    problems = _Collector(located)
    for dup_path, _ in located.duplicates:
        problems.add(dup_path, 'this key appears twice in the same mapping')
    data = located.data
    if not isinstance(data, dict):
        problems.add((), 'a manifest is a mapping with campaign:, materials:, processes:, cells:, measurements:')
        raise ManifestError(problems.problems)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.add((key,), f'unknown section; known: {", ".join(TOP_LEVEL_KEYS)}')
    campaign = data.get('campaign')
    if not isinstance(campaign, str) or not campaign.strip():
        problems.add(
            ('campaign',), 'campaign: a non-empty name is required (it names the group of everything imported)'
        )
        campaign = ''
    base_dir = os.path.dirname(os.path.abspath(filename))

    defined: dict[str, tuple[str, Path]] = {}  # sample id -> ('material'|'cell', path)
    roles: dict[str, str] = {}
    existing: dict[str, Any] = {}

    def lookup_db(sample_id: str):
        if sample_id not in existing:
            existing[sample_id] = find_sample(sample_id)
        return existing[sample_id]

    def define(sample_id: str, what: str, path: Path) -> bool:
        if sample_id in defined:
            first = located.where(defined[sample_id][1])
            problems.add(path, f'duplicate id {sample_id!r} (first defined at {first})')
            return False
        defined[sample_id] = (what, path)
        return True

    # materials
    materials: list[Planned] = []
    for index, raw in enumerate(_as_list(data.get('materials'), ('materials',), problems, 'materials')):
        path = ('materials', index)
        spec = problems.validate(MaterialSpec, raw, path)
        if spec is not None and define(spec.sample_id, 'material', path + ('id',)):
            materials.append(Planned(spec, path))
            roles[spec.sample_id] = spec.role
        elif spec is None and isinstance(raw, dict) and isinstance(raw.get('id', raw.get('sample_id')), str):
            define(raw.get('id', raw.get('sample_id')), 'material', path + ('id',))  # invalid, but known: no cascade

    # processes: first pass reads them, outputs are defined before inputs are checked
    raw_processes = _as_list(data.get('processes'), ('processes',), problems, 'processes')
    parsed: list[tuple[str | None, list[tuple[Any, Path]], Any, Any, Path]] = []
    for index, raw in enumerate(raw_processes):
        path = ('processes', index)
        if not isinstance(raw, dict):
            problems.add(path, 'a process is a mapping with type:, inputs:, output:, parameters:')
            continue
        for key in raw:
            if key not in PROCESS_KEYS:
                problems.add(path + (key,), 'unknown field; known: type, inputs, output, parameters, notes')
        written_kind = raw.get('type', raw.get('kind'))
        kind = None
        if not isinstance(written_kind, str):
            problems.add(path + ('type',), f'type is required; known: {", ".join(PROCESS_KINDS)}')
        else:
            kind = PROCESS_KIND_ALIASES.get(written_kind, written_kind)
            if kind not in PROCESS_KINDS:
                known = ', '.join(list(PROCESS_KINDS) + list(PROCESS_KIND_ALIASES))
                problems.add(path + ('type',), f'unknown process type {written_kind!r}; known: {known}')
                kind = None
        parameters = dict(raw.get('parameters') or {})
        if not isinstance(raw.get('parameters', {}) or {}, dict):
            problems.add(path + ('parameters',), 'parameters must be a mapping')
            parameters = {}
        if kind == 'heat_treatment' and written_kind in ('drying', 'annealing', 'sintering', 'calcination'):
            parameters.setdefault('purpose', written_kind)
        if raw.get('notes') is not None:
            parameters.setdefault('notes', raw['notes'])
        inputs = _normalise_inputs(raw.get('inputs'), path + ('inputs',), problems)
        if not inputs and 'inputs' in raw:
            problems.add(path + ('inputs',), 'a process needs at least one input material')
        elif 'inputs' not in raw:
            problems.add(path + ('inputs',), 'inputs: is required (the consumed materials)')
        output = raw.get('output')
        if not isinstance(output, dict):
            problems.add(
                path + ('output',), 'output: is required: the new material, e.g. {id: SE-03, role: electrolyte}'
            )
            output = None
        else:
            sample_id = output.get('sample_id', output.get('id'))
            if isinstance(sample_id, str):
                define(sample_id, 'material', path + ('output', 'id'))
        parsed.append((kind, inputs, output, parameters, path))

    # cells are defined before anything refers to them (measurements)
    campaign_analysis = data.get('analysis')
    if campaign_analysis is not None and not isinstance(campaign_analysis, dict):
        problems.add(('analysis',), 'analysis: must be a mapping of option sections (eis, arrhenius, cycling...)')
        campaign_analysis = None
    cells: list[Planned] = []
    for index, raw in enumerate(_as_list(data.get('cells'), ('cells',), problems, 'cells')):
        path = ('cells', index)
        if campaign_analysis and isinstance(raw, dict):  # campaign defaults under the cell's own choices
            merged = {
                section: dict(values) for section, values in campaign_analysis.items() if isinstance(values, dict)
            }
            for section, values in (raw.get('analysis') or {}).items():
                merged.setdefault(section, {}).update(values if isinstance(values, dict) else {})
            raw = dict(raw, analysis=merged)
        spec = problems.validate(CellSpec, raw, path)
        if spec is not None and define(spec.sample_id, 'cell', path + ('id',)):
            cells.append(Planned(spec, path))
        elif spec is None and isinstance(raw, dict) and isinstance(raw.get('id', raw.get('sample_id')), str):
            define(raw.get('id', raw.get('sample_id')), 'cell', path + ('id',))

    def check_material_ref(sample_id: str, path: Path) -> bool:
        if sample_id in defined:
            if defined[sample_id][0] != 'material':
                problems.add(path, f'{sample_id!r} is a cell, not a material')
                return False
            return True
        node = lookup_db(sample_id)
        if node is None:
            problems.add(path, f'unknown material {sample_id!r}: not defined in this manifest nor in the database')
            return False
        if node.__class__.__name__ != 'MaterialData':
            problems.add(path, f'{sample_id!r} is a {node.__class__.__name__}, not a material')
            return False
        roles[sample_id] = node.base.attributes.get('role', None)
        return True

    processes: list[PlannedProcess] = []
    for kind, inputs, output, parameters, path in parsed:
        amounts = []
        for raw_input, input_path in inputs:
            amount = problems.validate(InputAmount, raw_input, input_path)
            if amount is not None and check_material_ref(amount.material, input_path):
                amounts.append(amount)
        if len(amounts) == len(inputs) and amounts:
            try:
                amounts = normalise_inputs(amounts)
                check_input_fractions(amounts)
            except ValueError as exc:
                problems.add(path + ('inputs',), str(exc))
        params = problems.validate(PROCESS_KINDS[kind], parameters, path + ('parameters',)) if kind else None
        spec = None
        if output is not None:
            output = dict(output)
            if 'role' not in output and len(amounts) == 1 and roles.get(amounts[0].material):
                output['role'] = roles[amounts[0].material]
            spec = problems.validate(MaterialSpec, output, path + ('output',))
            if spec is not None:
                roles[spec.sample_id] = spec.role
                if any(a.material == spec.sample_id for a in amounts):
                    problems.add(path + ('output',), f'{spec.sample_id!r} cannot be its own input')
        if kind and params is not None and spec is not None and len(amounts) == len(inputs) and amounts:
            processes.append(PlannedProcess(kind, amounts, spec, params, path))

    for planned in cells:
        for index, layer in enumerate(planned.spec.layers):
            check_material_ref(layer.material, planned.path + ('layers', index, 'material'))

    # measurements
    measurements: list[PlannedMeasurement] = []
    for index, raw in enumerate(_as_list(data.get('measurements'), ('measurements',), problems, 'measurements')):
        path = ('measurements', index)
        entry = problems.validate(MeasurementEntry, raw, path)
        if entry is None:
            continue
        target = entry.cell or entry.material
        what = 'cell' if entry.cell else 'material'
        if target in defined:
            if defined[target][0] != what:
                problems.add(path + (what,), f'{target!r} is a {defined[target][0]}, not a {what}')
        else:
            node = lookup_db(target)
            expected = 'CellData' if what == 'cell' else 'MaterialData'
            if node is None:
                problems.add(
                    path + (what,), f'unknown {what} {target!r}: not defined in this manifest nor in the database'
                )
            elif node.__class__.__name__ != expected:
                problems.add(path + (what,), f'{target!r} is a {node.__class__.__name__}, not a {what}')
        file_path = entry.file if os.path.isabs(entry.file) else os.path.join(base_dir, entry.file)
        if not os.path.isfile(file_path):
            problems.add(path + ('file',), f'file not found: {file_path}')
        measurements.append(PlannedMeasurement(entry, path, file_path))

    # literature values
    from aiida_ssb.schemas.common import _check_reference
    from aiida_ssb.schemas.literature import LiteratureValue

    reference = data.get('reference')
    if reference is not None:
        try:
            reference = _check_reference(str(reference))
        except ValueError as exc:
            problems.add(('reference',), str(exc))
            reference = None
    literature: list[Planned] = []
    seen_literature: dict[str, Path] = {}
    for index, raw in enumerate(
        _as_list(data.get('literature_values'), ('literature_values',), problems, 'literature_values')
    ):
        path = ('literature_values', index)
        value = problems.validate(LiteratureValue, raw, path)
        if value is None:
            continue
        if value.id in seen_literature:
            problems.add(
                path + ('id',),
                f'duplicate literature value id {value.id!r} (first at {located.where(seen_literature[value.id])})',
            )
            continue
        seen_literature[value.id] = path + ('id',)
        check_material_ref(value.material, path + ('material',))
        literature.append(Planned(value, path))

    # order processes so that every input exists before it is used
    ordered = _order_processes(processes, {p.spec.sample_id for p in materials}, lookup_db, problems)

    plan = Plan(
        filename,
        campaign.strip(),
        data.get('description'),
        materials,
        ordered,
        cells,
        measurements,
        literature,
        reference,
    )
    if not problems.problems:
        _mark_existing(plan, lookup_db, problems)
        _mark_existing_literature(plan, problems)
    if not problems.problems:
        _check_measurement_files(plan, problems)
    if problems.problems:
        raise ManifestError(sorted(problems.problems, key=_sort_key))
    return plan


def _sort_key(problem: Problem) -> tuple[int, int]:
    """Problems in file order (the line and column of their ``where``)."""
    parts = problem.where.rsplit(':', 2)
    try:
        return int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        return 0, 0


def _order_processes(
    processes: list[PlannedProcess], materials: set[str], lookup_db, problems: _Collector
) -> list[PlannedProcess]:
    available = set(materials)
    pending = list(processes)
    ordered: list[PlannedProcess] = []
    while pending:
        progressed = False
        for process in list(pending):
            if all(a.material in available or lookup_db(a.material) is not None for a in process.inputs):
                ordered.append(process)
                available.add(process.output.sample_id)
                pending.remove(process)
                progressed = True
        if not progressed:
            for process in pending:
                waiting = [
                    a.material for a in process.inputs if a.material not in available and lookup_db(a.material) is None
                ]
                problems.add(process.path + ('inputs',), f'circular dependency: waits for {", ".join(waiting)}')
            break
    return ordered


def _mark_existing(plan: Plan, lookup_db, problems: _Collector) -> None:
    """Entries already in the database with the same content are 'unchanged'; with other content, a problem."""
    for planned in plan.materials:
        node = lookup_db(planned.spec.sample_id)
        if node is None:
            continue
        if node.__class__.__name__ != 'MaterialData':
            problems.add(planned.path, f'{planned.spec.sample_id!r} exists as a {node.__class__.__name__}')
            continue
        wanted = planned.spec.stored()
        stored = node.base.attributes.all
        changes = _differences(stored, wanted, [f for f in MaterialSpec.model_fields if f in wanted or f in stored])
        if changes:
            problems.add(
                planned.path, f'{planned.spec.sample_id!r} already exists with different values: ' + '; '.join(changes)
            )
        else:
            planned.status = 'unchanged'
    for process in plan.processes:
        node = lookup_db(process.output.sample_id)
        if node is None:
            continue
        creator = node.creator
        sample_id = process.output.sample_id
        if creator is None or not (creator.process_type or '').endswith(f'ssb.record.{process.kind}'):
            problems.add(process.path, f'{sample_id!r} exists but was not made by a {process.kind} step')
            continue
        stored_params = creator.inputs.parameters.get_dict()
        wanted_params = process.parameters.stored()
        wanted_params['inputs'] = [
            dict(item.stored(), link_label=stored_item.get('link_label'))
            for item, stored_item in zip(process.inputs, stored_params.get('inputs', []))
        ]
        changes = _differences(stored_params, wanted_params, sorted(set(stored_params) | set(wanted_params)))
        wanted_product = process.output.stored()
        stored_product = creator.inputs.product.get_dict()
        changes += _differences(stored_product, wanted_product, sorted(set(stored_product) | set(wanted_product)))
        if changes:
            problems.add(
                process.path, f'{sample_id!r} already exists with a different {process.kind}: ' + '; '.join(changes)
            )
        else:
            process.status = 'unchanged'
    for planned in plan.cells:
        node = lookup_db(planned.spec.sample_id)
        if node is None:
            continue
        creator = node.creator
        if creator is None or 'parameters' not in creator.inputs:
            problems.add(planned.path, f'{planned.spec.sample_id!r} exists but was not recorded by a cell assembly')
            continue
        stored = creator.inputs.parameters.get_dict()
        wanted = planned.spec.stored()
        changes = _differences(stored, wanted, sorted(set(stored) | set(wanted)))
        if changes:
            problems.add(
                planned.path, f'{planned.spec.sample_id!r} already exists with different values: ' + '; '.join(changes)
            )
        else:
            planned.status = 'unchanged'


def _literature_parameters(plan: Plan, value) -> dict[str, Any]:
    parameters = value.stored()
    if plan.reference and 'reference' not in parameters:
        parameters['reference'] = plan.reference
    return parameters


def _mark_existing_literature(plan: Plan, problems: _Collector) -> None:
    from aiida import orm

    for planned in plan.literature_values:
        query = orm.QueryBuilder().append(
            orm.Dict,
            filters={'attributes.analysis': 'literature', 'attributes.literature_id': planned.spec.id},
            project='*',
        )
        found = query.all(flat=True)
        if not found:
            continue
        process = found[0].creator
        stored = process.inputs.parameters.get_dict()
        wanted = _literature_parameters(plan, planned.spec)
        changes = _differences(stored, wanted, sorted(set(stored) | set(wanted)))
        if changes:
            problems.add(
                planned.path,
                f'literature value {planned.spec.id!r} already exists with other content: ' + '; '.join(changes),
            )
        else:
            planned.status = 'unchanged'


def _check_measurement_files(plan: Plan, problems: _Collector) -> None:
    """Read every new measurement file now, so a bad file stops the import before anything is stored."""
    from aiida_ssb.importer.measurements import check_measurement

    for planned in plan.measurements:
        try:
            status = check_measurement(planned.entry, planned.file)
        except ValueError as exc:
            problems.add(planned.path + ('file',), str(exc))
            continue
        planned.status = status


# ---------------------------------------------------------------------------------------------- execution
def run_import(plan: Plan, *, progress: Callable[[str], None] | None = None) -> ImportReport:
    """Store a validated plan in one transaction and put everything in the campaign group."""
    from aiida import orm
    from aiida.manage import get_manager

    from aiida_ssb.calculations.record import assemble_cell, record_literature, record_step
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.sample import find_sample
    from aiida_ssb.importer.measurements import store_measurement

    report = ImportReport(plan, group_label=plan.campaign)
    tick = progress or (lambda message: None)
    backend = get_manager().get_profile_storage()
    with backend.transaction():
        group, _ = orm.Group.collection.get_or_create(label=plan.campaign)
        if plan.description and not group.description:
            group.description = str(plan.description)
        nodes: list[orm.Node] = []
        known: dict[str, MaterialData] = {}
        for planned in plan.materials:
            if planned.status == 'new':
                node = MaterialData(planned.spec).store()
                nodes.append(node)
                report.created.setdefault('materials', []).append(planned.spec.sample_id)
                tick(f'material {planned.spec.sample_id}')
            else:
                node = find_sample(planned.spec.sample_id)
            known[planned.spec.sample_id] = node
        for process in plan.processes:
            if process.status != 'new':
                continue
            material, process_node = record_step(
                process.kind, process.inputs, process.output, process.parameters.stored(), materials=known
            )
            known[material.sample_id] = material
            report.warnings.extend(_flag_warnings(material))
            nodes.extend([material, process_node])
            report.created.setdefault('processes', []).append(f'{process.kind} -> {material.sample_id}')
            tick(f'{process.kind} -> {material.sample_id}')
        for planned in plan.cells:
            if planned.status != 'new':
                continue
            cell, process_node = assemble_cell(planned.spec, materials=known)
            report.warnings.extend(_flag_warnings(cell))
            nodes.extend([cell, process_node])
            report.created.setdefault('cells', []).append(cell.sample_id)
            tick(f'cell {cell.sample_id}')
        for planned in plan.literature_values:
            if planned.status != 'new':
                continue
            summary, process_node = record_literature(
                planned.spec, material=known.get(planned.spec.material), default_reference=plan.reference
            )
            nodes.extend([summary, process_node])
            report.created.setdefault('literature_values', []).append(planned.spec.id)
            tick(f'literature {planned.spec.id}')
        for planned in plan.measurements:
            if planned.status != 'new':
                continue
            created = store_measurement(planned.entry, planned.file)
            nodes.extend(created)
            report.created.setdefault('measurements', []).append(os.path.basename(planned.file))
            tick(f'measurement {os.path.basename(planned.file)}')
        if nodes:
            group.add_nodes(nodes)
    if plan.literature_values:
        from aiida import orm as _orm

        from aiida_ssb.data.index import index_materials

        summaries = [node for node in nodes if isinstance(node, _orm.Dict) and node.get('analysis') == 'literature']
        index_materials(summaries)
    return report


def _flag_warnings(node) -> list[str]:
    """The plausibility flags a stored record carries, one line each (see the page "How aiida-ssb counts")."""
    sample_id = node.base.attributes.get('sample_id', None)
    return [
        f'{sample_id}: {item.get("flag")}: {item.get("reason", "")}'
        for item in node.base.attributes.get('flags', None) or []
    ]


def import_manifest(
    path: str | os.PathLike, *, dry_run: bool = False, progress=None, attempts: int = 5
) -> ImportReport:
    """Validate and (unless ``dry_run``) store a manifest. Raises :class:`ManifestError`.

    When another importer stores some of the same samples at the same time, this import's transaction fails
    as a whole (the sample-id registry is a database constraint); it is then planned again, against what
    is now stored, and retried: the result is one copy of everything, whoever came first."""
    plan = plan_import(path)
    if dry_run:
        return ImportReport(plan, dry_run=True, group_label=plan.campaign)
    for attempt in range(1, attempts + 1):
        try:
            return run_import(plan, progress=progress)
        except Exception as exc:
            if attempt == attempts or not _is_concurrency_conflict(exc):
                raise
            import random
            import time

            time.sleep(0.2 * attempt + random.random() * 0.3)
            _reset_session()
            plan = plan_import(path)
            if plan.n_new == 0:
                return ImportReport(plan, group_label=plan.campaign)
    raise AssertionError('unreachable')


def _is_concurrency_conflict(exc: BaseException) -> bool:
    """A failure caused by a concurrent writer: a sample id stored meanwhile, a unique constraint, a locked
    SQLite database, a serialisation failure."""
    from aiida_ssb.data.sample import DuplicateSampleError

    seen = exc
    while seen is not None:
        if isinstance(seen, DuplicateSampleError):
            return True
        text = f'{type(seen).__name__}: {seen}'.lower()
        if any(
            word in text
            for word in (
                'integrityerror',
                'unique constraint',
                'duplicate key',
                'database is locked',
                'could not serialize',
                'deadlock',
            )
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reset_session() -> None:
    """Drop the failed transaction's state from the storage session before planning again."""
    from aiida.manage import get_manager

    backend = get_manager().get_profile_storage()
    session = getattr(backend, 'get_session', None)
    if session is not None:
        try:
            session().rollback()
        except Exception:  # nothing to roll back
            pass


def resolve_expected(entry: MeasurementEntry) -> tuple[str | None, str | None]:
    return resolve_technique(entry.technique)
