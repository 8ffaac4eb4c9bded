"""What of a plan is already stored: unchanged entries are skipped, changed ones are problems.

Every lookup is batched (all the plan's samples, their creating steps, all its raw-file checksums at once), so
comparing a plan with the database costs O(plan size / 500) queries, whatever the size of the database.

Raw files: a measurement whose file content (SHA-256) is already stored for the same sample is 'unchanged';
for another sample it is a problem; two entries of one manifest with the same file content are a problem
(a raw file is stored once). Every new file is read now, so a bad file stops the import before anything is
stored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import Any

from aiida import orm

from aiida_ssb.calculations.parse import read_file, sha256_of
from aiida_ssb.data.nodes import pk_of
from aiida_ssb.data.rawfile import chunked, find_raw_files
from aiida_ssb.importer.measurements import measurement_options
from aiida_ssb.importer.problems import Collector
from aiida_ssb.parsers.base import ParseError
from aiida_ssb.schemas.material import MaterialSpec

__all__ = [
    'check_measurement_files',
    'creators_of',
    'differences',
    'float_equal',
    'literature_parameters',
    'mark_existing',
    'mark_existing_literature',
    'owners_of',
]


def float_equal(a: Any, b: Any) -> bool:
    """Equality of stored values, floats to 1e-9 relative."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(float_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(float_equal(x, y) for x, y in zip(a, b))
    return a == b


def differences(stored: dict[str, Any], wanted: dict[str, Any], fields: Iterable[str]) -> list[str]:
    """``path: old -> new`` for every value that differs between the stored and the wanted record, down to the
    changed item (``layers[1].mass_mg: 9.75 -> 9.5``); an absent value shows as ``(absent)``."""
    changes: list[str] = []
    for name in fields:
        _diff(name, stored.get(name, _ABSENT), wanted.get(name, _ABSENT), changes)
    return changes


class _Absent:
    def __repr__(self) -> str:
        return '(absent)'


