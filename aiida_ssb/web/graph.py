"""The provenance graph of a sample: Cytoscape, expanded upstream/downstream on demand, collapsed workflows and
grouped spectra, a node's parameters on click, the path between two nodes highlighted."""

from __future__ import annotations

import itertools
import urllib.parse

import dash_cytoscape as cyto
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.development.base_component import Component

from aiida_ssb.exceptions import SsbError
from aiida_ssb.query.provenance import _graph_node, _load, expand, node_details, path_between, sample_graph
from aiida_ssb.web.sample import kv_table

# the dagre layout (ranked, top to bottom) ships in dash-cytoscape's extra bundle, served locally; it must be
# chosen before the app serves its scripts
cyto.load_extra_layouts()

COLOURS = {
    'cell': '#7fb0e0',
    'material': '#cfe2f5',
    'step': '#fbc99a',
    'parse': '#e6e6e6',
    'analysis': '#d9c2ec',
    'workflow': '#bfa2dc',
    'process': '#e6e6e6',
    'measurement': '#cde8c0',
    'result': '#9fd49a',
    'file': '#f3e7a8',
    'group': '#b7dfb0',
    'data': '#eeeeee',
}

STYLESHEET = [
    {
        'selector': 'node',
        'style': {
            'label': 'data(label)',
            'font-size': 10,
            'text-wrap': 'wrap',
            'text-max-width': 130,
            'line-height': 1.2,
            'text-valign': 'center',
            'background-color': 'data(colour)',
            'border-width': 1,
            'border-color': '#6b7785',
            'padding': 8,
            'width': 'data(w)',
            'height': 'data(h)',
            'shape': 'round-rectangle',
        },
    },
    {'selector': 'node[kind = "cell"], node[kind = "material"]', 'style': {'shape': 'ellipse', 'padding': 10}},
    {'selector': 'node[kind = "group"]', 'style': {'shape': 'round-tag', 'border-style': 'dashed'}},
    {'selector': 'node.root', 'style': {'border-width': 3, 'border-color': '#1f3b57'}},
    {'selector': 'node:selected', 'style': {'border-width': 3, 'border-color': '#d55e00'}},
    {'selector': 'node.path', 'style': {'border-width': 4, 'border-color': '#d55e00', 'background-color': '#ffd7b3'}},
    {'selector': 'node.start', 'style': {'border-style': 'double', 'border-width': 5, 'border-color': '#d55e00'}},
    {
        'selector': 'edge',
        'style': {
            'curve-style': 'bezier',
            'target-arrow-shape': 'triangle',
            'width': 1.2,
            'line-color': '#9aa5b1',
            'target-arrow-color': '#9aa5b1',
            'label': 'data(label)',
            'font-size': 8,
            'color': '#6b7785',
        },
    },
    {'selector': 'edge.path', 'style': {'width': 3.5, 'line-color': '#d55e00', 'target-arrow-color': '#d55e00'}},
]


