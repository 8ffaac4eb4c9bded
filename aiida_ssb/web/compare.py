"""Several cells side by side: their curves overlaid, and the facts of their histories that differ."""

from __future__ import annotations

import urllib.parse

from dash import Input, Output, State, dcc, html

from aiida_ssb.exceptions import SsbError
from aiida_ssb.query.overview import history_differences, sample_ids_like
from aiida_ssb.query.plotdata import overlay
from aiida_ssb.web.figures import empty_figure, figure_of
from aiida_ssb.web.sample import rows_table

OVERLAYS = ('retention', 'capacity', 'nyquist', 'arrhenius')


def layout(sample_ids: list[str]):
    return html.Div(
        [
            html.H1('Compare cells'),
            html.Div(
                [
                    html.Label('Cells (type to search)'),
                    dcc.Dropdown(
                        id='compare-cells',
                        options=[{'label': s, 'value': s} for s in sample_ids],
                        value=sample_ids,
                        multi=True,
                        placeholder='type part of a sample id',
                        style={'width': '720px'},
                    ),
                    dcc.Checklist(
                        id='compare-all',
                        options=[{'label': ' show facts that are the same too', 'value': 'all'}],
                        value=[],
                    ),
                ],
                className='card',
            ),
            html.Div(id='compare-links', className='status'),
            dcc.Loading(html.Div(id='compare-plots', className='row')),
            html.H2('Differences in their histories'),
            dcc.Loading(html.Div(id='compare-table', className='card')),
        ]
    )


def register(app) -> None:
    @app.callback(
        Output('compare-cells', 'options'),
        Input('compare-cells', 'search_value'),
        State('compare-cells', 'value'),
    )
    def search(text, chosen):
        found = sample_ids_like(text or '', cells_only=True)
        ids = list(dict.fromkeys(list(chosen or []) + found))
        return [{'label': s, 'value': s} for s in ids]

    @app.callback(
        Output('compare-plots', 'children'),
        Output('compare-table', 'children'),
        Output('compare-links', 'children'),
        Input('compare-cells', 'value'),
        Input('compare-all', 'value'),
    )
    def compare(sample_ids, show_all):
        sample_ids = list(sample_ids or [])
        if not sample_ids:
            return [], html.P('Choose cells above.'), ''
        graphs = []
        for kind in OVERLAYS:
            try:
                data = overlay(sample_ids, kind)
            except SsbError as exc:
                graphs.append(dcc.Graph(figure=empty_figure(str(exc))))
                continue
            if any(panel.series for panel in data.panels):
                graphs.append(
                    html.Div(dcc.Graph(figure=figure_of(data), config={'displaylogo': False}), className='col card')
                )
        try:
            rows = history_differences(sample_ids, only_different='all' not in (show_all or []))
        except SsbError as exc:
            return graphs, html.Div(str(exc), className='error'), ''
        link = '/compare?' + urllib.parse.urlencode({'cells': ','.join(sample_ids)})
        links = html.Span(
            ['link to this comparison: ', html.A(link, href=link)]
            + [' · ']
            + [
                html.A(s, href=f'/sample/{urllib.parse.quote(s, safe="")}', style={'marginRight': '8px'})
                for s in sample_ids
            ]
        )
        table = rows_table(rows, ['fact'] + sample_ids) if rows else html.P('No differences.')
        return graphs or [html.P('None of these cells has curves to overlay.')], table, links
