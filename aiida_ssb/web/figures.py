"""Interactive plotly figures from the plot data of :mod:`aiida_ssb.query.plotdata`."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aiida_ssb.query.plotdata import PlotData

__all__ = ['PALETTE', 'empty_figure', 'figure_of']

#: colour-blind-safe palette (Okabe-Ito), the first colour for data
PALETTE = ('#000000', '#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#999999')


def _colour(index: int | None, fallback: int) -> str:
    return PALETTE[(index if index is not None else fallback) % len(PALETTE)]


def empty_figure(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref='paper', yref='paper')
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.update_layout(height=260, template='plotly_white', margin={'l': 20, 'r': 20, 't': 30, 'b': 20})
    return figure


def figure_of(data: PlotData, *, height: int | None = None) -> go.Figure:
    """A figure with one row per panel (shared x axes where the panels share their x label)."""
    panels = data.panels
    secondary = [any(series.secondary for series in panel.series) for panel in panels]
    shared = len({panel.x_label for panel in panels}) == 1 and len(panels) > 1
    weights = [panel.height for panel in panels]
    figure = make_subplots(
        rows=len(panels),
        cols=1,
        shared_xaxes=shared,
        vertical_spacing=0.06 if shared else 0.12,
        row_heights=[w / sum(weights) for w in weights],
        specs=[[{'secondary_y': flag}] for flag in secondary],
    )
    legend_seen: set[str] = set()
    for row, panel in enumerate(panels, start=1):
        for number, series in enumerate(panel.series):
            colour = _colour(series.colour, number)
            group = series.group or series.name
            mode = series.mode
            trace = go.Scattergl if len(series.x) > 3000 else go.Scatter
            figure.add_trace(
                trace(
                    x=series.x,
                    y=series.y,
                    name=series.name,
                    mode=mode,
                    legendgroup=group,
                    showlegend=series.name not in legend_seen,
                    line={'color': colour, 'dash': series.dash, 'width': 1.6},
                    marker={'color': colour, 'size': 5, 'symbol': 'circle-open' if mode == 'markers' else 'circle'},
                    connectgaps=False,
                ),
                row=row,
                col=1,
                secondary_y=series.secondary if secondary[row - 1] else None,
            )
            legend_seen.add(series.name)
        for number, line in enumerate(panel.lines):
            colour = _colour(line.colour, 8)
            if line.x is not None:
                figure.add_vline(
                    x=line.x,
                    line={'color': colour, 'dash': 'dot', 'width': 1},
                    annotation_text=line.label,
                    annotation_position='top right' if number % 2 == 0 else 'bottom right',
                    row=row,
                    col=1,
                )
            elif line.y is not None:
                figure.add_hline(
                    y=line.y,
                    line={'color': colour, 'dash': 'dot', 'width': 1},
                    annotation_text=line.label,
                    row=row,
                    col=1,
                )
        figure.update_xaxes(title_text=panel.x_label, type='log' if panel.x_log else None, row=row, col=1)
        figure.update_yaxes(
            title_text=panel.y_label, type='log' if panel.y_log else None, row=row, col=1, secondary_y=False
        )
        if secondary[row - 1]:
            figure.update_yaxes(title_text=panel.y2_label or '', row=row, col=1, secondary_y=True, showgrid=False)
        if panel.equal_aspect:
            axis = 'x' if row == 1 else f'x{row}'
            figure.update_yaxes(scaleanchor=axis, scaleratio=1, row=row, col=1)
    title = _plain(data.title) + (f'<br><sup>{_plain(data.note)}</sup>' if data.note else '')
    figure.update_layout(
        title={'text': title, 'font': {'size': 14}},
        template='plotly_white',
        height=height or int(330 + 170 * (len(panels) - 1)),
        margin={'l': 60, 'r': 30, 't': 70, 'b': 50},
        legend={'font': {'size': 11}},
        uirevision=data.kind,
    )
    return figure


def _plain(text: str) -> str:
    """Text for a plotly title, which renders a subset of HTML: tags are escaped."""
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
