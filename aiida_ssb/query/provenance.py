"""The provenance graph around a node, for browsing: neighbours one link away, grouped and collapsed so that a
cell with 61 spectra stays readable, node details, and the path between two nodes.

* **Collapsed workflow internals**: an analysis process called inside a workflow is shown as the top-level
  workflow (``CellAnalysisWorkChain``), with the workflow's inputs and returned outputs; data made inside it
  and not returned are part of it.
* **Grouped siblings**: when a step has more than :data:`GROUP_LIMIT` inputs or outputs of one node class
  (the spectra of one file, the fits of a workflow), they are one group node ``61 × ImpedanceSpectrumData``
  whose members can be listed and expanded.
* Parameter dicts of a process (``parameters``, ``conditions``, ``options``, ``product``) are not separate
  nodes: they are the process's details.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from aiida import orm
from aiida.common.links import LinkType

from aiida_ssb.data.nodes import pk_of
from aiida_ssb.data.sample import load_sample
from aiida_ssb.exceptions import InputError
from aiida_ssb.query.history import KEY_PARAMETERS, format_value, process_kind

__all__ = ['GROUP_LIMIT', 'GraphEdge', 'GraphNode', 'expand', 'node_details', 'path_between', 'sample_graph']

#: above this many inputs or outputs of one class, a step's neighbours become one group node
GROUP_LIMIT = 3
#: process inputs shown as the process's details, not as nodes
DETAIL_INPUTS = ('parameters', 'conditions', 'options', 'product', 'metadata', 'code')

_DATA_LINKS = (LinkType.INPUT_CALC, LinkType.INPUT_WORK)
_OUT_LINKS = (LinkType.CREATE, LinkType.RETURN)


@dataclass
class GraphNode:
    id: str
    label: str
    kind: str
    detail: str = ''
    sample_id: str | None = None
    members: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GraphEdge:
    source: str
    target: str
    label: str = ''

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _load(identifier: str) -> orm.Node:
    try:
        return orm.load_node(uuid=identifier)
    except Exception:  # NotExistent, MultipleObjectsError, a malformed uuid: all mean "no such node" here
        raise InputError(f'no node with uuid {identifier!r}') from None


def _kind(node: orm.Node) -> str:
    name = node.__class__.__name__
    if name == 'CellData':
        return 'cell'
    if name == 'MaterialData':
        return 'material'
    if isinstance(node, orm.WorkflowNode):
        return 'workflow'
    if isinstance(node, orm.ProcessNode):
        process_type = node.process_type or ''
        for marker, kind in (('ssb.record.', 'step'), ('ssb.parse.', 'parse'), ('ssb.analyse.', 'analysis')):
            if marker in process_type:
                return kind
        return 'analysis' if 'summarise' in process_type else 'process'
    if isinstance(node, orm.SinglefileData):
        return 'file'
    if node.base.attributes.get('technique', None) and node.base.attributes.get('kind', None):
        return 'measurement'
    if isinstance(node, orm.Dict) and (
        node.base.attributes.get('analysis', None) or 'sources' in node.base.attributes.keys()
    ):
        return 'result'
    return 'data'


def _short(value: Any) -> str:
    return f'{value:.4g}' if isinstance(value, float) else str(value)


#: result keys shown on a result node, in order
_RESULT_KEYS = (
    'oxidative_onset_v',
    'conductivity_s_cm',
    'conductivity_25c_s_cm',
    'activation_energy_ev',
    'ccd_ma_cm2',
    'capacity_retention_percent_at_end',
    'initial_discharge_capacity_mah_g_active',
    'chi2_over_z',
)


def _detail(node: orm.Node, kind: str) -> str:
    """One line a reader understands: role and name of a sample, a lab step's key parameters, a record's
    conditions, a result's headline numbers."""
    attributes = node.base.attributes.all
    if kind == 'material':
        return f'{attributes.get("role", "")}: {attributes.get("name", "")}'.strip(': ')
    if kind == 'cell':
        bits = [f'{attributes.get("format", "")} cell']
        for key, unit in (('mass_loading_mg_cm2', 'mg/cm²'), ('stack_pressure_mpa', 'MPa')):
            if attributes.get(key) is not None:
                bits.append(f'{_short(attributes[key])} {unit}')
        return ', '.join(bits)
    if kind == 'step' and isinstance(node, orm.ProcessNode):
        return _step_summary(node, _step_parameters(node))
    if kind == 'measurement':
        bits = [str(attributes.get('technique', ''))]
        for key, unit in (('temperature_c', '°C'), ('upper_cutoff_v', 'V'), ('time_since_assembly_h', 'h')):
            if attributes.get(key) is not None:
                bits.append(f'{_short(attributes[key])} {unit}')
        if attributes.get('cycle_index') is not None:
            bits.append(f'cycle {attributes["cycle_index"]}')
        return ', '.join(bits) + f' · {attributes.get("n_rows", "?")} rows'
    if kind == 'result':
        keys = [k for k in _RESULT_KEYS if isinstance(attributes.get(k), (int, float))]
        if not keys:
            keys = [k for k, v in attributes.items() if isinstance(v, float)][:3]
        return ' · '.join(f'{k} {_short(attributes[k])}' for k in keys[:3])
    if kind == 'workflow':
        return node.label or ''
    return ''


