"""The history of a sample: the tree of lab steps back to the purchased materials, and its measurements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where it is used: `aiida-ssb show` renders stored rows without the ORM
    from aiida import orm

__all__ = [
    'KEY_PARAMETERS',
    'HistoryNode',
    'RecordRow',
    'history',
    'measurements_of',
    'process_summary',
    'record_rows',
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


def process_summary(process: orm.ProcessNode, inputs: Mapping[str, Any] | None = None) -> str:
    """The kind of a recorded step with its headline parameters (``inputs``: the step's input nodes by link label,
    when already read)."""
    kind = process_kind(process)
    if inputs is None:  # one query for all the step's inputs
        from aiida.common.links import LinkType

        links = process.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all()
        inputs = {link.link_label: link.node for link in links}
    given = inputs
    if kind == 'amendment' and 'amendment' in given:
        amendment = given['amendment'].get_dict()
        return f'amendment ({"; ".join(amendment.get("changes", []))}; reason: {amendment.get("reason", "")})'
    parameters = given['parameters'].get_dict() if 'parameters' in given else {}
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
    #: whether any process created the node (a purchased material has none)
    created: bool = False


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


#: a history's creators (sample pk -> the process that created it, or None) and the input links of its recorded
#: steps (process pk -> [(link label, input node)]), read level by level
_Lineage = tuple[dict[int, Any], dict[int, list[tuple[str, Any]]]]


def _lineage(node: orm.Data) -> _Lineage:
    """The creators and step inputs :func:`history` walks, in two queries per generation instead of several per
    sample."""
    from aiida import orm

    creators: dict[int, Any] = {}
    inputs: dict[int, list[tuple[str, Any]]] = {}
    frontier = {_stored_pk(node)}
    while frontier:
        query = orm.QueryBuilder()
        query.append(orm.Data, filters={'id': {'in': sorted(frontier)}}, project='id', tag='sample')
        query.append(orm.ProcessNode, with_outgoing='sample', edge_filters={'type': 'create'}, project='*')
        made = dict(query.all())
        creators.update({pk: made.get(pk) for pk in frontier})
        steps = sorted(process.pk for process in made.values() if 'ssb.record' in (process.process_type or ''))
        frontier = set()
        if not steps:
            break
        query = orm.QueryBuilder()
        query.append(orm.ProcessNode, filters={'id': {'in': steps}}, project='id', tag='step')
        query.append(
            orm.Data,
            with_outgoing='step',
            edge_filters={'type': 'input_calc'},
            edge_tag='link',
            edge_project='label',
            tag='input',
            project='*',
        )
        for row in query.dict():
            label, parent = row['link']['label'], row['input']['*']
            inputs.setdefault(row['step']['id'], []).append((label, parent))
            walked = label not in ('parameters', 'product', 'previous') and hasattr(parent, 'sample_id')
            if walked and parent.pk not in creators:
                frontier.add(parent.pk)
    return creators, inputs


def history(node: orm.Data, _seen: set[int] | None = None, _read: _Lineage | None = None) -> HistoryNode:
    """The tree of recorded steps that made ``node``, back to materials without a creator (purchased)."""
    seen = _seen if _seen is not None else set()
    creators, step_inputs = _read if _read is not None else _lineage(node)
    entry = HistoryNode(node)
    if node.pk in seen:
        entry.repeated = True
        return entry
    seen.add(_stored_pk(node))
    creator = creators[node.pk] if node.pk in creators else node.creator
    entry.created = creator is not None
    if creator is None or 'ssb.record' not in (creator.process_type or ''):
        return entry
    links = sorted(step_inputs.get(creator.pk, []), key=lambda link: link[0])
    given = dict(links)
    entry.process = creator
    entry.step = process_summary(creator, given)
    parameters = given['parameters'].get_dict() if 'parameters' in given else {}
    amounts = {item.get('link_label'): item for item in parameters.get('inputs', [])}
    layers = {layer['material']: layer for layer in parameters.get('layers', [])} if 'layers' in parameters else {}
    for label, parent in links:
        if label in ('parameters', 'product') or not hasattr(parent, 'sample_id'):
            continue
        if label == 'previous':  # the version this one corrects: one line, its history is the same
            previous = HistoryNode(parent, amount=f'previous version, superseded (pk {parent.pk})', created=True)
            previous.process = parent.creator  # not a starting material; its own history is not repeated
            entry.parents.append(previous)
            continue
        child = history(parent, seen, (creators, step_inputs))
        if label in amounts:
            child.amount = _amount_text(amounts[label])
        elif parent.sample_id in layers:
            layer = layers[parent.sample_id]
            bits = [layer['role']] + [format_value(k, layer[k]) for k in ('mass_mg', 'thickness_um') if k in layer]
            child.amount = ', '.join(bits)
        entry.parents.append(child)
    return entry


def describe(node: orm.Data, created: bool | None = None) -> str:
    """One line naming a sample: its id, name and kind (``created``: whether a process made it, when known)."""
    attributes = node.base.attributes.all
    kind = 'cell' if node.__class__.__name__ == 'CellData' else attributes.get('role', node.__class__.__name__)
    name = attributes.get('name') or ''
    text = f'{attributes.get("sample_id", node.label)}'
    if name:
        text += f' {name}'
    extra = attributes.get('format') if kind == 'cell' else None
    text += f' [{kind}{", " + extra if extra else ""}]'
    if attributes.get('supplier') and not (created if created is not None else node.creator is not None):
        text += f' from {attributes["supplier"]}'
    return text


def render_history(tree: HistoryNode) -> list[str]:
    """Text lines of the tree (box-drawing characters)."""
    lines = [describe(tree.node, tree.created)]

    def walk(entry: HistoryNode, prefix: str) -> None:
        if entry.step:
            lines.append(f'{prefix}└─ {entry.step}')
            prefix = prefix + '   '
        for index, parent in enumerate(entry.parents):
            last = index == len(entry.parents) - 1
            branch = '└─ ' if last else '├─ '
            text = describe(parent.node, None if parent.repeated else parent.created)
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


def _parse_processes(sample: orm.Data, project: str = 'id') -> list[Any]:
    """The parse processes (their pks, or the nodes with ``project='*'``) that took ``sample`` (or a version it
    supersedes) as their measured object, in time order."""
    from aiida import orm

    from aiida_ssb.query.records import versions_of

    query = orm.QueryBuilder()
    query.append(orm.Data, filters={'id': {'in': [node.pk for node in versions_of(sample)]}}, tag='sample')
    query.append(
        orm.CalcFunctionNode, with_incoming='sample', edge_filters={'label': 'sample'}, tag='parse', project=project
    )
    query.order_by({'parse': {'ctime': 'asc'}})
    return list(dict.fromkeys(query.all(flat=True)))


def _created(processes: Sequence[int], *projections: str) -> list[list[Any]]:
    """``[process pk, output pk, *projections]`` of the records the parse processes created, in part order."""
    from aiida import orm

    query = orm.QueryBuilder()
    query.append(orm.CalcFunctionNode, filters={'id': {'in': list(processes)}}, tag='parse', project='id')
    query.append(
        orm.Data,
        with_incoming='parse',
        edge_filters={'type': 'create'},
        project=['id', 'attributes.part_index', *projections],
    )
    rows = query.all()
    rows.sort(key=lambda row: (row[2] or 0, row[1]))  # projected: reading a node's attributes is a query each
    return [[row[0], row[1], *row[3:]] for row in rows]


def measurements_of(sample: orm.Data) -> list[tuple[orm.ProcessNode, list[orm.Data]]]:
    """The parse processes that took ``sample`` (or a version it supersedes) as their measured object, with their
    measurement outputs, in time order (two queries, whatever the number of records)."""
    processes = _parse_processes(sample, '*')
    if not processes:
        return []
    outputs: dict[int, list[orm.Data]] = {process.pk: [] for process in processes}
    for pk, _, node in _created(list(outputs), '*'):
        outputs[pk].append(node)
    return [(process, outputs[process.pk]) for process in processes]


@dataclass
class RecordRow:
    """One raw file of a sample as ``aiida-ssb show`` and the web pages list it: what its parse read and made."""

    process_pk: int
    raw_uuid: str | None
    filename: str | None
    sha256: str | None
    conditions: dict[str, Any]
    #: ``(pk, class name, technique)`` of each record the file gave, in part order
    records: list[tuple[int, str, str | None]]


def record_rows(sample: orm.Data) -> list[RecordRow]:
    """The raw files of ``sample`` (and of the versions it supersedes) with their conditions and records, in time
    order: three queries whatever the number of records, every value projected (reading a stored node's
    attributes is a query each)."""
    from aiida import orm

    processes = _parse_processes(sample)
    if not processes:
        return []
    rows = {pk: RecordRow(pk, None, None, None, {}, []) for pk in processes}
    for pk, record, node_type, technique in _created(processes, 'node_type', 'attributes.technique'):
        rows[pk].records.append((record, node_type.rstrip('.').rsplit('.', 1)[-1], technique))
    query = orm.QueryBuilder()
    query.append(orm.CalcFunctionNode, filters={'id': {'in': processes}}, tag='parse', project='id')
    query.append(
        orm.Data,
        with_outgoing='parse',
        edge_filters={'type': 'input_calc', 'label': {'in': ['raw', 'conditions']}},
        edge_tag='link',
        edge_project='label',
        tag='input',
        project=['uuid', 'attributes'],
    )
    for item in query.dict():
        row, label, given = rows[item['parse']['id']], item['link']['label'], item['input']
        attributes = given['attributes'] or {}
        if label == 'conditions':
            row.conditions = dict(attributes)
        else:
            row.raw_uuid, row.filename, row.sha256 = given['uuid'], attributes.get('filename'), attributes.get('sha256')
    return [rows[pk] for pk in processes]
