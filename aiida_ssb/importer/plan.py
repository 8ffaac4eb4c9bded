"""Manifest -> validated :class:`Plan`: every entry checked, every problem reported with its place.

:func:`plan_import` reads the whole manifest and validates every entry (schemas, units, finite numbers,
references between entries and to the database, fractions, file paths, raw files) and reports *every*
problem at once in a :class:`~aiida_ssb.importer.problems.ManifestError`. Only a valid manifest becomes a
:class:`Plan`. The database is asked a fixed number of batched queries per section whatever its size
(every referenced sample id at once: :func:`aiida_ssb.data.sample.find_samples`), so planning costs
O(manifest size).

Measurement files must resolve, symlinks followed, inside the manifest's folder (as the docs say paths are
relative to the manifest); ``allow_outside=True`` (``aiida-ssb import --allow-outside``) lifts that.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from aiida_ssb.analysis.registry import resolve_section, validate_options
from aiida_ssb.data.campaign import check_campaign_name
from aiida_ssb.data.sample import find_sample_records
from aiida_ssb.exceptions import InputError, SsbError
from aiida_ssb.importer.existing import check_measurement_files, mark_existing, mark_existing_literature
from aiida_ssb.importer.measurements import resolve_measurement_file
from aiida_ssb.importer.problems import Collector, ManifestError, Path, Problem, as_list, sort_key
from aiida_ssb.importer.yamlpos import YamlSyntaxError, load_located
from aiida_ssb.schemas.cell import CellSpec
from aiida_ssb.schemas.common import _check_reference, check_circuit_bounds
from aiida_ssb.schemas.literature import LiteratureValue
from aiida_ssb.schemas.material import MaterialSpec
from aiida_ssb.schemas.measurement import MeasurementEntry
from aiida_ssb.schemas.processes import (
    PROCESS_KIND_ALIASES,
    PROCESS_KINDS,
    InputAmount,
    ProcessParameters,
    check_input_fractions,
    normalise_inputs,
)

__all__ = [
    'PROCESS_KEYS',
    'TOP_LEVEL_KEYS',
    'Plan',
    'Planned',
    'PlannedMeasurement',
    'PlannedProcess',
    'plan_import',
    'resolve_measurement_file',
]

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
    sha256: str | None = None


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


def _normalise_inputs(raw: Any, path: Path, problems: Collector) -> list[tuple[Any, Path]]:
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


def _referenced_ids(data: dict[str, Any]) -> set[str]:
    """Every string that may name a sample in the manifest (defined or referred to), to look them all up at once."""
    ids: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str):
            ids.add(value)

    def entries(section: str) -> list[dict]:
        value = data.get(section)
        return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []

    for entry in entries('materials') + entries('cells'):
        add(entry.get('id', entry.get('sample_id')))
        for layer in entry.get('layers') or [] if isinstance(entry.get('layers'), list) else []:
            if isinstance(layer, dict):
                add(layer.get('material'))
    for entry in entries('processes'):
        output = entry.get('output')
        if isinstance(output, dict):
            add(output.get('id', output.get('sample_id')))
        inputs = entry.get('inputs')
        if isinstance(inputs, dict):
            for key in inputs:
                add(str(key))
        elif isinstance(inputs, list):
            for item in inputs:
                add(item.get('material') if isinstance(item, dict) else item)
    for entry in entries('measurements'):
        add(entry.get('cell'))
        add(entry.get('material'))
    for entry in entries('literature_values'):
        add(entry.get('material'))
    return ids


class _Planner:
    """The state of one planning run: what the manifest defines, the roles known, the database lookups."""

    def __init__(self, located, data: dict[str, Any], base_dir: str, allow_outside: bool):
        self.located, self.data, self.base_dir, self.allow_outside = located, data, base_dir, allow_outside
        self.problems = Collector(located)
        self.defined: dict[str, tuple[str, Path]] = {}  # sample id -> ('material'|'cell', path)
        self.roles: dict[str, str] = {}
        self.existing = find_sample_records(_referenced_ids(data))

    def lookup_db(self, sample_id: str):
        """The stored sample with this id (looked up with all the others at the start), or None."""
        record = self.existing.get(sample_id)
        return record[0] if record else None

    def stored_attributes(self, sample_id: str) -> dict[str, Any]:
        """The attributes of the stored sample with this id (read with the lookup), or an empty dict."""
        record = self.existing.get(sample_id)
        return record[1] if record else {}

    def define(self, sample_id: str, what: str, path: Path) -> bool:
        if sample_id in self.defined:
            first = self.located.where(self.defined[sample_id][1])
            self.problems.add(path, f'duplicate id {sample_id!r} (first defined at {first})')
            return False
        self.defined[sample_id] = (what, path)
        return True

    def section(self, name: str) -> list:
        return as_list(self.data.get(name), (name,), self.problems, name)

    # ---------------------------------------------------------------------------------------------- header
    def header(self) -> tuple[str, str | None, str | None]:
        for key in self.data:
            if key not in TOP_LEVEL_KEYS:
                self.problems.add((key,), f'unknown section; known: {", ".join(TOP_LEVEL_KEYS)}')
        campaign = self.data.get('campaign')
        if campaign is None or (isinstance(campaign, str) and not campaign.strip()):
            self.problems.add(
                ('campaign',), 'campaign: a non-empty name is required (it names the group of everything imported)'
            )
            campaign = ''
        else:
            try:
                campaign = check_campaign_name(campaign)
            except InputError as exc:
                self.problems.add(('campaign',), str(exc))
                campaign = ''
        reference = self.data.get('reference')
        if reference is not None:
            try:
                reference = _check_reference(str(reference))
            except ValueError as exc:
                self.problems.add(('reference',), str(exc))
                reference = None
        description = self.data.get('description')
        if description is not None and not isinstance(description, str):
            self.problems.add(('description',), 'description: must be text')
            description = None
        return campaign, reference, description

    # ---------------------------------------------------------------------------------------------- materials
    def materials(self) -> list[Planned]:
        planned: list[Planned] = []
        for index, raw in enumerate(self.section('materials')):
            path = ('materials', index)
            spec = self.problems.validate(MaterialSpec, raw, path)
            if spec is not None and self.define(spec.sample_id, 'material', path + ('id',)):
                planned.append(Planned(spec, path))
                self.roles[spec.sample_id] = spec.role
            elif (
                spec is None and isinstance(raw, dict) and isinstance(given := raw.get('id', raw.get('sample_id')), str)
            ):
                self.define(given, 'material', path + ('id',))  # known: no cascade
        return planned

    # ---------------------------------------------------------------------------------------------- processes
    def read_processes(self) -> list[tuple[str | None, list[tuple[Any, Path]], Any, dict, Path]]:
        """First pass: read every process and define its output, before any input is checked."""
        parsed = []
        for index, raw in enumerate(self.section('processes')):
            path = ('processes', index)
            if not isinstance(raw, dict):
                self.problems.add(path, 'a process is a mapping with type:, inputs:, output:, parameters:')
                continue
            for key in raw:
                if key not in PROCESS_KEYS:
                    self.problems.add(path + (key,), 'unknown field; known: type, inputs, output, parameters, notes')
            written_kind = raw.get('type', raw.get('kind'))
            kind = self._process_kind(written_kind, path)
            parameters = raw.get('parameters')
            if parameters is None:
                parameters = {}
            elif not isinstance(parameters, dict):
                self.problems.add(path + ('parameters',), 'parameters must be a mapping, e.g. {duration: 45 min}')
                parameters = {}
            parameters = dict(parameters)
            if kind == 'heat_treatment' and written_kind in ('drying', 'annealing', 'sintering', 'calcination'):
                parameters.setdefault('purpose', written_kind)
            if raw.get('notes') is not None:
                parameters.setdefault('notes', raw['notes'])
            inputs = _normalise_inputs(raw.get('inputs'), path + ('inputs',), self.problems)
            if not inputs and 'inputs' in raw:
                self.problems.add(path + ('inputs',), 'a process needs at least one input material')
            elif 'inputs' not in raw:
                self.problems.add(path + ('inputs',), 'inputs: is required (the consumed materials)')
            output = raw.get('output')
            if not isinstance(output, dict):
                self.problems.add(
                    path + ('output',), 'output: is required: the new material, e.g. {id: SE-03, role: electrolyte}'
                )
                output = None
            else:
                sample_id = output.get('sample_id', output.get('id'))
                if isinstance(sample_id, str):
                    self.define(sample_id, 'material', path + ('output', 'id'))
            parsed.append((kind, inputs, output, parameters, path))
        return parsed

    def _process_kind(self, written_kind: Any, path: Path) -> str | None:
        if not isinstance(written_kind, str):
            self.problems.add(path + ('type',), f'type is required; known: {", ".join(PROCESS_KINDS)}')
            return None
        kind = PROCESS_KIND_ALIASES.get(written_kind, written_kind)
        if kind not in PROCESS_KINDS:
            known = ', '.join(list(PROCESS_KINDS) + list(PROCESS_KIND_ALIASES))
            self.problems.add(path + ('type',), f'unknown process type {written_kind!r}; known: {known}')
            return None
        return kind

    def check_material_ref(self, sample_id: str, path: Path) -> bool:
        if sample_id in self.defined:
            if self.defined[sample_id][0] != 'material':
                self.problems.add(path, f'{sample_id!r} is a cell, not a material')
                return False
            return True
        node = self.lookup_db(sample_id)
        if node is None:
            self.problems.add(path, f'unknown material {sample_id!r}: not defined in this manifest nor in the database')
            return False
        if node.__class__.__name__ != 'MaterialData':
            self.problems.add(path, f'{sample_id!r} is a {node.__class__.__name__}, not a material')
            return False
        self.roles[sample_id] = str(self.stored_attributes(sample_id).get('role') or '')
        return True

    def processes(self, parsed) -> list[PlannedProcess]:
        """Second pass: validate inputs (now that every output is known), parameters and outputs."""
        planned: list[PlannedProcess] = []
        for kind, inputs, output, parameters, path in parsed:
            amounts = []
            for raw_input, input_path in inputs:
                amount = self.problems.validate(InputAmount, raw_input, input_path)
                if amount is not None and self.check_material_ref(amount.material, input_path):
                    amounts.append(amount)
            complete = bool(amounts) and len(amounts) == len(inputs)
            if complete:
                try:
                    amounts = normalise_inputs(amounts)
                    check_input_fractions(amounts)
                except ValueError as exc:
                    self.problems.add(path + ('inputs',), str(exc))
            params = self.problems.validate(PROCESS_KINDS[kind], parameters, path + ('parameters',)) if kind else None
            spec = self._process_output(output, amounts, path)
            if kind and params is not None and spec is not None and complete:
                planned.append(PlannedProcess(kind, amounts, spec, params, path))
        return planned

    def _process_output(self, output: dict | None, amounts: list[InputAmount], path: Path) -> MaterialSpec | None:
        if output is None:
            return None
        output = dict(output)
        if 'role' not in output and len(amounts) == 1 and self.roles.get(amounts[0].material):
            output['role'] = self.roles[amounts[0].material]
        spec = self.problems.validate(MaterialSpec, output, path + ('output',))
        if spec is not None:
            self.roles[spec.sample_id] = spec.role
            if any(a.material == spec.sample_id for a in amounts):
                self.problems.add(path + ('output',), f'{spec.sample_id!r} cannot be its own input')
        return spec

    # ---------------------------------------------------------------------------------------------- cells
    def campaign_analysis(self) -> dict[str, dict] | None:
        """The campaign's ``analysis:`` defaults, by analysis name: each section known, a mapping, and valid."""
        analysis = self.data.get('analysis')
        if analysis is None:
            return None
        if not isinstance(analysis, dict):
            self.problems.add(('analysis',), 'analysis: must be a mapping of option sections (eis_fit, cycling, ...)')
            return None
        valid: dict[str, dict] = {}
        for section, values in analysis.items():
            path = ('analysis', section)
            try:
                name = resolve_section(str(section))
            except SsbError as exc:
                self.problems.add(path, str(exc))
                continue
            if not isinstance(values, dict):
                self.problems.add(path, f'analysis.{section} must be a mapping of options, e.g. {{reference: first}}')
                continue
            try:
                check_circuit_bounds({section: values}, where='analysis')
                validate_options({name: values}, where='analysis')
            except (SsbError, ValueError) as exc:
                self.problems.add(
                    path, str(exc).removeprefix(f'analysis.{name}: ').removeprefix(f'analysis.{section}.')
                )
                continue
            valid[name] = dict(values)
        return valid

    def cells(self, campaign_analysis: dict[str, dict] | None) -> list[Planned]:
        planned: list[Planned] = []
        for index, raw in enumerate(self.section('cells')):
            path = ('cells', index)
            if campaign_analysis and isinstance(raw, dict):  # campaign defaults under the cell's own choices
                merged = {section: dict(values) for section, values in campaign_analysis.items()}
                own = raw.get('analysis')
                if isinstance(own, dict):
                    for section, values in own.items():
                        if isinstance(values, dict):
                            merged.setdefault(section, {}).update(values)
                        else:
                            merged[section] = values  # invalid: the schema reports it at the cell
                    raw = dict(raw, analysis=merged)
                elif own is None:
                    raw = dict(raw, analysis=merged)
            spec = self.problems.validate(CellSpec, raw, path)
            if spec is not None and self.define(spec.sample_id, 'cell', path + ('id',)):
                planned.append(Planned(spec, path))
            elif (
                spec is None and isinstance(raw, dict) and isinstance(given := raw.get('id', raw.get('sample_id')), str)
            ):
                self.define(given, 'cell', path + ('id',))
        return planned

    def cell_layers(self, cells: list[Planned]) -> None:
        for planned in cells:
            for index, layer in enumerate(planned.spec.layers):
                self.check_material_ref(layer.material, planned.path + ('layers', index, 'material'))

    # ---------------------------------------------------------------------------------------------- measurements
    def measurements(self) -> list[PlannedMeasurement]:
        planned: list[PlannedMeasurement] = []
        for index, raw in enumerate(self.section('measurements')):
            path = ('measurements', index)
            entry = self.problems.validate(MeasurementEntry, raw, path)
            if entry is None:
                continue
            self._check_target(entry, path)
            try:
                file_path = resolve_measurement_file(entry.file, self.base_dir, allow_outside=self.allow_outside)
            except InputError as exc:
                self.problems.add(path + ('file',), str(exc))
                continue
            planned.append(PlannedMeasurement(entry, path, file_path))
        return planned

    def _check_target(self, entry: MeasurementEntry, path: Path) -> None:
        target = entry.target
        what = 'cell' if entry.cell else 'material'
        if target in self.defined:
            if self.defined[target][0] != what:
                self.problems.add(path + (what,), f'{target!r} is a {self.defined[target][0]}, not a {what}')
            return
        node = self.lookup_db(target)
        expected = 'CellData' if what == 'cell' else 'MaterialData'
        if node is None:
            self.problems.add(
                path + (what,), f'unknown {what} {target!r}: not defined in this manifest nor in the database'
            )
        elif node.__class__.__name__ != expected:
            self.problems.add(path + (what,), f'{target!r} is a {node.__class__.__name__}, not a {what}')

    # ---------------------------------------------------------------------------------------------- literature
    def literature(self) -> list[Planned]:
        planned: list[Planned] = []
        seen: dict[str, Path] = {}
        for index, raw in enumerate(self.section('literature_values')):
            path = ('literature_values', index)
            value = self.problems.validate(LiteratureValue, raw, path)
            if value is None:
                continue
            if value.id in seen:
                first = self.located.where(seen[value.id])
                self.problems.add(path + ('id',), f'duplicate literature value id {value.id!r} (first at {first})')
                continue
            seen[value.id] = path + ('id',)
            self.check_material_ref(value.material, path + ('material',))
            planned.append(Planned(value, path))
        return planned

    # ---------------------------------------------------------------------------------------------- order
    def order(self, processes: list[PlannedProcess], materials: list[Planned]) -> list[PlannedProcess]:
        """The processes in an order in which every input exists before it is used (else a circular dependency)."""
        available = {planned.spec.sample_id for planned in materials}

        def ready(material: str) -> bool:
            return material in available or self.lookup_db(material) is not None

        pending = list(processes)
        ordered: list[PlannedProcess] = []
        while pending:
            waiting = []
            for process in pending:
                if all(ready(a.material) for a in process.inputs):
                    ordered.append(process)
                    available.add(process.output.sample_id)
                else:
                    waiting.append(process)
            if len(waiting) == len(pending):
                for process in waiting:
                    blocked = ', '.join(a.material for a in process.inputs if not ready(a.material))
                    self.problems.add(process.path + ('inputs',), f'circular dependency: waits for {blocked}')
                break
            pending = waiting
        return ordered