#: node pk -> (label, detail): stored nodes, their attributes and a process's inputs never change
_LABELS: dict[int, tuple[str, str]] = {}
#: step pk -> its parameters dict (filled in bulk by the upstream walk)
_PARAMETERS: dict[int, dict[str, Any]] = {}


def _step_parameters(process: orm.ProcessNode) -> dict[str, Any]:
    if process.pk not in _PARAMETERS:
        query = orm.QueryBuilder().append(orm.ProcessNode, filters={'id': process.pk}, tag='p')
        query.append(orm.Dict, with_outgoing='p', edge_filters={'label': 'parameters'}, project='attributes')
        found = query.first(flat=True)
        _PARAMETERS[pk_of(process)] = found or {}
    return _PARAMETERS[pk_of(process)]


def _step_summary(process: orm.ProcessNode, parameters: dict[str, Any]) -> str:
    """A lab step's kind with its headline parameters (as :func:`~aiida_ssb.query.history.process_summary`)."""

    kind = process_kind(process)
    parts = [format_value(key, parameters[key]) for key in KEY_PARAMETERS.get(kind, ()) if key in parameters]
    if parameters.get('reference'):
        parts.append(f'ref. {parameters["reference"]}' if parts else f'as reported in {parameters["reference"]}')
    return kind + (f' ({", ".join(parts)})' if parts else '')


def _label(node: orm.Node) -> tuple[str, str]:
    """(short label, longer detail line) of a node."""
    if node.pk not in _LABELS:
        if len(_LABELS) > 50000:
            _LABELS.clear()
        _LABELS[pk_of(node)] = _make_label(node)
    return _LABELS[pk_of(node)]


def _make_label(node: orm.Node) -> tuple[str, str]:
    kind = _kind(node)
    detail = _detail(node, kind)
    if kind in ('cell', 'material'):
        return node.base.attributes.get('sample_id', node.label) or str(node.pk), detail
    if kind in ('step', 'parse', 'analysis', 'process') and isinstance(node, orm.ProcessNode):
        return process_kind(node), detail
    if kind == 'workflow':
        return node.process_label or 'workflow', detail
    if kind == 'file':
        return node.filename, ''
    if kind == 'measurement':
        return node.base.attributes.get('technique', 'measurement'), detail
    if kind == 'result':
        return node.base.attributes.get('analysis', None) or 'cell summary', detail
    return node.__class__.__name__, node.label or ''


def _graph_node(node: orm.Node) -> GraphNode:
    label, detail = _label(node)
    sample_id = node.base.attributes.get('sample_id', None) if _kind(node) in ('cell', 'material') else None
    return GraphNode(node.uuid, label, _kind(node), detail, sample_id)


#: process pk -> pk of its top-level caller (itself when called by none); a caller never changes once recorded
_TOP_CALLER: dict[int, int] = {}