_ABSENT = _Absent()


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _diff(path: str, old: Any, new: Any, changes: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            _diff(f'{path}.{key}', old.get(key, _ABSENT), new.get(key, _ABSENT), changes)
        return
    if isinstance(old, list) and isinstance(new, list) and (len(old) == len(new) or _all_dicts(old, new)):
        for index in range(max(len(old), len(new))):
            _diff(
                f'{path}[{index}]',
                old[index] if index < len(old) else _ABSENT,
                new[index] if index < len(new) else _ABSENT,
                changes,
            )
        return
    if (old is _ABSENT and new is None) or (new is _ABSENT and old is None):
        return
    if not float_equal(old, new):
        changes.append(f'{path}: {_shown(old)} -> {_shown(new)}')


def _all_dicts(*lists: list) -> bool:
    return all(isinstance(item, dict) for items in lists for item in items)


def creators_of(nodes: Iterable[orm.Node]) -> dict[int, dict[str, Any]]:
    """``{node pk: {'process_type': ..., 'parameters': dict, 'product': dict}}`` of the processes that created
    the nodes (only those created by a process), in O(n / 500) queries."""
    pks = [node.pk for node in nodes]
    result: dict[int, dict[str, Any]] = {}
    for part in chunked(pks):
        query = orm.QueryBuilder().append(orm.Node, filters={'id': {'in': part}}, tag='node', project='id')
        query.append(
            orm.CalcFunctionNode,
            with_outgoing='node',
            edge_filters={'type': 'create'},
            tag='creator',
            project=['id', 'process_type'],
        )
        for pk, creator_pk, process_type in query.iterall():
            result[pk] = {'pk': creator_pk, 'process_type': process_type or ''}
        query = orm.QueryBuilder().append(orm.Node, filters={'id': {'in': part}}, tag='node', project='id')
        query.append(orm.CalcFunctionNode, with_outgoing='node', edge_filters={'type': 'create'}, tag='creator')
        query.append(
            orm.Dict,
            with_outgoing='creator',
            edge_filters={'label': {'in': ['parameters', 'product']}},
            edge_tag='link',
            edge_project='label',
            tag='dict',
            project='attributes',
        )
        for row in query.iterdict():
            result.setdefault(row['node']['id'], {})[row['link']['label']] = row['dict']['attributes']
    return result


def mark_existing(
    plan,
    lookup_db: Callable[[str], Any],
    problems: Collector,
    attributes_of: Callable[[str], dict[str, Any]] | None = None,
) -> None:
    """Entries already in the database with the same content are 'unchanged'; with other content, a problem.
    ``attributes_of(sample_id)`` gives a stored sample's attributes (read from the node when not given)."""
    for planned in plan.materials:
        node = lookup_db(planned.spec.sample_id)
        if node is None:
            continue
        if node.__class__.__name__ != 'MaterialData':
            problems.add(planned.path, f'{planned.spec.sample_id!r} exists as a {node.__class__.__name__}')
            continue
        wanted = planned.spec.stored()
        stored = attributes_of(planned.spec.sample_id) if attributes_of else node.base.attributes.all
        changes = differences(stored, wanted, [f for f in MaterialSpec.model_fields if f in wanted or f in stored])
        if changes:
            problems.add(
                planned.path, f'{planned.spec.sample_id!r} already exists with different values: ' + '; '.join(changes)
            )
        else:
            planned.status = 'unchanged'
    made = [lookup_db(p.output.sample_id) for p in plan.processes] + [lookup_db(c.spec.sample_id) for c in plan.cells]
    creators = creators_of(node for node in made if node is not None)
    for process in plan.processes:
        node = lookup_db(process.output.sample_id)
        if node is not None:
            _compare_process(process, creators.get(node.pk, {}), problems)
    for planned in plan.cells:
        node = lookup_db(planned.spec.sample_id)
        if node is None:
            continue
        creator = creators.get(node.pk, {})
        if 'parameters' not in creator:
            problems.add(planned.path, f'{planned.spec.sample_id!r} exists but was not recorded by a cell assembly')
            continue
        stored, wanted = creator['parameters'], planned.spec.stored()
        changes = differences(stored, wanted, sorted(set(stored) | set(wanted)))
        if changes:
            sample_id = planned.spec.sample_id
            problems.add(
                planned.path,
                f'{sample_id!r} already exists with different values: ' + '; '.join(changes) + '. A stored record '
                'is not replaced by an import: if the manifest is right, correct the record with `aiida-ssb amend '
                f'{sample_id} {_amend_arguments(changes)} --reason TEXT` (the old version is kept); if the record is '
                'right, correct the manifest',
            )
        else:
            planned.status = 'unchanged'


def _amend_arguments(changes: list[str]) -> str:
    """``--set layers[1].mass_mg=9.5`` for each ``path: old -> new`` change (``--set FIELD=VALUE`` where a new
    value is not a plain word or number)."""
    arguments = []
    for change in changes:
        path, _, values = change.partition(': ')
        new = values.rpartition(' -> ')[2]
        if new == '(absent)':
            new = ''
        if any(char in new for char in ' {}[],\'"'):
            return '--set FIELD=VALUE'
        arguments.append(f'--set {path}={new}')
    return ' '.join(arguments)


def _compare_process(process, creator: dict[str, Any], problems: Collector) -> None:
    sample_id = process.output.sample_id
    if not creator.get('process_type', '').endswith(f'ssb.record.{process.kind}') or 'parameters' not in creator:
        problems.add(process.path, f'{sample_id!r} exists but was not made by a {process.kind} step')
        return
    stored_params = creator['parameters']
    wanted_params = process.parameters.stored()
    wanted_params['inputs'] = [  # the stored link labels (older graphs used other ones)
        dict(item.stored(), link_label=stored_item.get('link_label'))
        for item, stored_item in zip(process.inputs, stored_params.get('inputs', []))
    ]
    changes = differences(stored_params, wanted_params, sorted(set(stored_params) | set(wanted_params)))
    stored_product, wanted_product = creator.get('product', {}), process.output.stored()
    changes += differences(stored_product, wanted_product, sorted(set(stored_product) | set(wanted_product)))
    if changes:
        problems.add(
            process.path, f'{sample_id!r} already exists with a different {process.kind}: ' + '; '.join(changes)
        )
    else:
        process.status = 'unchanged'


def literature_parameters(plan, value) -> dict[str, Any]:
    """The stored parameters of a literature value (the manifest's reference unless it has its own)."""
    parameters = value.stored()
    if plan.reference and 'reference' not in parameters:
        parameters['reference'] = plan.reference
    return parameters


def mark_existing_literature(plan, problems: Collector) -> None:
    """Literature values already stored with the same content are 'unchanged'; with other content, a problem."""
    ids = [planned.spec.id for planned in plan.literature_values]
    stored: dict[str, dict[str, Any]] = {}
    for part in chunked(ids):
        query = orm.QueryBuilder().append(
            orm.Dict,
            filters={'attributes.analysis': 'literature', 'attributes.literature_id': {'in': part}},
            tag='summary',
            project='attributes.literature_id',
        )
        query.append(orm.CalcFunctionNode, with_outgoing='summary', tag='process')
        query.append(
            orm.Dict, with_outgoing='process', edge_filters={'label': 'parameters'}, tag='input', project='attributes'
        )
        for row in query.iterdict():
            stored.setdefault(row['summary']['attributes.literature_id'], row['input']['attributes'])
    for planned in plan.literature_values:
        if planned.spec.id not in stored:
            continue
        old, wanted = stored[planned.spec.id], literature_parameters(plan, planned.spec)
        changes = differences(old, wanted, sorted(set(old) | set(wanted)))
        if changes:
            problems.add(
                planned.path,
                f'literature value {planned.spec.id!r} already exists with other content: ' + '; '.join(changes),
            )
        else:
            planned.status = 'unchanged'


def owners_of(raw_nodes: Iterable[orm.SinglefileData]) -> dict[int, str]:
    """``{raw file pk: sample id}`` of the samples the raw files were parsed for, in O(n / 500) queries."""
    pks = [node.pk for node in raw_nodes]
    owners: dict[int, str] = {}
    for part in chunked(pks):
        query = orm.QueryBuilder().append(orm.SinglefileData, filters={'id': {'in': part}}, tag='raw', project='id')
        query.append(orm.CalcFunctionNode, with_incoming='raw', tag='parse')
        query.append(orm.Data, with_outgoing='parse', edge_filters={'label': 'sample'}, project='attributes.sample_id')
        for pk, sample_id in query.iterall():
            owners.setdefault(pk, sample_id)
    return owners


def check_measurement_files(plan, problems: Collector) -> None:
    """Mark measurements whose file is stored for the same sample 'unchanged'; report files stored for another
    sample, files listed twice (same content) and files that do not read; read every new file now."""
    first_of: dict[str, Any] = {}
    for planned in plan.measurements:
        try:
            planned.sha256 = sha256_of(planned.file)
        except OSError as exc:
            problems.add(planned.path + ('file',), f'cannot read {planned.file}: {exc.strerror}')
            continue
        if planned.sha256 in first_of:
            first = first_of[planned.sha256]
            same = 'the same file' if first.file == planned.file else f'the same content as {first.file}'
            problems.add(
                planned.path + ('file',),
                f'{os.path.basename(planned.file)} is {same}, already listed at {problems.where(first.path)}: '
                'a raw file is stored once; list it once',
            )
        else:
            first_of[planned.sha256] = planned
    stored = find_raw_files(first_of)
    owners = owners_of(stored.values())
    for sha256, planned in first_of.items():
        target = planned.entry.cell or planned.entry.material
        raw = stored.get(sha256)
        if raw is not None:
            owner = owners.get(pk_of(raw))
            if owner == target:
                planned.status = 'unchanged'
            else:
                problems.add(
                    planned.path + ('file',),
                    f'{os.path.basename(planned.file)} was already imported for {owner!r} (raw node {raw.pk})',
                )
            continue
        try:
            read_file(planned.file, measurement_options(planned.entry))
        except (ParseError, ValueError) as exc:
            problems.add(planned.path + ('file',), str(exc))
