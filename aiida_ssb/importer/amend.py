"""Correcting a stored cell record: ``aiida-ssb amend CELL --set layers[1].mass_mg=9.5 --reason "..."``.

A stored node cannot change (AiiDA attributes are immutable once stored, and a record's values are inputs of
every analysis made from it). A correction is therefore a new version of the record, made by the process
``record_amendment`` from the previous version (input ``previous``), the whole corrected cell spec (input
``parameters``) and what changed and why (input ``amendment``: ``changes`` as ``path: old -> new``, ``reason``).
The previous version stays in the graph with everything measured and analysed on it; it is marked superseded
(the extra ``ssb_superseded_by`` holds the new version's uuid), loses the sample id's registry entry and its
campaign groups to the new version, and drops out of the tables. The new version has the same sample id; its
measurements are those of every version (:func:`~aiida_ssb.query.records.versions_of`), its analysis options
are those remembered on the old one. Its derived values (masses, loadings...) follow from the corrected
values at once; its analysis results come with the next ``aiida-ssb analyse``.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from aiida import orm
from pydantic import ValidationError

from aiida_ssb.calculations.record import link_label, record_amendment
from aiida_ssb.data.campaign import campaign_groups
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.sample import SUPERSEDED_EXTRA, SampleGroup, load_sample
from aiida_ssb.data.storage import write_transaction
from aiida_ssb.exceptions import InputError
from aiida_ssb.importer.existing import differences
from aiida_ssb.importer.problems import user_loc
from aiida_ssb.model import bare_name
from aiida_ssb.query.records import amendments_of  # amendments_of: re-exported
from aiida_ssb.schemas.cell import CellSpec

__all__ = ['Amendment', 'amend_cell', 'amendments_of', 'apply_change', 'parse_path']

_NAME = r'[A-Za-z_][A-Za-z0-9_]*'
_PATH = re.compile(rf'{_NAME}(?:\.{_NAME}|\[\d+\])*')
_TOKEN = re.compile(rf'({_NAME})|\[(\d+)\]')


@dataclasses.dataclass
class Amendment:
    """What :func:`amend_cell` did: the new version, the one it supersedes, the changes and the reason."""

    cell: CellData
    previous: CellData
    changes: list[str]
    reason: str
    process: orm.ProcessNode


def parse_path(path: str) -> list[str | int]:
    """``'layers[1].mass_mg'`` -> ``['layers', 1, 'mass_mg']``."""
    text = path.strip()
    if not _PATH.fullmatch(text):
        raise InputError(f'cannot read the field path {path!r}: write e.g. layers[1].mass_mg or stack_pressure')
    return [name if name else int(index) for name, index in _TOKEN.findall(text)]


def _show(parts: list[str | int]) -> str:
    text = ''
    for part in parts:
        text += f'[{part}]' if isinstance(part, int) else (f'.{part}' if text else part)
    return text


def apply_change(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` of a stored cell spec to ``value`` in place. A value under a field's bare name with a unit
    (``layers[1].mass: 9.5 mg``) replaces the stored unit-suffixed field (``mass_mg``); ``None`` removes it."""
    parts = parse_path(path)
    target: Any = data
    for index, part in enumerate(parts[:-1]):
        where = _show(parts[: index + 1])
        if isinstance(part, int):
            if not isinstance(target, list) or part >= len(target):
                size = len(target) if isinstance(target, list) else 0
                entries = f'{size} entry' if size == 1 else f'{size} entries'
                raise InputError(f'{path}: {_show(parts[:index])} has {entries} (0-based: [0] to [{size - 1}])')
            target = target[part]
        else:
            if not isinstance(target, dict) or part not in target:
                raise InputError(f'{path}: the record has no {where}')
            target = target[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise InputError(f'{path}: no entry [{last}] to set')
        target[last] = value
        return
    if not isinstance(target, dict):
        raise InputError(f'{path}: {_show(parts[:-1])} is not a group of fields')
    for key in [key for key in target if key != last and bare_name(key) == last]:
        del target[key]  # `mass: 9.5 mg` replaces mass_mg
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value


def _creator_parameters(cell: CellData) -> dict[str, Any]:
    creator = cell.creator
    if creator is None or 'parameters' not in creator.inputs:
        raise InputError(f'{cell.sample_id!r} was not recorded by a cell assembly: there is no record to amend')
    return creator.inputs.parameters.get_dict()


def amend_cell(
    sample_id: str, changes: Mapping[str, Any] | Iterable[tuple[str, Any]], reason: str, *, dry_run: bool = False
) -> Amendment | list[str]:
    """Store a corrected version of a cell record (see the module docstring); with ``dry_run``, only the list of
    changes (``path: old -> new``) it would make. ``changes``: field path -> new value (a quantity string with
    its unit, a number in the unit of a suffixed name, ``None`` to remove)."""
    if not reason or not reason.strip():
        raise InputError('say why the record is corrected (--reason): the reason is stored with the correction')
    previous = load_sample(sample_id)
    if not isinstance(previous, CellData):
        raise InputError(
            f'{sample_id!r} is a {previous.__class__.__name__}: amend corrects cell records (a material is '
            'corrected by recording it again under a new sample id)'
        )
    old = _creator_parameters(previous)
    new = _copy(old)
    items = list(changes.items()) if isinstance(changes, Mapping) else list(changes)
    if not items:
        raise InputError('give at least one correction: --set FIELD=VALUE, e.g. --set layers[1].mass_mg=9.5')
    for path, value in items:
        apply_change(new, path, value)
    try:
        spec = CellSpec.model_validate(new)
    except ValidationError as exc:
        parts = []
        for error in exc.errors():
            where = _show(list(user_loc(tuple(error['loc']))))
            parts.append(f'{where}: {error["msg"].removeprefix("Value error, ")}' if where else error['msg'])
        raise InputError(f'the corrected record of {sample_id!r} is not valid: ' + '; '.join(parts)) from None
    if spec.sample_id != previous.sample_id:
        raise InputError('the sample id cannot be amended: record the cell under its new id instead')
    stored = spec.stored()
    diff = differences(old, stored, list(dict.fromkeys([*old, *stored])))
    if not diff:
        raise InputError(f'nothing to correct: {sample_id!r} already has these values')
    if dry_run:
        return diff
    materials: dict[str, MaterialData] = {}
    for material_id in spec.material_ids():
        node = load_sample(material_id)
        if not isinstance(node, MaterialData):
            raise InputError(f'layer material {material_id!r} is a {node.__class__.__name__}, not a material')
        materials[link_label(material_id)] = node
    with write_transaction(f'amend {sample_id}'):
        registry = orm.QueryBuilder().append(SampleGroup, filters={'label': sample_id}, project='*').first(flat=True)
        if registry is not None:
            registry.remove_nodes(previous)  # the new version takes the sample id's registry entry
        results, process = record_amendment.run_get_node(
            previous=previous,
            parameters=orm.Dict(stored),
            amendment=orm.Dict({'changes': diff, 'reason': reason.strip(), 'amended_unix_s': time.time()}),
            # AiiDA types run_get_node's keywords by the function's own (**materials: MaterialData), leaving out the
            # metadata input every process function takes
            metadata={'label': f'amendment -> {sample_id}', 'disable_cache': True},  # type: ignore[arg-type]
            **materials,
        )
        if not process.is_finished_ok:
            raise InputError(f'the correction of {sample_id!r} failed: {process.exit_message or process.process_state}')
        if results is None:  # record_amendment always returns the cell: a bug
            raise RuntimeError(f'the correction of {sample_id!r} returned no outputs')
        process.base.caching.is_valid_cache = False
        cell = results['cell']
        for group in campaign_groups(previous):
            group.add_nodes(cell)
            group.remove_nodes(previous)
        remembered = previous.base.extras.get('ssb_options', None)
        if remembered:
            cell.base.extras.set('ssb_options', remembered)
        previous.base.extras.set(SUPERSEDED_EXTRA, cell.uuid)
    return Amendment(cell, previous, diff, reason.strip(), process)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
