"""Shared figure helpers: a headless backend, a consistent look, saving with a clear error."""

from __future__ import annotations

import os

import matplotlib
import matplotlib.pyplot as plt

from aiida_ssb.exceptions import InputError
from aiida_ssb.outputs import output_file

__all__ = ['SUPPORTED_EXTENSIONS', 'new_figure', 'save_figure']

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