def _load(filename: str):
    try:
        located = load_located(filename)
    except YamlSyntaxError as exc:
        where = exc.filename if exc.line is None else f'{exc.filename}:{exc.line}:{exc.column}'
        raise ManifestError([Problem(where, (), exc.reason)]) from None
    if not isinstance(located.data, dict):
        problems = Collector(located)
        problems.add((), 'a manifest is a mapping with campaign:, materials:, processes:, cells:, measurements:')
        raise ManifestError(problems.problems)
    return located


def plan_import(path: str | os.PathLike[str], *, allow_outside: bool = False) -> Plan:
    """Validate a manifest completely and return the plan; raise :class:`ManifestError` listing every problem.

    :param allow_outside: accept measurement files outside the manifest's folder (absolute paths, ``..``,
        symlinks pointing elsewhere)."""
    filename = os.fspath(path)
    located = _load(filename)
    planner = _Planner(located, located.data, os.path.dirname(os.path.abspath(filename)), allow_outside)
    problems = planner.problems
    for dup_path, _ in located.duplicates:
        problems.add(dup_path, 'this key appears twice in the same mapping')
    campaign, reference, description = planner.header()
    materials = planner.materials()
    parsed = planner.read_processes()
    cells = planner.cells(planner.campaign_analysis())  # cells are defined before measurements refer to them
    processes = planner.processes(parsed)
    planner.cell_layers(cells)
    measurements = planner.measurements()
    literature = planner.literature()
    ordered = planner.order(processes, materials)
    plan = Plan(filename, campaign, description, materials, ordered, cells, measurements, literature, reference)
    if not problems.problems:
        mark_existing(plan, planner.lookup_db, problems, planner.stored_attributes)
        mark_existing_literature(plan, problems)
    if not problems.problems:
        check_measurement_files(plan, problems)
    if problems.problems:
        raise ManifestError(sorted(problems.problems, key=sort_key))
    return plan
