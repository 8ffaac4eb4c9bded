"""Provenance graphs of samples with readable labels, on AiiDA's graph tools.

Nodes are labelled by what a battery scientist reads: sample ids and roles, the kind of each lab step with
its key parameters, the technique and conditions of each record, the headline numbers of each analysis.
Rendering needs the Graphviz ``dot`` binary; without it only the ``.dot`` source can be written.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from aiida import orm
from aiida.tools.visualization import Graph

from aiida_ssb.exceptions import InputError, SsbError
from aiida_ssb.outputs import check_output_file, output_file
from aiida_ssb.query.history import process_summary

__all__ = ['GraphvizMissingError', 'node_sublabel', 'sample_graph', 'write_graph']

#: analysis-summary keys shown on result nodes, in order
_RESULT_KEYS = (
    'oxidative_onset_v',
    'reductive_onset_v',
    'conductivity_s_cm',
    'activation_energy_ev',
    'conductivity_at_reference_s_cm',
    'ccd_ma_cm2',
    'capacity_retention_percent_at_end',
    'initial_discharge_capacity_mah_g_active',
    'chi2_over_z',
    'rate_constant_ohm_cm2_per_sqrt_h',
    'conductivity_25c_s_cm',
    'capacity_retention_percent_at_100',
)


class GraphvizMissingError(SsbError, RuntimeError):
    """The Graphviz ``dot`` binary is not installed."""


def _short(value: Any) -> str:
    return f'{value:.4g}' if isinstance(value, float) else str(value)


def node_sublabel(node: orm.Node) -> str:
    """The second label line of a node."""

    attributes = node.base.attributes.all
    name = node.__class__.__name__
    if name == 'MaterialData':
        text = f'{attributes.get("sample_id")}\n{attributes.get("role")}'
        if attributes.get('name'):
            text += f': {attributes["name"]}'
        return text
    if name == 'CellData':
        text = f'{attributes.get("sample_id")}\n{attributes.get("format")} cell'
        if attributes.get('mass_loading_mg_cm2') is not None:
            text += f', {attributes["mass_loading_mg_cm2"]:.3g} mg/cm2'
        if attributes.get('stack_pressure_mpa') is not None:
            text += f', {attributes["stack_pressure_mpa"]:.3g} MPa'
        return text
    if isinstance(node, orm.ProcessNode):
        process_type = node.process_type or ''
        if 'ssb.record.' in process_type:
            return process_summary(node).replace(' (', '\n(')
        return node.label or node.process_label or ''
    if attributes.get('technique') and attributes.get('kind'):
        bits = [attributes['technique']]
        for key, unit in (
            ('temperature_c', '°C'),
            ('cycle_index', 'cycle'),
            ('upper_cutoff_v', 'V'),
            ('time_since_assembly_h', 'h'),
        ):
            if attributes.get(key) is not None:
                bits.append(f'{_short(attributes[key])} {unit}' if unit != 'cycle' else f'cycle {attributes[key]}')
        return ', '.join(bits) + f'\n{attributes.get("n_rows", "?")} rows'
    if isinstance(node, orm.SinglefileData):
        return node.filename
    if isinstance(node, orm.Dict) and attributes.get('analysis'):
        shown = [f'{key} {_short(attributes[key])}' for key in _RESULT_KEYS if attributes.get(key) is not None][:3]
        return attributes['analysis'] + ('\n' + '\n'.join(shown) if shown else '')
    if isinstance(node, orm.Dict) and 'sources' in attributes:
        shown = [f'{key} {_short(value)}' for key, value in attributes.items() if isinstance(value, float)][:4]
        return 'cell summary\n' + '\n'.join(shown)
    return ''


def _style(node: orm.Node) -> dict[str, str]:
    name = node.__class__.__name__
    if name in ('MaterialData', 'CellData'):
        return {
            'shape': 'ellipse',
            'style': 'filled',
            'fillcolor': '#dbe9f6' if name == 'MaterialData' else '#b9d4ee',
            'penwidth': '1',
        }
    if isinstance(node, orm.ProcessNode):
        process_type = node.process_type or ''
        colour = '#fde2c8' if 'ssb.record.' in process_type else '#eadcf4'
        return {
            'shape': 'box' if 'ssb.record.' in process_type else 'rectangle',
            'style': 'filled,rounded',
            'fillcolor': colour,
            'penwidth': '1',
        }
    return {'shape': 'note', 'style': 'filled', 'fillcolor': '#e4f2dd', 'penwidth': '1'}


def sample_graph(node: orm.Node, *, depth: int | None = None, what: str = 'all'):
    """The graph of a sample: its synthesis history (ancestors), its measurements and analyses (descendants),
    or both (``what``: synthesis, measurements, all), to ``depth`` links."""

    if what not in ('synthesis', 'measurements', 'all'):
        raise InputError(f'what={what!r}: choose synthesis, measurements or all')
    graph = Graph(
        node_sublabel_fn=node_sublabel,
        node_style_fn=_style,
        graph_attr={'rankdir': 'TB', 'fontsize': '10'},
        global_node_style={'fontsize': '9', 'fontname': 'Helvetica'},
    )
    if what in ('synthesis', 'all'):
        graph.recurse_ancestors(node, depth=depth, link_types=('input_calc', 'create'), annotate_links='label')
    if what in ('measurements', 'all'):
        graph.recurse_descendants(node, depth=depth, annotate_links='label', include_process_inputs=False)
    graph.add_node(node, style_override={'penwidth': '3'})
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
