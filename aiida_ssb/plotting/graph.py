"""Provenance graphs of samples that read at a glance, drawn from the AiiDA graph.

A node is what a battery scientist thinks in, not one AiiDA node each:

* a **sample** (material or cell): its id, role and name;
* a **lab step** with its parameters folded into its label (the ``parameters`` and ``product`` dicts are not
  drawn); the edges into it carry what was taken of each input (``60 wt%``, ``9.75 mg``, ``positive layer``);
* a **raw file** and the **record** read from it: one node per file with the number of spectra or parts in it;
  more than :data:`GROUP_LIMIT` files of one technique are one node;
* an **analysis** of a record (the process, its summary and curves as one node) with its headline numbers, or
  its count and quality tally for many spectra; only the latest run of each analysis on each record is drawn
  (the label says how many earlier runs there were), so a re-analysed cell draws no second subgraph;
* a **series analysis** (Arrhenius, interface growth) fed by those, and the **cell summary**.

Rendering needs the Graphviz ``dot`` binary; without it only the ``.dot`` source can be written.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiida import orm
from aiida.common.links import LinkType

from aiida_ssb.data.nodes import pk_of
from aiida_ssb.exceptions import InputError, SsbError
from aiida_ssb.outputs import check_output_file, output_file
from aiida_ssb.query.history import KEY_PARAMETERS, format_value, process_kind

__all__ = ['GROUP_LIMIT', 'GraphvizMissingError', 'SampleGraph', 'sample_graph', 'write_graph']

#: more files of one technique than this are one record node; more products than this one "made into" node
GROUP_LIMIT = 4

#: analysis-summary keys shown on an analysis node, in order (three at most)
_RESULT_KEYS = (
    'oxidative_onset_v',
    'reductive_onset_v',
    'conductivity_s_cm',
    'activation_energy_ev',
    'conductivity_at_reference_s_cm',
    'ccd_ma_cm2',
    'capacity_retention_percent_at_end',
    'initial_discharge_capacity_mah_g_active',
    'conductivity_25c_s_cm',
    'rate_constant_ohm_cm2_per_sqrt_h',
    'last_resistance_ohm_cm2',
    'circuit',
    'chi2_over_z',
    'diffusion_coefficient_median_cm2_s',
    'electronic_conductivity_s_cm',
    'transference_number',
)
#: process inputs that are a step's details (folded into its label), never nodes
_DETAIL_INPUTS = ('parameters', 'product', 'conditions', 'options', 'settings', 'metadata')

_STYLES = {
    'material': {'shape': 'ellipse', 'style': 'filled', 'fillcolor': '#dbe9f6'},
    'cell': {'shape': 'ellipse', 'style': 'filled', 'fillcolor': '#b9d4ee'},
    'step': {'shape': 'box', 'style': 'filled,rounded', 'fillcolor': '#fde2c8'},
    'file': {'shape': 'note', 'style': 'filled', 'fillcolor': '#f4f4f4'},
    'record': {'shape': 'box3d', 'style': 'filled', 'fillcolor': '#e4f2dd'},
    'analysis': {'shape': 'box', 'style': 'filled', 'fillcolor': '#eadcf4'},
    'summary': {'shape': 'box', 'style': 'filled,bold', 'fillcolor': '#d9c6ea'},
    'products': {'shape': 'ellipse', 'style': 'filled,dashed', 'fillcolor': '#eef4fb'},
}


class GraphvizMissingError(SsbError, RuntimeError):
    """The Graphviz ``dot`` binary is not installed."""


@dataclass
class GraphNode:
    key: str
    kind: str
    lines: list[str]
    pks: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return '\n'.join(self.lines)


@dataclass
class SampleGraph:
    """A readable provenance graph: nodes (key -> :class:`GraphNode`) and labelled edges; ``graphviz`` is its
    :class:`graphviz.Digraph`."""

    root: str
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, key: str, kind: str, lines: Iterable[str], pks: Iterable[int] = ()) -> str:
        if key not in self.nodes:
            self.nodes[key] = GraphNode(key, kind, [line for line in lines if line], list(pks))
        return key

    def link(self, source: str, target: str, label: str = '') -> None:
        previous = self.edges.get((source, target))
        if previous and label and label not in previous.split('; '):
            label = f'{previous}; {label}'
        self.edges[(source, target)] = label or previous or ''

    @property
    def graphviz(self):
        import graphviz

        dot = graphviz.Digraph(
            graph_attr={'rankdir': 'TB', 'fontsize': '10', 'nodesep': '0.25', 'ranksep': '0.35'},
            node_attr={'fontsize': '9', 'fontname': 'Helvetica', 'penwidth': '1'},
            edge_attr={'fontsize': '8', 'fontname': 'Helvetica', 'color': '#555555'},
        )
        names = {key: f'N{number}' for number, key in enumerate(self.nodes)}  # DOT ids: no ports, no quoting
        for key, node in self.nodes.items():
            style = dict(_STYLES.get(node.kind, {}))
            if key == self.root:
                style['penwidth'] = '3'
            dot.node(names[key], node.label, **style)
        for (source, target), label in self.edges.items():
            dot.edge(names[source], names[target], label=label)
        return dot


# ------------------------------------------------------------------------------------------------ labels
def _wrap(text: str, width: int = 38) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or ['']


def _short(value: Any) -> str:
    return f'{value:.3g}' if isinstance(value, float) else str(value)


def _sample_lines(node: orm.Node) -> list[str]:
    attributes = node.base.attributes.all
    lines = [str(attributes.get('sample_id', node.label or node.pk))]
    if node.__class__.__name__ == 'CellData':
        bits = [f'{attributes.get("format", "")} cell'.replace('_', ' ').strip()]
        if attributes.get('mass_loading_mg_cm2') is not None:
            bits.append(f'{attributes["mass_loading_mg_cm2"]:.3g} mg/cm²')
        if attributes.get('stack_pressure_mpa') is not None:
            bits.append(f'{attributes["stack_pressure_mpa"]:.3g} MPa')
        lines += _wrap(', '.join(bits))
    else:
        role = str(attributes.get('role', '')).replace('_', ' ')
        name = attributes.get('name')
        lines += _wrap(f'{role}: {name}' if name else role)
        if attributes.get('supplier') and node.creator is None:
            lines.append(f'from {attributes["supplier"]}')
    return lines


def _step_parameters(process: orm.ProcessNode) -> dict[str, Any]:
    for link in process.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all():
        if link.link_label == 'parameters' and isinstance(link.node, orm.Dict):
            return link.node.get_dict()
    return {}


def _step_lines(process: orm.ProcessNode, parameters: dict[str, Any]) -> list[str]:
    """The step's kind, then its key parameters (those of :data:`~aiida_ssb.query.history.KEY_PARAMETERS`, then
    the other scalar ones), wrapped."""
    kind = process_kind(process)
    keys = list(KEY_PARAMETERS.get(kind, ()))
    keys += [  # the other numbers (their unit is in their name)
        key
        for key, value in parameters.items()
        if key not in keys and isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    parts = [
        f'1C = {parameters[key]:g} mA/g' if key == 'one_c_ma_g' else format_value(key, parameters[key])
        for key in keys
        if parameters.get(key) not in (None, '')
    ]
    lines = [kind.replace('_', ' ')]
    lines += _wrap(', '.join(parts)) if parts else []
    if parameters.get('reference'):
        lines.append(f'ref. {parameters["reference"]}')
    return lines[:7]


def _amount_text(item: dict[str, Any]) -> str:
    parts = []
    if item.get('fraction') is not None:
        basis = item.get('basis') or ''
        parts.append(f'{item["fraction"] * 100:.3g} {basis}%'.replace(' %', '%'))
    for key, unit in (('mass_mg', 'mg'), ('amount_mol', 'mol'), ('volume_ml', 'mL')):
        if item.get(key) is not None:
            parts.append(f'{item[key]:.4g} {unit}')
    if item.get('parts') is not None:
        parts.append(f'{item["parts"]:g} parts')
    if item.get('role'):
        parts.append(str(item['role']).replace('_', ' '))
    return ', '.join(parts)


def _layer_text(layers: list[dict[str, Any]], material: str) -> str:
    texts = []
    for layer in layers:
        if layer.get('material') != material:
            continue
        bits = [f'{layer.get("role", "")} layer'.replace('_', ' ').strip()]
        for key, unit in (('mass_mg', 'mg'), ('thickness_um', 'µm')):
            if layer.get(key) is not None:
                bits.append(f'{layer[key]:.4g} {unit}')
        texts.append(', '.join(bits))
    return '; '.join(dict.fromkeys(texts))


#: how a result key reads on a node: (name, unit)
_RESULT_NAMES = {
    'oxidative_onset_v': ('oxidative onset', 'V'),
    'reductive_onset_v': ('reductive onset', 'V'),
    'conductivity_s_cm': ('σ', 'S/cm'),
    'activation_energy_ev': ('Ea', 'eV'),
    'conductivity_at_reference_s_cm': ('σ at reference T', 'S/cm'),
    'ccd_ma_cm2': ('CCD', 'mA/cm²'),
    'capacity_retention_percent_at_end': ('retention at end', '%'),
    'initial_discharge_capacity_mah_g_active': ('first discharge', 'mAh/g'),
    'conductivity_25c_s_cm': ('σ(25 °C)', 'S/cm'),
    'rate_constant_ohm_cm2_per_sqrt_h': ('k', 'Ω cm² h^-1/2'),
    'last_resistance_ohm_cm2': ('last R', 'Ω cm²'),
    'circuit': ('circuit', ''),
    'chi2_over_z': ('χ²/|Z|', ''),
    'diffusion_coefficient_median_cm2_s': ('median D', 'cm²/s'),
    'electronic_conductivity_s_cm': ('σ_e', 'S/cm'),
    'transference_number': ('t+', ''),
}


def _result_lines(summary: dict[str, Any], limit: int = 3) -> list[str]:
    shown = []
    for key in _RESULT_KEYS:
        value = summary.get(key)
        if value is None or isinstance(value, (dict, list, bool)):
            continue
        name, unit = _RESULT_NAMES.get(key, (key.replace('_', ' '), ''))
        shown.append(f'{name} = {_short(value)} {unit}'.rstrip() if isinstance(value, (int, float)) else f'{value}')
        if len(shown) == limit:
            break
    return shown


# ------------------------------------------------------------------------------------------------ synthesis
def _add_synthesis(graph: SampleGraph, root: orm.Node, depth: int | None) -> None:
    """The lab steps upstream of ``root`` (``depth`` steps at most), each with its inputs."""
    frontier, seen, level = [root], {root.pk}, 0
    while frontier and (depth is None or level < depth):
        level += 1
        following = []
        for sample in frontier:
            creator = sample.creator
            if creator is None or 'ssb.record.' not in (creator.process_type or ''):
                continue
            parameters = _step_parameters(creator)
            step = graph.add(f'p{creator.pk}', 'step', _step_lines(creator, parameters), [creator.pk])
            graph.link(step, f'n{sample.pk}')
            amounts = {item.get('link_label'): item for item in parameters.get('inputs', [])}
            for link in creator.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all():
                parent = link.node
                if link.link_label in _DETAIL_INPUTS or not parent.base.attributes.get('sample_id', None):
                    continue
                key = graph.add(f'n{parent.pk}', _sample_kind(parent), _sample_lines(parent), [parent.pk])
                if link.link_label in amounts:
                    label = _amount_text(amounts[link.link_label])
                else:
                    label = _layer_text(parameters.get('layers', []), parent.base.attributes.get('sample_id'))
                graph.link(key, step, label)
                if parent.pk not in seen:
                    seen.add(parent.pk)
                    following.append(parent)
        frontier = following


def _sample_kind(node: orm.Node) -> str:
    return 'cell' if node.__class__.__name__ == 'CellData' else 'material'


def _add_products(graph: SampleGraph, root: orm.Node) -> None:
    """What was made from ``root``: each product with its step, or one node naming them when there are many."""
    query = orm.QueryBuilder().append(orm.Node, filters={'id': root.pk}, tag='root')
    query.append(
        orm.CalcFunctionNode,
        with_incoming='root',
        filters={'process_type': {'like': '%ssb.record.%'}},
        project='*',
        tag='step',
    )
    query.append(orm.Data, with_incoming='step', edge_filters={'type': LinkType.CREATE.value}, project='*')
    made = query.all()
    if not made:
        return
    if len(made) > GROUP_LIMIT:
        ids = sorted(str(product.base.attributes.get('sample_id', product.pk)) for _, product in made)
        lines = [f'made into {len(made)} samples'] + _wrap(', '.join(ids[:12]) + (' …' if len(ids) > 12 else ''))
        graph.link(f'n{root.pk}', graph.add('products', 'products', lines, [p.pk for _, p in made]))
        return
    for step, product in made:
        parameters = _step_parameters(step)
        key = graph.add(f'p{step.pk}', 'step', _step_lines(step, parameters), [step.pk])
        amounts = {item.get('material'): item for item in parameters.get('inputs', [])}
        own = root.base.attributes.get('sample_id', None)
        label = _amount_text(amounts[own]) if own in amounts else _layer_text(parameters.get('layers', []), own)
        graph.link(f'n{root.pk}', key, label)
        graph.link(key, graph.add(f'n{product.pk}', _sample_kind(product), _sample_lines(product), [product.pk]))


# ------------------------------------------------------------------------------------------------ measurements
@dataclass
class _Group:
    key: str
    technique: str
    parses: list[orm.ProcessNode] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    records: list[orm.Node] = field(default_factory=list)


def _record_groups(root: orm.Node) -> tuple[list[_Group], dict[int, str]]:
    """The records of ``root`` grouped: one group per parsed file, or per technique beyond GROUP_LIMIT files.
    Returns the groups and record pk -> group key."""
    query = orm.QueryBuilder().append(orm.Node, filters={'id': root.pk}, tag='root')
    query.append(
        orm.CalcFunctionNode,
        with_incoming='root',
        edge_filters={'label': 'sample'},
        filters={'process_type': {'like': '%ssb.parse.%'}},
        project='*',
        tag='parse',
    )
    query.append(orm.Data, with_incoming='parse', edge_filters={'type': LinkType.CREATE.value}, project='*')
    by_parse: dict[int, tuple[orm.ProcessNode, list[orm.Node]]] = {}
    for parse, record in query.all():
        by_parse.setdefault(parse.pk, (parse, []))[1].append(record)
    files: dict[int, str] = {}
    if by_parse:
        raw = orm.QueryBuilder().append(
            orm.CalcFunctionNode, filters={'id': {'in': list(by_parse)}}, project='id', tag='parse'
        )
        raw.append(orm.SinglefileData, with_outgoing='parse', edge_filters={'label': 'raw'}, project='attributes')
        files = {pk: attributes.get('filename', '?') for pk, attributes in raw.all()}
    by_technique: dict[str, list[int]] = {}
    for pk, (_, records) in sorted(by_parse.items(), key=lambda item: item[1][0].ctime):
        technique = records[0].base.attributes.get('technique', None) or 'record'
        by_technique.setdefault(technique, []).append(pk)
    groups: list[_Group] = []
    membership: dict[int, str] = {}
    for technique, parse_pks in by_technique.items():
        bundles = [parse_pks] if len(parse_pks) > GROUP_LIMIT else [[pk] for pk in parse_pks]
        for bundle in bundles:
            group = _Group(f'r{bundle[0]}', technique)
            for pk in bundle:
                parse, records = by_parse[pk]
                group.parses.append(parse)
                group.records += sorted(records, key=lambda n: n.base.attributes.get('part_index', 0) or 0)
                if pk in files:
                    group.files.append(files[pk])
            for record in group.records:
                membership[pk_of(record)] = group.key
            groups.append(group)
    return groups, membership


def _range(values: list[float], unit: str) -> str | None:
    if not values:
        return None
    low, high = min(values), max(values)
    return f'{low:g} {unit}' if low == high else f'{low:g} to {high:g} {unit}'


def _record_lines(group: _Group) -> list[str]:
    count = len(group.records)
    kind = group.records[0].base.attributes.get('kind', 'record') if group.records else 'record'
    noun = {'impedance': 'spectrum', 'impedance_spectrum': 'spectrum'}.get(kind, 'record')
    if 'eis' in group.technique or kind.startswith('impedance'):
        noun = 'spectrum'
    plural = 'spectra' if noun == 'spectrum' else 'records'
    head = f'{group.technique.upper()} {noun}' if count == 1 else f'{group.technique.upper()}: {count} {plural}'
    lines = [head]
    attributes = [record.base.attributes.all for record in group.records]
    bits = []
    for key, unit, prefix in (
        ('temperature_c', '°C', ''),
        ('upper_cutoff_v', 'V', 'cut-off '),
        ('time_since_assembly_h', 'h', 'after '),
    ):
        text = _range([a[key] for a in attributes if a.get(key) is not None], unit)
        if text:
            bits.append(prefix + text)
    cycles = [a['cycle_index'] for a in attributes if a.get('cycle_index') is not None]
    if cycles:
        bits.append(f'cycle {min(cycles)}' if min(cycles) == max(cycles) else f'cycles {min(cycles)} to {max(cycles)}')
    rows = [a.get('n_rows') for a in attributes if a.get('n_rows')]
    if rows and count == 1:
        bits.append(f'{rows[0]} rows')
    lines += _wrap(', '.join(bits)) if bits else []
    return lines


def _file_lines(group: _Group) -> list[str]:
    if len(group.files) == 1:
        return ['raw file'] + _wrap(group.files[0], 40)
    shown = sorted(group.files)
    return [f'{len(shown)} raw files'] + _wrap(f'{shown[0]} … {shown[-1]}', 40)


def _analysis_kind(process: orm.ProcessNode) -> str:
    process_type = process.process_type or ''
    if 'ssb.summarise_cell' in process_type:
        return 'cell summary'
    return process_type.rsplit('.', 1)[-1]


def _add_measurements(graph: SampleGraph, root: orm.Node, depth: int | None) -> None:
    """The records of ``root`` (with their raw files), the latest run of each analysis on each record, the series
    analyses fed by those and the cell summary, to ``depth`` levels."""
    groups, membership = _record_groups(root)
    root_key = f'n{root.pk}'
    for group in groups:
        record_key = graph.add(group.key, 'record', _record_lines(group), [pk_of(r) for r in group.records])
        graph.link(root_key, record_key, 'measured')
        if group.files:
            file_key = graph.add(f'f{group.key}', 'file', _file_lines(group), [pk_of(p) for p in group.parses])
            graph.link(file_key, record_key, 'read')
    if (depth is not None and depth < 2) or not groups:
        return
    processes = _analysis_processes(root, membership)
    if not processes:
        return
    inputs = orm.QueryBuilder().append(orm.Data, project=['id'], tag='source')
    inputs.append(
        orm.CalcFunctionNode,
        with_incoming='source',
        filters={'id': {'in': list(processes)}},
        project='id',
        edge_filters={'type': LinkType.INPUT_CALC.value},
    )
    fed_by: dict[int, set[int]] = {}
    for source, target in inputs.all():
        fed_by.setdefault(target, set()).add(source)
    outputs = orm.QueryBuilder().append(
        orm.CalcFunctionNode, filters={'id': {'in': list(processes)}}, project='id', tag='process'
    )
    outputs.append(orm.Dict, with_incoming='process', edge_filters={'label': 'summary'}, project='*')
    summaries = dict(outputs.all())
    made_by = {pk_of(summary): pk for pk, summary in summaries.items()}

    # the latest run of each analysis on each set of records; earlier runs are counted, not drawn
    latest: dict[tuple[str, frozenset], orm.ProcessNode] = {}
    runs: dict[tuple[str, frozenset], int] = {}
    for process in sorted(processes.values(), key=lambda p: p.ctime):
        kind = _analysis_kind(process)
        sources = fed_by.get(pk_of(process), set())
        fed_records = frozenset(pk for pk in sources if pk in membership)
        fed_kinds = frozenset(_analysis_kind(processes[made_by[pk]]) for pk in sources if pk in made_by)
        run_key = (kind, fed_records if fed_records else fed_kinds)
        latest[run_key] = process
        runs[run_key] = runs.get(run_key, 0) + 1

    first: dict[str, list[tuple[orm.ProcessNode, int]]] = {}  # node key -> (process, runs)
    later: dict[str, list[tuple[orm.ProcessNode, int]]] = {}
    node_of: dict[int, str] = {}  # summary pk -> graph node key
    for (kind, members), process in latest.items():
        member_records = [pk for pk in members if isinstance(pk, int)]
        if member_records:
            group_key = membership[member_records[0]]
            node_key = f'a{group_key}:{kind}'
            first.setdefault(node_key, []).append((process, runs[(kind, members)]))
        else:
            node_key = f'a:{kind}'
            later.setdefault(node_key, []).append((process, runs[(kind, members)]))
        if pk_of(process) in summaries:
            node_of[pk_of(summaries[pk_of(process)])] = node_key
    for node_key, entries in first.items():
        group_key = node_key[1:].split(':', 1)[0]
        graph.add(node_key, 'analysis', _analysis_lines(entries, summaries), [pk_of(p) for p, _ in entries])
        count = len(entries)
        graph.link(group_key, node_key, f'{count} {"spectra" if count > 1 else ""}'.strip() if count > 1 else '')
    if depth is not None and depth < 3:
        return
    for node_key, entries in sorted(later.items(), key=lambda item: item[0] == 'a:cell summary'):
        if node_key == 'a:cell summary' and depth is not None and depth < 4:
            continue
        kind = 'summary' if node_key == 'a:cell summary' else 'analysis'
        graph.add(node_key, kind, _analysis_lines(entries, summaries), [pk_of(p) for p, _ in entries])
        for process, _ in entries:
            for source in fed_by.get(pk_of(process), set()):
                upstream = node_of.get(source)
                if upstream and upstream in graph.nodes and upstream != node_key:
                    graph.link(upstream, node_key)


_ANALYSIS_TYPES = {
    'or': [{'process_type': {'like': '%ssb.analyse.%'}}, {'process_type': {'like': '%ssb.summarise_cell'}}]
}


def _analysis_processes(root: orm.Node, membership: dict[int, str]) -> dict[int, orm.ProcessNode]:
    """Every analysis run on the records of ``root``, those fed by their summaries (series analyses), and the
    summaries of ``root`` as a cell, by pk. Analyses of other samples that merely take ``root`` as an input (the
    cells of an electrolyte material) are not its analyses."""
    found: dict[int, orm.ProcessNode] = {}
    sources = list(membership)
    for _ in range(5):  # records -> analyses -> series analyses -> ...
        if not sources:
            break
        query = orm.QueryBuilder().append(orm.Data, filters={'id': {'in': sources}}, tag='source')
        query.append(
            orm.CalcFunctionNode,
            with_incoming='source',
            edge_filters={'type': LinkType.INPUT_CALC.value},
            filters=_ANALYSIS_TYPES,
            project='*',
        )
        new = {process.pk: process for process in query.all(flat=True) if process.pk not in found}
        if not new:
            break
        found.update(new)
        outputs = orm.QueryBuilder().append(orm.CalcFunctionNode, filters={'id': {'in': list(new)}}, tag='process')
        outputs.append(orm.Dict, with_incoming='process', edge_filters={'label': 'summary'}, project='id')
        sources = outputs.all(flat=True)
    summary = orm.QueryBuilder().append(orm.Node, filters={'id': root.pk}, tag='root')
    summary.append(
        orm.CalcFunctionNode,
        with_incoming='root',
        edge_filters={'label': 'cell'},
        filters={'process_type': {'like': '%ssb.summarise_cell'}},
        project='*',
    )
    found.update({process.pk: process for process in summary.all(flat=True)})
    return found


def _analysis_lines(entries: list[tuple[orm.ProcessNode, int]], summaries: dict[int, orm.Dict]) -> list[str]:
    """An analysis node: its kind (with the count of records it ran on), then the headline numbers of one run or
    the quality tally of many, then how many earlier runs are not drawn."""
    kind = _analysis_kind(entries[0][0]).replace('_', ' ')
    values = [summaries[p.pk].get_dict() for p, _ in entries if p.pk in summaries]
    lines = [kind if len(entries) == 1 else f'{kind} × {len(entries)}']
    if len(values) == 1:
        lines += _result_lines(values[0])
    elif values:
        for key in _RESULT_KEYS:  # the range of the first headline number they all have
            numbers = [value.get(key) for value in values]
            if all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
                name, unit = _RESULT_NAMES.get(key, (key.replace('_', ' '), ''))
                low, high = min(numbers), max(numbers)
                lines.append(f'{name} = {_short(low)} to {_short(high)} {unit}'.rstrip())
                break
        tally: dict[str, int] = {}
        for value in values:
            quality = value.get('quality') or (
                None if 'accepted' not in value else ('good' if value['accepted'] else 'rejected')
            )
            if quality:
                tally[quality] = tally.get(quality, 0) + 1
        if tally:
            lines.append(', '.join(f'{count} {quality}' for quality, count in sorted(tally.items())))
    earlier = sum(count - 1 for _, count in entries)
    if earlier:
        lines.append(f'(+{earlier} earlier run{"s" if earlier > 1 else ""}, not drawn)')
    return lines


def sample_graph(node: orm.Node, *, depth: int | None = None, what: str = 'all') -> SampleGraph:
    """The graph of a sample: its synthesis history (``what='synthesis'``: ``depth`` lab steps upstream), its
    measurements and analyses (``'measurements'``: ``depth`` levels downstream: 1 records and raw files, 2 the
    analyses of the records, 3 the series analyses, 4 the cell summary; a material's products are drawn at level
    1), or both (``'all'``)."""
    if what not in ('synthesis', 'measurements', 'all'):
        raise InputError(f'what={what!r}: choose synthesis, measurements or all')
    if depth is not None and depth < 1:
        raise InputError(f'depth {depth}: at least 1 (or leave it out for the whole graph)')
    graph = SampleGraph(root=f'n{node.pk}')
    graph.add(f'n{node.pk}', _sample_kind(node), _sample_lines(node), [pk_of(node)])
    if what in ('synthesis', 'all'):
        _add_synthesis(graph, node, depth)
    if what in ('measurements', 'all'):
        _add_measurements(graph, node, depth)
        if _sample_kind(node) == 'material':
            _add_products(graph, node)
    return graph


def write_graph(graph, path: str | os.PathLike[str], *, force: bool = False) -> str:
    """Write a graph: ``.dot`` as source; ``.svg``/``.png``/``.pdf`` rendered with Graphviz.

    Only ``path`` is written: Graphviz renders in a temporary folder beside it (its intermediate DOT file stays
    there) and the result is moved into place. An existing ``path`` is refused unless ``force``; a folder is
    never replaced. Without Graphviz's ``dot``, :class:`GraphvizMissingError` says how to get the source
    (``-o NAME.dot``) and nothing is written."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower().lstrip('.')
    if extension not in ('svg', 'png', 'pdf', 'dot'):
        raise InputError(f'{path}: unsupported graph format {extension or "(none)"}; use .svg, .png, .pdf or .dot')
    check_output_file(path, force=force)
    if extension != 'dot' and shutil.which('dot') is None:
        raise GraphvizMissingError(
            f'Graphviz (dot) is not installed, so {path} could not be rendered and nothing was written: install '
            'graphviz (e.g. apt-get install graphviz), or write the graph source with -o NAME.dot and render it '
            f'elsewhere with `dot -T{extension} NAME.dot -o {os.path.basename(path)}`'
        )
    with output_file(path, force=force) as temporary:
        if extension == 'dot':
            with open(temporary, 'w', encoding='utf-8') as handle:
                handle.write(graph.graphviz.source)
        else:
            folder = os.path.dirname(temporary)
            rendered = graph.graphviz.render(filename='graph', directory=folder, format=extension, cleanup=True)
            os.replace(rendered, temporary)
    return path