def _prefetch_callers(pks) -> None:
    """Fill :data:`_TOP_CALLER` for these processes with one query per level of calling."""
    todo = {pk for pk in pks if pk not in _TOP_CALLER}
    chains = {pk: pk for pk in todo}  # process -> current ancestor
    while todo:
        query = orm.QueryBuilder()
        query.append(
            orm.ProcessNode, filters={'id': {'in': sorted({chains[pk] for pk in todo})}}, project='id', tag='p'
        )
        query.append(
            orm.ProcessNode, with_outgoing='p', edge_filters={'type': {'in': ['call_calc', 'call_work']}}, project='id'
        )
        parents = dict(query.all())
        finished = set()
        for pk in todo:
            parent = parents.get(chains[pk])
            if parent is None:
                _TOP_CALLER[pk] = chains[pk]
                finished.add(pk)
            elif parent in _TOP_CALLER:
                _TOP_CALLER[pk] = _TOP_CALLER[parent]
                finished.add(pk)
            else:
                chains[pk] = parent
        todo -= finished


def _top_caller(process: orm.ProcessNode) -> orm.ProcessNode:
    if process.pk not in _TOP_CALLER:
        _prefetch_callers([process.pk])
    top = _TOP_CALLER[pk_of(process)]
    caller = process if top == process.pk else orm.load_node(top)
    return caller if isinstance(caller, orm.ProcessNode) else process


def display_node(node: orm.Node, collapse: bool = True) -> orm.Node:
    """The node that stands for ``node`` in a collapsed graph: a process inside a workflow is its top-level
    workflow; data made inside a workflow and not returned by it belongs to that workflow."""
    if not collapse:
        return node
    if isinstance(node, orm.ProcessNode):
        return _top_caller(node)
    creator = node.creator
    if creator is not None and _top_caller(creator).pk != creator.pk:
        top = _top_caller(creator)
        returned = {link.node.pk for link in top.base.links.get_outgoing(link_type=LinkType.RETURN).all()}
        if node.pk not in returned:
            return top
    return node


def _group(
    anchor: str, direction: str, nodes: list[tuple[orm.Node, str]]
) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """Neighbours as graph nodes, those of a class with more than GROUP_LIMIT members as one group node.
    Returns the nodes and (id, link label) pairs for the edges."""
    by_class: dict[str, list[tuple[orm.Node, str]]] = {}
    for node, label in nodes:  # processes by their kind (parse_eis), data by their class
        kind = _kind(node)
        if isinstance(node, orm.ProcessNode):
            key = f'{kind} {_label(node)[0]}'
        elif kind == 'result':  # results by their analysis: '61 × eis_fit'
            key = _label(node)[0]
        else:
            key = node.__class__.__name__
        by_class.setdefault(key, []).append((node, label))
    result, links = [], []
    for name, members in by_class.items():
        if len(members) > GROUP_LIMIT and not name.endswith(('CellData', 'MaterialData')):
            group_id = f'group:{anchor}:{direction}:{name}'
            kind = _kind(members[0][0])
            result.append(
                GraphNode(
                    group_id,
                    f'{len(members)} × {name}',
                    'group',
                    f'{len(members)} {kind} nodes (click "expand members" to show them)',
                    members=[m.uuid for m, _ in members],
                )
            )
            links.append((group_id, ''))
        else:
            for node, label in members:
                result.append(_graph_node(node))
                links.append((node.uuid, label))
    return result, links