def _elements(nodes: list[dict], edges: list[dict], root: str | None = None) -> list[dict]:
    elements = []
    for node in nodes:
        label = node['label']
        if node['kind'] in ('step',) and node.get('detail'):
            detail = node['detail'].replace(' (', '\n', 1).rstrip(')')
            label = detail if len(detail) <= 70 else detail[:68].rstrip(', ') + '…'
        elements.append(
            {
                'data': {
                    'id': node['id'],
                    'label': label,
                    'kind': node['kind'],
                    'colour': COLOURS.get(node['kind'], '#eeeeee'),
                    'sample_id': node.get('sample_id'),
                    'members': node.get('members') or [],
                    'detail': node.get('detail', ''),
                    'w': max(40, min(130, 6 * max(len(line) for line in label.split('\n')))),
                    'h': 13 * sum(1 + len(line) // 22 for line in label.split('\n')),
                },
                'classes': 'root' if node['id'] == root else '',
            }
        )
    for edge in edges:
        elements.append(
            {
                'data': {
                    'id': f'{edge["source"]}->{edge["target"]}',
                    'source': edge['source'],
                    'target': edge['target'],
                    'label': edge.get('label', ''),
                }
            }
        )
    return elements


def _merge(elements: list[dict], new: list[dict]) -> list[dict]:
    ids = {element['data']['id'] for element in elements}
    merged = list(elements)
    for element in new:
        if element['data']['id'] not in ids:
            merged.append(element)
            ids.add(element['data']['id'])
    # drop edges whose ends are gone (a group replaced by its members keeps its edges only if both ends exist)
    nodes = {e['data']['id'] for e in merged if 'source' not in e['data']}
    return [
        e
        for e in merged
        if 'source' not in e['data'] or (e['data']['source'] in nodes and e['data']['target'] in nodes)
    ]


def layout(sample_id: str):
    try:
        nodes, edges = sample_graph(sample_id)
    except SsbError as exc:
        return html.Div([html.H1('Unknown sample'), html.Div(str(exc), className='error')])
    root = next((n['id'] for n in nodes if n.get('sample_id') == sample_id), None)
    quoted = urllib.parse.quote(sample_id, safe='')
    legend = html.Div(
        [html.Span([html.I(style={'background': colour}), kind]) for kind, colour in COLOURS.items() if kind != 'data'],
        className='legend',
    )
    return html.Div(
        [
            html.H1(['Provenance of ', html.A(sample_id, href=f'/sample/{quoted}', className='sample-link')]),
            html.P(
                'Click a node for its parameters; expand it upstream (what it was made from) or downstream (what was '
                'made or measured from it). Mark a lab step as the start, click a result, and highlight the path.',
                className='status',
            ),
            legend,
            html.Div(
                [
                    dcc.Checklist(
                        id='graph-collapse',
                        options=[{'label': ' collapse workflow internals', 'value': 'collapse'}],
                        value=['collapse'],
                        inline=True,
                    ),
                    html.Button('Reset view', id='graph-reset', n_clicks=0, className='secondary'),
                ],
                className='controls',
            ),
            dcc.Store(id='graph-root', data=sample_id),
            dcc.Store(id='graph-start'),
            html.Div(
                [
                    html.Div(
                        cyto.Cytoscape(
                            id='graph-view',
                            elements=_elements(nodes, edges, root),
                            layout={'name': 'dagre', 'rankDir': 'TB', 'nodeSep': 25, 'rankSep': 45, 'animate': False},
                            stylesheet=STYLESHEET,
                            style={
                                'width': '100%',
                                'height': '680px',
                                'background': 'white',
                                'border': '1px solid #dde3ea',
                            },
                            minZoom=0.15,
                            maxZoom=3,
                            boxSelectionEnabled=False,
                        ),
                        style={'flex': '3 1 600px', 'minWidth': 0},
                    ),
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Button('Expand upstream', id='graph-up', n_clicks=0),
                                    html.Button('Expand downstream', id='graph-down', n_clicks=0),
                                    html.Button(
                                        'Expand members', id='graph-members', n_clicks=0, className='secondary'
                                    ),
                                ],
                                className='controls',
                            ),
                            html.Div(
                                [
                                    html.Button(
                                        'Mark as path start', id='graph-mark', n_clicks=0, className='secondary'
                                    ),
                                    html.Button('Highlight path to here', id='graph-path', n_clicks=0),
                                ],
                                className='controls',
                                style={'marginTop': '6px'},
                            ),
                            html.Div(id='graph-message', className='status'),
                            html.Div(id='graph-details', className='detail-panel card', style={'marginTop': '8px'}),
                        ],
                        style={'flex': '1 1 320px', 'minWidth': '300px'},
                    ),
                ],
                className='row',
            ),
        ]
    )


def _details(identifier: str, data: dict):
    if identifier.startswith('group:'):
        return html.Div(
            [
                html.H3(data.get('label', 'group')),
                html.P(data.get('detail', '')),
                html.P(f'{len(data.get("members", []))} members; "Expand members" shows them (up to 40).'),
            ]
        )
    info = node_details(identifier)
    parts: list[Component | None] = [
        html.H3(info['label']),
        html.P([html.Span(info['kind'], className='badge'), f'{info["class"]} · pk {info["pk"]} · {info["created"]}']),
        html.P(info['detail']) if info['detail'] else None,
    ]
    if info.get('sample_id'):
        quoted = urllib.parse.quote(info['sample_id'], safe='')
        parts.append(
            html.A(
                f'Open the page of {info["sample_id"]}',
                href=f'/sample/{quoted}',
                className='button',
                id='graph-open-sample',
            )
        )
    if info.get('filename'):
        parts.append(html.A(f'Download {info["filename"]}', href=f'/download/raw/{info["uuid"]}', className='button'))
    for name, values in info['parameters'].items():
        parts += [html.H4(name), kv_table(dict(values.items()))]
    if info['attributes']:
        parts += [html.H4('attributes'), kv_table(info['attributes'])]
    parts.append(html.P(f'uuid {info["uuid"]}', className='status'))
    return html.Div(parts)


