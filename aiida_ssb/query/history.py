"""The history of a sample: the tree of lab steps back to the purchased materials, and its measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where it is used: `aiida-ssb show` renders stored rows without the ORM
    from aiida import orm

__all__ = [
    'KEY_PARAMETERS',
    'HistoryNode',
    'history',
    'measurements_of',
    'parse_inputs',
    'process_summary',
    'render_history',
]

#: the parameters shown beside each step kind (all are kept in the graph; these are the headline ones)
KEY_PARAMETERS: dict[str, tuple[str, ...]] = {
    'ball_milling': (
        'mill',
        'duration_min',
        'repetitions',
        'cycle_duration_min',
        'ball_to_powder_ratio',
        'rotation_rpm',
        'frequency_hz',
        'jar_material',
        'atmosphere',
        'medium',
    ),
    'heat_treatment': ('purpose', 'temperature_c', 'duration_min', 'heating_rate_c_min', 'atmosphere', 'pressure_mbar'),
    'solution_impregnation': (
        'method',
        'solvent',
        'concentration_mg_ml',
        'dip_time_min',
        'ultrasonication_time_min',
        'infiltration_steps',
        'uptake_wt_percent',
    ),
    'solution_synthesis': ('solvent', 'solvent_volume_ml', 'temperature_c', 'duration_min', 'solvent_removal'),
    'mixing': ('method', 'duration_min', 'rotation_rpm'),
    'slurry_casting': (
        'solvent',
        'blade_gap_um',
        'mass_loading_mg_cm2',
        'porosity_percent',
        'calendering_pressure_mpa',
    ),
    'pressing': ('pressure_mpa', 'die_diameter_mm', 'dwell_min', 'temperature_c'),
    'cell_assembly': ('format', 'housing', 'stack_pressure_mpa'),
}

_UNIT_SUFFIX_LABEL = {
    '_mg': ' mg',
    '_mah_g': ' mAh/g',
    '_ma_g': ' mA/g',
    '_g_cm3': ' g/cm³',
    '_cm2': ' cm²',
    '_v': ' V',
    '_h': ' h',
    '_s': ' s',
    '_n_m': ' N·m',
    '_mol': ' mol',
    '_min': ' min',
    '_c': ' °C',
    '_mpa': ' MPa',
    '_mbar': ' mbar',
    '_c_min': ' °C/min',
    '_rpm': ' rpm',
    '_hz': ' Hz',
    '_mm': ' mm',
    '_um': ' µm',
    '_mg_ml': ' mg/mL',
    '_ml': ' mL',
    '_mg_cm2': ' mg/cm²',
    '_wt_percent': ' wt%',
    '_percent': ' %',
}


def format_value(key: str, value: Any) -> str:
    """``('duration_min', 45.0)`` -> ``'duration 45 min'``."""
    for suffix in sorted(_UNIT_SUFFIX_LABEL, key=len, reverse=True):
        if key.endswith(suffix):
            number = f'{value:.4g}' if isinstance(value, float) else str(value)
            return f'{key[: -len(suffix)].replace("_", " ")} {number}{_UNIT_SUFFIX_LABEL[suffix]}'
    if isinstance(value, float):
        value = f'{value:.4g}'
    return f'{key.replace("_", " ")} {value}'


def process_kind(process: orm.ProcessNode) -> str:
    """``aiida.calculations:ssb.record.ball_milling`` -> ``ball_milling``."""
    process_type = process.process_type or ''
    return process_type.rsplit('.', 1)[-1] if 'ssb.' in process_type else (process.process_label or process_type)


def process_summary(process: orm.ProcessNode) -> str:
    """The kind of a recorded step with its headline parameters."""
    kind = process_kind(process)
    if kind == 'amendment' and 'amendment' in process.inputs:
        amendment = process.inputs.amendment.get_dict()
        return f'amendment ({"; ".join(amendment.get("changes", []))}; reason: {amendment.get("reason", "")})'
    parameters = process.inputs.parameters.get_dict() if 'parameters' in process.inputs else {}
    parts = [format_value(key, parameters[key]) for key in KEY_PARAMETERS.get(kind, ()) if key in parameters]
    if parameters.get('reference') and not parts:
        parts.append(f'as reported in {parameters["reference"]}')
    elif parameters.get('reference'):
        parts.append(f'ref. {parameters["reference"]}')
    return kind + (f' ({", ".join(parts)})' if parts else '')


@dataclass
class HistoryNode:
    """One sample in the history tree, with the step that made it and that step's inputs."""

    node: orm.Data
    amount: str | None = None
    step: str | None = None
    process: orm.ProcessNode | None = None
    parents: list[HistoryNode] = field(default_factory=list)
    repeated: bool = False


def _amount_text(item: dict[str, Any]) -> str | None:
    parts = []
    if 'fraction' in item:
        parts.append(f'{item["fraction"] * 100:.4g} {item.get("basis", "")}%'.replace(' %', '%'))
    for key, unit in (('mass_mg', 'mg'), ('amount_mol', 'mol'), ('volume_ml', 'mL')):
        if key in item:
            parts.append(f'{item[key]:.4g} {unit}')
    if item.get('role'):
        parts.append(item['role'])
    return ', '.join(parts) or None


def _stored_pk(node: orm.Data) -> int:
    """The pk of a stored node (``aiida_ssb.data.nodes.pk_of`` without importing the ``data`` package and the
    ORM with it: `aiida-ssb show` renders rows read by :mod:`aiida_ssb.query.fast`)."""
    pk = node.pk
    if pk is None:
        raise ValueError(f'{node!r} is not stored: it has no pk')
    return pk


