"""Static figures (PNG/SVG/PDF) of the plot data of :mod:`aiida_ssb.query.plotdata`, for exports: the same
curves the web page draws, one panel per row."""

from __future__ import annotations

import io

import numpy as np

from aiida_ssb.plotting.common import _pyplot, new_figure

__all__ = ['draw_plot_data', 'png_of_plot_data']

_DASHES = {'solid': '-', 'dash': '--', 'dot': ':'}


def draw_plot_data(data, *, width: float = 6.4):
    """A matplotlib figure of a :class:`~aiida_ssb.query.plotdata.PlotData`."""

    panels = data.panels
    heights = [panel.height for panel in panels]
    figure, axes = new_figure(
        len(panels),
        1,
        width=width,
        height=3.2 + 1.8 * (len(panels) - 1),
        squeeze=False,
        gridspec_kw={'height_ratios': heights},
    )
    for ax, panel in zip(axes[:, 0], panels):
        twin = ax.twinx() if any(series.secondary for series in panel.series) else None
        for number, series in enumerate(panel.series):
            target = twin if series.secondary and twin is not None else ax
            colour = f'C{(series.colour if series.colour is not None else number) % 10}'
            x = np.asarray([np.nan if v is None else v for v in series.x], dtype=float)
            y = np.asarray([np.nan if v is None else v for v in series.y], dtype=float)
            style = 'o' if series.mode == 'markers' else _DASHES.get(series.dash, '-')
            if series.mode == 'lines+markers':
                style = '.' + _DASHES.get(series.dash, '-')
            target.plot(
                x,
                y,
                style,
                color=colour,
                ms=3,
                mfc='none' if series.mode == 'markers' else None,
                lw=1.1,
                label=series.name,
            )
        for line in panel.lines:
            if line.x is not None:
                ax.axvline(line.x, color='0.4', ls=':', lw=0.8, label=line.label)
            elif line.y is not None:
                ax.axhline(line.y, color='0.6', ls=':', lw=0.8)
        if panel.x_log:
            ax.set_xscale('log')
        if panel.y_log:
            ax.set_yscale('log')
        if panel.equal_aspect:
            ax.set_aspect('equal', adjustable='datalim')
        ax.set_xlabel(panel.x_label)
        ax.set_ylabel(panel.y_label)
        if twin is not None:
            twin.set_ylabel(panel.y2_label or '')
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        if unique and len(unique) <= 12:
            ax.legend(unique.values(), unique.keys(), fontsize=7)
    axes[0, 0].set_title(data.title + (f'\n{data.note}' if data.note else ''), fontsize=9)
    return figure


def png_of_plot_data(data, *, dpi: int = 110) -> bytes:
    """The figure of a plot data as PNG bytes (for an RO-Crate)."""

    figure = draw_plot_data(data)
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=dpi)
    _pyplot().close(figure)
    return buffer.getvalue()