def register(app) -> None:
    @app.callback(Output('graph-details', 'children'), Input('graph-view', 'tapNodeData'), prevent_initial_call=True)
    def show(data):
        if not data:
            return no_update
        try:
            return _details(data['id'], data)
        except SsbError as exc:
            return html.Div(str(exc), className='error')

    @app.callback(
        Output('graph-view', 'elements'),
        Output('graph-message', 'children'),
        Output('graph-start', 'data'),
        Input('graph-up', 'n_clicks'),
        Input('graph-down', 'n_clicks'),
        Input('graph-members', 'n_clicks'),
        Input('graph-mark', 'n_clicks'),
        Input('graph-path', 'n_clicks'),
        Input('graph-reset', 'n_clicks'),
        Input('graph-collapse', 'value'),
        State('graph-view', 'tapNodeData'),
        State('graph-view', 'elements'),
        State('graph-start', 'data'),
        State('graph-root', 'data'),
        prevent_initial_call=True,
    )
    def act(_up, _down, _members, _mark, _path, _reset, collapse_value, selected, elements, start, root_id):
        trigger = ctx.triggered_id
        collapse = 'collapse' in (collapse_value or [])
        if trigger in ('graph-reset', 'graph-collapse'):
            nodes, edges = sample_graph(root_id, collapse=collapse)
            root = next((n['id'] for n in nodes if n.get('sample_id') == root_id), None)
            return _elements(nodes, edges, root), f'{len(nodes)} nodes', None
        if not selected:
            return no_update, 'Click a node first.', no_update
        identifier = selected['id']
        try:
            if trigger in ('graph-up', 'graph-down'):
                if identifier.startswith('group:'):
                    return no_update, 'A group: use "Expand members" first.', no_update
                nodes, edges = expand(
                    identifier, 'upstream' if trigger == 'graph-up' else 'downstream', collapse=collapse
                )
                merged = _merge(elements, _elements(nodes, edges))
                return merged, f'{len(merged) - len(elements)} elements added', no_update
            if trigger == 'graph-members':
                if not identifier.startswith('group:'):
                    return no_update, 'Not a group node.', no_update
                return _expand_members(elements, selected), 'members shown', no_update
            if trigger == 'graph-mark':
                marked = [_with_class(e, 'start', e['data']['id'] == identifier) for e in elements]
                return marked, f'path start: {selected.get("label", identifier)}', identifier
            if trigger == 'graph-path':
                if not start:
                    return no_update, 'Mark a start node first (e.g. a ball-milling step).', no_update
                if start.startswith('group:') or identifier.startswith('group:'):
                    return no_update, 'Choose single nodes, not groups.', no_update
                path = path_between(start, identifier, collapse=collapse)
                if not path:
                    path = path_between(identifier, start, collapse=collapse)
                if not path:
                    return no_update, 'No provenance path between these two nodes.', no_update
                return _highlight(elements, path), f'path of {len(path)} provenance steps highlighted', no_update
        except SsbError as exc:
            return no_update, str(exc), no_update
        return no_update, no_update, no_update


def _with_class(element: dict, name: str, on: bool) -> dict:
    classes = {c for c in element.get('classes', '').split() if c and c != name}
    if on:
        classes.add(name)
    return dict(element, classes=' '.join(sorted(classes)))


def _expand_members(elements: list[dict], group: dict) -> list[dict]:
    group_id = group['id']
    edges = [e for e in elements if e['data'].get('source') == group_id or e['data'].get('target') == group_id]
    nodes, new_edges = [], []
    for uuid in group.get('members', [])[:40]:
        node = _graph_node(_load(uuid)).to_dict()
        nodes.append(node)
        for edge in edges:
            source = uuid if edge['data']['source'] == group_id else edge['data']['source']
            target = uuid if edge['data']['target'] == group_id else edge['data']['target']
            new_edges.append({'source': source, 'target': target, 'label': ''})
    remaining = [e for e in elements if e['data']['id'] != group_id]
    return _merge(remaining, _elements(nodes, new_edges))


def _highlight(elements: list[dict], path: list[dict]) -> list[dict]:
    """Mark the path's nodes and edges; nodes the view does not show yet are added (a member of a shown group
    stands for itself through its group)."""
    members = {}
    for element in elements:
        for uuid in element['data'].get('members') or []:
            members[uuid] = element['data']['id']
    shown = {e['data']['id'] for e in elements}
    chain: list[str] = []
    added_nodes = []
    for step in path:
        display = step['display']
        if display not in shown and step['uuid'] in members:
            display = members[step['uuid']]
        if display not in shown:
            added_nodes.append(step['node'])
            shown.add(display)
        if not chain or chain[-1] != display:
            chain.append(display)
    pairs = list(itertools.pairwise(chain))
    merged = _merge(elements, _elements(added_nodes, [{'source': a, 'target': b, 'label': ''} for a, b in pairs]))
    on_path = set(chain)
    edge_ids = {f'{a}->{b}' for a, b in pairs}
    result = []
    for element in merged:
        data = element['data']
        flag = data['id'] in on_path if 'source' not in data else data['id'] in edge_ids
        result.append(_with_class(element, 'path', flag))
    return result