def history(node: orm.Data, _seen: set[int] | None = None) -> HistoryNode:
    """The tree of recorded steps that made ``node``, back to materials without a creator (purchased)."""
    seen = _seen if _seen is not None else set()
    entry = HistoryNode(node)
    if node.pk in seen:
        entry.repeated = True
        return entry
    seen.add(_stored_pk(node))
    creator = node.creator
    if creator is None or 'ssb.record' not in (creator.process_type or ''):
        return entry
    entry.process = creator
    entry.step = process_summary(creator)
    parameters = creator.inputs.parameters.get_dict() if 'parameters' in creator.inputs else {}
    amounts = {item.get('link_label'): item for item in parameters.get('inputs', [])}
    layers = {layer['material']: layer for layer in parameters.get('layers', [])} if 'layers' in parameters else {}
    for link in sorted(creator.base.links.get_incoming().all(), key=lambda link: link.link_label):
        parent = link.node
        if link.link_label in ('parameters', 'product') or not hasattr(parent, 'sample_id'):
            continue
        if link.link_label == 'previous':  # the version this one corrects: one line, its history is the same
            previous = HistoryNode(parent, amount=f'previous version, superseded (pk {parent.pk})')
            previous.process = parent.creator  # not a starting material; its own history is not repeated
            entry.parents.append(previous)
            continue
        child = history(parent, seen)
        if link.link_label in amounts:
            child.amount = _amount_text(amounts[link.link_label])
        elif parent.sample_id in layers:
            layer = layers[parent.sample_id]
            bits = [layer['role']] + [format_value(k, layer[k]) for k in ('mass_mg', 'thickness_um') if k in layer]
            child.amount = ', '.join(bits)
        entry.parents.append(child)
    return entry


def describe(node: orm.Data) -> str:
    attributes = node.base.attributes.all
    kind = 'cell' if node.__class__.__name__ == 'CellData' else attributes.get('role', node.__class__.__name__)
    name = attributes.get('name') or ''
    text = f'{attributes.get("sample_id", node.label)}'
    if name:
        text += f' {name}'
    extra = attributes.get('format') if kind == 'cell' else None
    text += f' [{kind}{", " + extra if extra else ""}]'
    if attributes.get('supplier') and node.creator is None:
        text += f' from {attributes["supplier"]}'
    return text


def render_history(tree: HistoryNode) -> list[str]:
    """Text lines of the tree (box-drawing characters)."""
    lines = [describe(tree.node)]

    def walk(entry: HistoryNode, prefix: str) -> None:
        if entry.step:
            lines.append(f'{prefix}└─ {entry.step}')
            prefix = prefix + '   '
        for index, parent in enumerate(entry.parents):
            last = index == len(entry.parents) - 1
            branch = '└─ ' if last else '├─ '
            text = describe(parent.node)
            if parent.amount:
                text += f'  ({parent.amount})'
            if parent.repeated:
                text += '  (history shown above)'
            elif parent.process is None:
                text += '  purchased / starting material'
            lines.append(prefix + branch + text)
            walk(parent, prefix + ('   ' if last else '│  '))

    walk(tree, '')
    return lines


def measurements_of(sample: orm.Data) -> list[tuple[orm.ProcessNode, list[orm.Data]]]:
    """The parse processes that took ``sample`` (or a version it supersedes) as their measured object, with their
    measurement outputs, in time order (two queries, whatever the number of records)."""
    from aiida import orm

    from aiida_ssb.query.records import versions_of

    query = orm.QueryBuilder()
    query.append(orm.Data, filters={'id': {'in': [node.pk for node in versions_of(sample)]}}, tag='sample')
    query.append(
        orm.CalcFunctionNode, with_incoming='sample', edge_filters={'label': 'sample'}, tag='parse', project='*'
    )
    query.order_by({'parse': {'ctime': 'asc'}})
    processes = list(dict.fromkeys(query.all(flat=True)))
    if not processes:
        return []
    outputs: dict[int, list[orm.Data]] = {process.pk: [] for process in processes}
    created = orm.QueryBuilder()
    created.append(orm.CalcFunctionNode, filters={'id': {'in': list(outputs)}}, tag='parse', project='id')
    created.append(orm.Data, with_incoming='parse', edge_filters={'type': 'create'}, project='*')
    for pk, node in created.iterall():
        outputs[pk].append(node)
    for nodes in outputs.values():
        nodes.sort(key=lambda n: (n.base.attributes.get('part_index', 0), n.pk))
    return [(process, outputs[process.pk]) for process in processes]


def parse_inputs(processes: Sequence[orm.ProcessNode]) -> list[dict[str, Any]]:
    """``{'raw': SinglefileData, 'conditions': {...}}`` of each parse process, in their order, in one query (either
    key absent when the process had no such input)."""
    from aiida import orm

    found: dict[int, dict[str, Any]] = {process.pk: {} for process in processes if process.pk is not None}
    if found:
        query = orm.QueryBuilder()
        query.append(orm.CalcFunctionNode, filters={'id': {'in': list(found)}}, tag='parse', project='id')
        query.append(
            orm.Data,
            with_outgoing='parse',
            edge_filters={'type': 'input_calc', 'label': {'in': ['raw', 'conditions']}},
            edge_tag='link',
            edge_project='label',
            tag='input',
            project='*',
        )
        for row in query.dict():
            label, node = row['link']['label'], row['input']['*']
            found[row['parse']['id']][label] = node.get_dict() if label == 'conditions' else node
    return [found.get(process.pk, {}) if process.pk is not None else {} for process in processes]
