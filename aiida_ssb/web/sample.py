"""A sample's page: record, layers, derived values, history, headline numbers, every analysis' latest result
with its interval, quality and flags, interactive plots, raw files, analysis runs and their comparison."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from dash import Input, Output, State, dcc, html, no_update

from aiida_ssb.exceptions import SsbError
from aiida_ssb.query.overview import analysis_runs, compare_runs, overview, raw_files
from aiida_ssb.query.plotdata import PLOT_KINDS, available_plots, plot_data, spectra_of
from aiida_ssb.web.figures import empty_figure, figure_of


def _text(value: Any) -> str:
    if value is None:
        return ''
    if isinstance(value, float):
        return f'{value:.5g}'
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def kv_table(items: dict[str, Any], header: tuple[str, str] | None = None):
    rows = [html.Tr([html.Td(key), html.Td(_text(value), className='num')]) for key, value in items.items()]
    head = [html.Tr([html.Th(header[0]), html.Th(header[1])])] if header else []
    return html.Table(head + rows, className='kv')


def rows_table(rows: list[dict[str, Any]], columns: list[str] | None = None, *, class_name: str = 'kv'):
    if not rows:
        return html.P('(none)')
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    return html.Table(
        [html.Tr([html.Th(c) for c in columns])]
        + [html.Tr([html.Td(_text(row.get(c))) for c in columns]) for row in rows],
        className=class_name,
    )


def _result_card(result):
    values = [
        html.Tr([html.Td(key), html.Td(_text(value), className='num'), html.Td(result.intervals.get(key, ''))])
        for key, value in result.values.items()
    ]
    flags = [
        html.Li(
            [
                html.Span('✓ ' if flag['passed'] else '✗ ', className='flag-ok' if flag['passed'] else 'flag-bad'),
                html.B(flag['name']),
                f' {flag["reason"]}' if flag['reason'] else '',
            ]
        )
        for flag in result.flags
    ]
    return html.Details(
        [
            html.Summary(
                [
                    html.B(result.analysis),
                    f' · method {result.method} · {result.created}',
                    html.Span(
                        f' {sum(1 for f in result.flags if not f["passed"])} flag(s)',
                        className='flag-bad',
                    )
                    if any(not f['passed'] for f in result.flags)
                    else '',
                ]
            ),
            html.Table([html.Tr([html.Th('value'), html.Th(''), html.Th('interval')])] + values, className='kv'),
            html.H4('quality') if result.quality else None,
            kv_table(result.quality) if result.quality else None,
            html.H4('flags') if flags else None,
            html.Ul(flags) if flags else None,
        ],
        className='card',
        open=bool(result.flags),
    )


def layout(sample_id: str):
    try:
        info = overview(sample_id)
    except SsbError as exc:
        return html.Div([html.H1('Unknown sample'), html.Div(str(exc), className='error')])
    quoted = urllib.parse.quote(sample_id, safe='')
    plots = available_plots(sample_id)
    runs = analysis_runs(sample_id) if info.kind == 'cell' else []
    files = raw_files(sample_id)
    left = [
        html.Div([html.H2('Record'), kv_table(info.record)], className='card'),
    ]
    if info.derived:
        left.append(html.Div([html.H2('Derived values'), kv_table(info.derived)], className='card'))
    if info.layers:
        left.append(
            html.Div(
                [
                    html.H2('Layers'),
                    rows_table(
                        [{k: v for k, v in layer.items() if not isinstance(v, (dict, list))} for layer in info.layers]
                    ),
                ],
                className='card',
            )
        )
    if info.fabrication:
        left.append(html.Div([html.H2('Fabrication'), rows_table(info.fabrication)], className='card'))
    if info.composition:
        left.append(html.Div([html.H2('Nominal composition'), rows_table(info.composition)], className='card'))
    left.append(
        html.Div([html.H2('History'), html.Pre('\n'.join(info.history), className='history')], className='card')
    )
    right = [
        html.Div(
            [
                html.H2('Headline numbers (query index)'),
                kv_table(info.index) if info.index else html.P('not analysed yet'),
            ],
            className='card',
        ),
        html.H2('Latest results'),
    ] + ([_result_card(result) for result in info.results] or [html.P('no analysis results')])
    plot_section = _plot_section(plots)
    run_section = _run_section(runs)
    file_section = _file_section(files)
    badges = [html.Span(c, className='badge') for c in info.campaigns]
    header = html.Div(
        [
            html.H1([f'{sample_id} ', html.Span(info.kind, className='badge'), *badges]),
            html.A('Provenance graph', href=f'/graph/{quoted}', className='button', id='sample-graph-link'),
            html.A('Compare', href=f'/compare?cells={quoted}', className='button', style={'marginLeft': '8px'})
            if info.kind == 'cell'
            else None,
            html.Span(f'  pk {info.pk} · uuid {info.uuid}', className='status'),
        ]
    )
    return html.Div(
        [
            header,
            dcc.Store(id='sample-id', data=sample_id),
            dcc.Store(id='sample-plots', data=plots),
            html.Div([html.Div(left, className='col'), html.Div(right, className='col')], className='row'),
        ]
        + plot_section
        + file_section
        + run_section
    )


def _plot_section(plots: dict[str, list[str]]) -> list[Any]:
    """The plots card: a tab per plot kind, the record and cycle choosers, the graph."""

    if not plots:
        return []
    return [
        html.H2('Plots'),
        html.Div(
            [
                dcc.Tabs(
                    id='sample-plot-kind',
                    value=next(iter(plots)),
                    children=[dcc.Tab(label=PLOT_KINDS[kind].split(' with')[0], value=kind) for kind in plots],
                ),
                html.Div(
                    [
                        html.Label('record / spectrum'),
                        dcc.Dropdown(id='sample-plot-index', clearable=False, style={'width': '420px'}),
                        html.Label('cycles (voltage profiles)'),
                        dcc.Input(id='sample-plot-cycles', type='text', placeholder='e.g. 1, 2, 50', className='text'),
                    ],
                    className='controls',
                    style={'margin': '8px 0'},
                ),
                dcc.Loading(dcc.Graph(id='sample-plot', config={'displaylogo': False})),
            ],
            className='card',
        ),
    ]


def _run_section(runs: list[dict[str, Any]]) -> list[Any]:
    """The analysis history of a cell: its runs and a comparison of two of them."""
    if not runs:
        return []
    options = [{'label': f'<{run["pk"]}> {run["created"]} ({run["state"]})', 'value': run['uuid']} for run in runs]
    return [
        html.H2('Analysis history'),
        html.Div(
            [
                rows_table(
                    [
                        {
                            'pk': r['pk'],
                            'created': r['created'],
                            'state': r['state'],
                            'plugin': r['version'],
                            'options': r['options'],
                        }
                        for r in runs
                    ]
                ),
                html.H3('Compare two runs'),
                html.Div(
                    [
                        dcc.Dropdown(
                            id='runs-old',
                            options=options,
                            value=runs[min(1, len(runs) - 1)]['uuid'],
                            style={'width': '380px'},
                        ),
                        dcc.Dropdown(id='runs-new', options=options, value=runs[0]['uuid'], style={'width': '380px'}),
                    ],
                    className='controls',
                ),
                html.Div(id='runs-diff'),
            ],
            className='card',
        ),
    ]


def _file_section(files: list[dict[str, Any]]) -> list[Any]:
    """The raw files with their technique, records and conditions."""
    return [
        html.H2('Raw files'),
        html.Div(
            [
                html.Ul(
                    [
                        html.Li(
                            [
                                html.A(item['filename'], href=f'/download/raw/{item["uuid"]}', className='raw-link'),
                                f' · {item["technique"]} · {item["records"]} record(s) · '
                                + ', '.join(f'{k}={_text(v)}' for k, v in item['conditions'].items()),
                            ]
                        )
                        for item in files
                    ]
                )
                if files
                else html.P('(no raw files)')
            ],
            className='card',
        ),
    ]


def _cycles(text: str | None) -> list[int] | None:
    if not text:
        return None
    found = []
    for part in text.replace(';', ',').split(','):
        part = part.strip()
        if part.isdigit():
            found.append(int(part))
    return found or None


def register(app) -> None:
    @app.callback(
        Output('sample-plot-index', 'options'),
        Output('sample-plot-index', 'value'),
        Input('sample-plot-kind', 'value'),
        State('sample-plots', 'data'),
        State('sample-id', 'data'),
    )
    def choices(kind, plots, sample_id):
        if not kind or not plots:
            return [], None
        if kind in ('nyquist', 'bode'):
            labels = [entry['label'] for entry in spectra_of(sample_id)]
            return [{'label': label, 'value': index} for index, label in enumerate(labels)], 0
        entries = plots.get(kind, [''])
        return [{'label': f'record {i}' if e else '(one)', 'value': i} for i, e in enumerate(entries)], 0

    @app.callback(Output('sample-plot-cycles', 'style'), Input('sample-plot-kind', 'value'))
    def cycles_box(kind):
        return {} if kind == 'profiles' else {'display': 'none'}

    @app.callback(
        Output('sample-plot', 'figure'),
        Input('sample-plot-kind', 'value'),
        Input('sample-plot-index', 'value'),
        Input('sample-plot-cycles', 'value'),
        State('sample-id', 'data'),
    )
    def draw(kind, index, cycles, sample_id):
        if not kind:
            return empty_figure('no plot')
        try:
            return figure_of(plot_data(sample_id, kind, index or 0, cycles=_cycles(cycles)))
        except (SsbError, KeyError, ValueError) as exc:
            return empty_figure(f'cannot draw {kind}: {exc}')

    @app.callback(
        Output('runs-diff', 'children'),
        Input('runs-old', 'value'),
        Input('runs-new', 'value'),
        State('sample-id', 'data'),
    )
    def diff(old_uuid, new_uuid, sample_id):
        if not old_uuid or not new_uuid:
            return no_update
        runs = {run['uuid']: run for run in analysis_runs(sample_id)}
        if old_uuid not in runs or new_uuid not in runs:
            return html.P('run not found')
        if old_uuid == new_uuid:
            return html.P('Choose two different runs (the page shows the numbers of both and what changed).')
        result = compare_runs(runs[old_uuid], runs[new_uuid])
        changed = [row for row in result['numbers'] if row['change'] != 'same']
        return html.Div(
            [
                html.P(f'{len(changed)} of {len(result["numbers"])} numbers changed.'),
                rows_table(result['numbers']),
                html.H4('options that differ'),
                rows_table(result['options']) if result['options'] else html.P('unchanged'),
                html.H4('plugin version'),
                rows_table(result['version']) if result['version'] else html.P('unchanged'),
            ]
        )
