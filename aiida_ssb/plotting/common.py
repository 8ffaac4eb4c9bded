"""Shared figure helpers: a headless backend, a consistent look, saving with a clear error."""

from __future__ import annotations

import os

import matplotlib
import matplotlib.pyplot as plt

from aiida_ssb.exceptions import InputError
from aiida_ssb.outputs import output_file

__all__ = [
    'SUPPORTED_EXTENSIONS',
    'c_rate_text',
    'integer_ticks',
    'legend_outside',
    'new_figure',
    'save_figure',
    'set_title',
]

SUPPORTED_EXTENSIONS = ('.png', '.svg', '.pdf')


def _pyplot():
    if matplotlib.get_backend().lower() not in (
        'agg',
        'pdf',
        'svg',
        'cairo',
        'module://matplotlib_inline.backend_inline',
    ):
        matplotlib.use('Agg')

    return plt


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 4.4, **kwargs):
    """A figure and its axes (``squeeze`` as in matplotlib)."""
    plt = _pyplot()
    figure, axes = plt.subplots(nrows, ncols, figsize=(width, height), constrained_layout=True, **kwargs)
    return figure, axes


def save_figure(figure, path: str | os.PathLike[str], dpi: int = 150, *, force: bool = False) -> str:
    """Save a figure; the format follows the extension (png, svg, pdf). The figure is drawn into a temporary file
    beside ``path`` and moved into place, so nothing but ``path`` is written; an existing ``path`` is refused
    unless ``force``."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in SUPPORTED_EXTENSIONS:
        raise InputError(
            f'{path}: unsupported figure format {extension or "(none)"}; use {", ".join(SUPPORTED_EXTENSIONS)}'
        )
    try:
        with output_file(path, force=force, suffix=extension) as temporary:
            figure.savefig(temporary, dpi=dpi, format=extension.lstrip('.'))
    finally:
        _pyplot().close(figure)
    return path


def set_title(ax, title: str | None, caption: str | None = None, *, figure_level: bool = False) -> None:
    """A title with a smaller second line saying what is shown (``caption``: file, C-rate, temperature); on the
    figure (``suptitle``) when ``figure_level``, else on ``ax``. Long captions are wrapped, never cut off."""
    import textwrap

    lines = [title] if title else []
    if caption:  # about 12 characters of 9-point text per inch of the figure
        lines += textwrap.wrap(
            caption, width=max(40, int(ax.figure.get_figwidth() * 12)), break_on_hyphens=False, break_long_words=False
        )
    if not lines:
        return
    text = '\n'.join(lines)
    if figure_level:
        ax.figure.suptitle(text, fontsize=9)
    else:
        ax.set_title(text, fontsize=9)


def c_rate_text(c_rate: float | None) -> str | None:
    """``0.1`` -> ``C/10``, ``2`` -> ``2C``, ``0.33`` -> ``C/3``, ``0.4`` -> ``0.4C``."""
    if c_rate is None or not c_rate > 0:
        return None
    if c_rate >= 1:
        return f'{c_rate:g}C'
    inverse = 1.0 / c_rate
    if abs(inverse - round(inverse)) < 0.02 * inverse:
        return f'C/{round(inverse)}'
    return f'{c_rate:.2g}C'


def integer_ticks(axis) -> None:
    """Only whole numbers on an axis (cycles, counts)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def legend_outside(ax, handles=None, labels=None, *, title: str | None = None, ncol: int | None = None, fontsize=8):
    """The legend of ``ax`` below the axes, outside the data (so it covers no point), in ``ncol`` columns (default:
    up to 3). Needs a figure with constrained layout (:func:`new_figure`)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.figure.legend(
        handles,
        labels,
        loc='outside lower center',
        ncol=ncol or min(3, len(handles)),
        fontsize=fontsize,
        title=title,
        title_fontsize=fontsize,
        frameon=False,
    )