def expand(identifier: str, direction: str = 'upstream', *, collapse: bool = True) -> tuple[list[dict], list[dict]]:
    """The neighbours of a node one step ``upstream`` (what it was made from) or ``downstream`` (what was made
    from it), as node and edge dicts for a graph view."""
    if direction not in ('upstream', 'downstream'):
        raise InputError(f'direction {direction!r}: upstream or downstream')
    node = _load(identifier)
    shown = display_node(node, collapse)
    neighbours: dict[int, tuple[orm.Node, str]] = {}
    if direction == 'upstream':
        if isinstance(shown, orm.ProcessNode):
            for link in shown.base.links.get_incoming(link_type=_DATA_LINKS).all():
                if link.link_label in DETAIL_INPUTS or link.link_label.startswith('metadata'):
                    continue
                neighbours.setdefault(pk_of(link.node), (link.node, link.link_label))
        else:
            for link in shown.base.links.get_incoming(link_type=_OUT_LINKS).all():
                process = display_node(link.node, collapse)
                neighbours.setdefault(pk_of(process), (process, link.link_label))
    elif isinstance(shown, orm.ProcessNode):
        link_type = LinkType.RETURN if isinstance(shown, orm.WorkflowNode) else LinkType.CREATE
        for link in shown.base.links.get_outgoing(link_type=link_type).all():
            neighbours.setdefault(pk_of(link.node), (link.node, link.link_label))
    else:
        outgoing = shown.base.links.get_outgoing(link_type=_DATA_LINKS).all()
        if collapse:
            _prefetch_callers([link.node.pk for link in outgoing])
        for link in outgoing:
            process = display_node(link.node, collapse)
            neighbours.setdefault(pk_of(process), (process, link.link_label))
    nodes, links = _group(shown.uuid, direction, list(neighbours.values()))
    edges = []
    for other, label in links:
        source, target = (other, shown.uuid) if direction == 'upstream' else (shown.uuid, other)
        edges.append(GraphEdge(source, target, label).to_dict())
    return [_graph_node(shown).to_dict()] + [n.to_dict() for n in nodes], edges


def sample_graph(sample_id: str, *, collapse: bool = True, max_nodes: int = 150) -> tuple[list[dict], list[dict]]:
    """The starting view of a sample: its whole synthesis history upstream and one step of what was done with it
    downstream (measurements and analyses, collapsed)."""

    root = load_sample(sample_id)
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str], dict] = {}

    def add(found_nodes, found_edges):
        for item in found_nodes:
            nodes.setdefault(item['id'], item)
        for item in found_edges:
            edges.setdefault((item['source'], item['target']), item)

    add(*_history(root, max_nodes))
    found_nodes, found_edges = expand(root.uuid, 'downstream', collapse=collapse)
    add(found_nodes, found_edges)
    for item in found_nodes[1:]:
        if not item['id'].startswith('group:') and len(nodes) < max_nodes:
            add(*expand(item['id'], 'downstream', collapse=collapse))
    return list(nodes.values()), list(edges.values())


def _history(root: orm.Node, max_nodes: int) -> tuple[list[dict], list[dict]]:
    """The synthesis history of a sample (every ancestor sample and lab step, the raw files measured on the way)
    in three queries: the ancestors, the links among them, the parameters of the steps."""
    query = orm.QueryBuilder().append(orm.Node, filters={'id': root.pk}, tag='root')
    query.append(orm.Node, with_descendants='root', project='*', tag='ancestor')
    ancestors = {node.pk: node for node in query.all(flat=True)}
    ancestors[root.pk] = root
    if len(ancestors) == 1:
        return [_graph_node(root).to_dict()], []
    ids = sorted(ancestors)
    links = orm.QueryBuilder().append(orm.Node, filters={'id': {'in': ids}}, project='id', tag='a')
    links.append(orm.Node, with_incoming='a', filters={'id': {'in': ids}}, project='id', edge_project=['label', 'type'])
    rows = links.all()
    for source, target, label, link_type in rows:
        if label == 'parameters' and isinstance(ancestors[source], orm.Dict):
            _PARAMETERS[target] = ancestors[source].get_dict()
    hidden = {source for source, _, label, _ in rows if label in DETAIL_INPUTS}
    processes = [pk for pk, n in ancestors.items() if isinstance(n, orm.ProcessNode)]
    _prefetch_callers(processes)
    if any(_TOP_CALLER[pk] != pk for pk in processes):
        return _walk_upstream(root, max_nodes)  # workflow internals upstream: the general (slower) walk
    shown = [n for pk, n in ancestors.items() if pk not in hidden][:max_nodes]
    shown_ids = {n.pk for n in shown}
    nodes = [_graph_node(n).to_dict() for n in shown]
    edges = [
        GraphEdge(ancestors[source].uuid, ancestors[target].uuid, label).to_dict()
        for source, target, label, link_type in rows
        if source in shown_ids and target in shown_ids and link_type in ('input_calc', 'create', 'input_work')
    ]
    return nodes, edges


