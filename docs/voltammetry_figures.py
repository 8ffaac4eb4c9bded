"""Draw the figures of the voltammetry page (``docs/source/analysis/voltammetry_*.svg``, committed).

Each figure is one generated sweep of the test family (``tests/analysis/voltammetry_family.py``) analysed with the
default settings, drawn with :func:`aiida_ssb.plotting.voltammetry.plot_onsets`; the generating model's two-line
intersection is marked with a black triangle. Run from the repository root::

    MPLBACKEND=Agg .venv/bin/python docs/voltammetry_figures.py
"""

from __future__ import annotations

import pathlib
import sys

import matplotlib

matplotlib.use('Agg')
matplotlib.rcParams['svg.hashsalt'] = 'aiida-ssb'  # stable ids: the same figures give the same files

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aiida_ssb.analysis import voltammetry as vm  # noqa: E402
from aiida_ssb.plotting.voltammetry import plot_onsets  # noqa: E402
from tests.analysis.voltammetry_family import Case, Feature  # noqa: E402

OUT = REPO / 'docs' / 'source' / 'analysis'
#: ``--preview DIR``: also write PNG copies there (to look at them)
PREVIEW = pathlib.Path(sys.argv[sys.argv.index('--preview') + 1]) if '--preview' in sys.argv else None


def _save(figure, name: str) -> None:
    figure.savefig(OUT / f'{name}.svg')
    if PREVIEW is not None:
        figure.savefig(PREVIEW / f'{name}.png', dpi=80)
    plt.close(figure)


def _draw(ax, case: Case, title: str, *, ylim=None, xlim=None, **settings):
    potential, current, _ = case.sweep()
    result = vm.find_onsets(potential, current, **settings)
    keep = slice(None, None, max(1, potential.size // 700))  # fewer points: a small file, the same picture
    plot_onsets(potential[keep], current[keep], result.to_dict(), result.arrays(), axes=ax, title=title)
    for truth in case.truth():
        ax.plot([truth], [0.0], marker='^', color='k', ms=6, clip_on=False, transform=ax.get_xaxis_transform())
    if ylim is not None:
        ax.set_ylim(*ylim)
    if xlim is not None:
        ax.set_xlim(*xlim)
    return result


def weak_before_strong() -> None:
    weak = Feature('levelled', 2.93, 8e-4, 0.01, 0.25)
    case = Case(
        'weak-before-strong',
        2.4,
        4.6,
        (weak, Feature('knee', 4.07, 0.12, 0.015)),
        noise_fraction=0.02,
        noise_of='first',
        capacitance_f=2e-4,
        seed=11,
    )
    figure, (full, zoom) = plt.subplots(1, 2, figsize=(9.6, 3.8), constrained_layout=True)
    _draw(full, case, 'weak rise (2e-4 mA) before one 150 x steeper')
    _draw(zoom, case, 'the same sweep, current magnified', ylim=(-0.05, 0.45), xlim=(2.5, 4.3))
    _save(figure, 'voltammetry_weak_before_strong')


def rounded_knee() -> None:
    figure, axes = plt.subplots(1, 2, figsize=(9.6, 3.8), constrained_layout=True)
    for ax, (width, noise) in zip(axes, ((0.03, 0.003), (0.1, 0.01))):
        case = Case('knee', 2.5, 4.5, (Feature('knee', 3.45, 2e-3, width),), noise_fraction=noise, seed=5)
        _draw(ax, case, f'rounded knee, w = {width * 1000:.0f} mV, noise {noise:.1%} of the peak', xlim=(2.8, 4.5))
    _save(figure, 'voltammetry_rounded_knee')


def tafel_and_edge() -> None:
    figure, (tafel, edge) = plt.subplots(1, 2, figsize=(9.6, 3.8), constrained_layout=True)
    short = Case('tafel', 2.6, 3.95, (Feature('tafel', 3.45, 4e-3, 0.05),), noise_fraction=0.003)
    _draw(tafel, short, 'Tafel rise, scan stops before its ohmic line: wide band', xlim=(3.0, 3.95))
    e = np.linspace(2.62, 5.0, 1191)
    rng = np.random.default_rng(1)
    current = 1e-5 + 2e-6 * (e - 2.6) + 1.2e-4 * np.exp(-0.5 * ((e - 3.3) / 0.06) ** 2)
    current = current + 2e-3 * 0.003 * np.logaddexp(0, (e - 4.14) / 0.003) + rng.normal(0, 2e-7, e.size)
    result = vm.find_onsets(e, current, method='edge')
    plot_onsets(e, current, result.to_dict(), result.arrays(), axes=edge, title='edge method: a peak, then the edge')
    _save(figure, 'voltammetry_tafel_edge')


def main() -> None:
    weak_before_strong()
    rounded_knee()
    tafel_and_edge()
    print(f'written: {", ".join(sorted(p.name for p in OUT.glob("voltammetry_*.svg")))}')


if __name__ == '__main__':
    main()