def _walk_upstream(root: orm.Node, max_nodes: int) -> tuple[list[dict], list[dict]]:
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str], dict] = {}
    queue = deque([root.uuid])
    seen = set()
    while queue and len(nodes) < max_nodes:
        current = queue.popleft()
        if current in seen or current.startswith('group:'):
            continue
        seen.add(current)
        found_nodes, found_edges = expand(current, 'upstream')
        for item in found_nodes:
            nodes.setdefault(item['id'], item)
        for item in found_edges:
            edges.setdefault((item['source'], item['target']), item)
        queue.extend(item['id'] for item in found_nodes[1:])
    return list(nodes.values()), list(edges.values())


def node_details(identifier: str) -> dict[str, Any]:
    """What a click on a node shows: its kind, label, pk/uuid, time, attributes (small ones) and, for a process,
    its parameter dicts (``parameters``, ``conditions``, ``options``)."""
    node = _load(identifier)
    label, detail = _label(node)
    attributes = {
        key: value
        for key, value in sorted(node.base.attributes.all.items())
        if not key.startswith(('array|', '_')) and key not in ('sealed', 'version', 'checkpoints')
    }
    info: dict[str, Any] = {
        'uuid': node.uuid,
        'pk': node.pk,
        'kind': _kind(node),
        'class': node.__class__.__name__,
        'label': label,
        'detail': detail,
        'created': f'{node.ctime:%Y-%m-%d %H:%M:%S}',
        'sample_id': node.base.attributes.get('sample_id', None) if _kind(node) in ('cell', 'material') else None,
        'parameters': {},
        'attributes': {},
    }
    if isinstance(node, orm.ProcessNode):
        info['process_type'] = node.process_type
        info['exit_status'] = node.exit_status
        for link in node.base.links.get_incoming(link_type=_DATA_LINKS).all():
            if link.link_label in DETAIL_INPUTS and isinstance(link.node, orm.Dict):
                info['parameters'][link.link_label] = link.node.get_dict()
    else:
        info['attributes'] = {k: v for k, v in attributes.items() if len(repr(v)) < 2000}
    if isinstance(node, orm.SinglefileData):
        info['filename'] = node.filename
    return info


def _upstream_neighbours(node: orm.Node) -> list[orm.Node]:
    if isinstance(node, orm.ProcessNode):
        links = node.base.links.get_incoming(link_type=_DATA_LINKS).all()
    else:
        links = node.base.links.get_incoming(link_type=_OUT_LINKS).all()
    return [link.node for link in links]


def path_between(start: str, end: str, *, collapse: bool = True, limit: int = 20000) -> list[dict[str, Any]]:
    """The provenance path from ``start`` (e.g. a lab step or its parameters) to ``end`` (e.g. a result), found
    by walking upstream from ``end``; each entry is a raw node ``{'uuid', 'display'}`` where ``display`` is the
    node that stands for it in a collapsed graph. Empty when ``end`` does not descend from ``start``."""
    start_node, end_node = _load(start), _load(end)
    parents: dict[int, orm.Node | None] = {pk_of(end_node): None}
    queue = deque([end_node])
    found = start_node.pk == end_node.pk
    while queue and not found and len(parents) < limit:
        current = queue.popleft()
        for parent in _upstream_neighbours(current):
            if parent.pk in parents:
                continue
            parents[pk_of(parent)] = current
            if parent.pk == start_node.pk:
                found = True
                break
            queue.append(parent)
    if not found:
        return []
    path: list[dict[str, Any]] = []
    step: orm.Node | None = start_node
    while step is not None:
        shown = display_node(step, collapse)
        path.append({'uuid': step.uuid, 'display': shown.uuid, 'node': _graph_node(shown).to_dict()})
        step = parents[pk_of(step)]
    return path
