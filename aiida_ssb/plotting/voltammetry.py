"""Figures of voltammetry: the sweep with the fitted background and rise lines, every onset with its sensitivity
band and significance (the headline ones solid), the peaks; the stepwise-CV series."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from aiida_ssb.plotting.common import new_figure

__all__ = ['plot_onsets', 'plot_stepwise_cv']


def plot_onsets(
    potential_v,
    current_ma,
    summary: Mapping,
    curves: Mapping[str, np.ndarray],
    *,
    area_cm2: float | None = None,
    title: str | None = None,
    axes=None,
):
    """Current (or current density) against potential, the two fitted lines of every onset, the onsets with their
    sensitivity bands (shaded) and significance, and the peaks. The headline onset of each sweep is drawn solid
    and labelled as such; the other onsets stay on the figure, dotted."""
    if axes is None:
        figure, ax = new_figure()
    else:
        ax = axes
        figure = ax.figure
    scale = 1000.0 / area_cm2 if area_cm2 else 1000.0  # mA -> uA (per cm2)
    unit = 'µA cm$^{-2}$' if area_cm2 else 'µA'
    ax.plot(np.asarray(potential_v), np.asarray(current_ma) * scale, lw=0.7, color='0.55', label='data')
    numbers = sorted({int(m.group(1)) for key in curves for m in [re.match(r'onset(\d+)_', key)] if m})
    for index, number in enumerate(numbers):
        colour = f'C{index % 10}'
        for part, style in (('background', ':'), ('rise', '--')):
            v_key, i_key = f'onset{number}_{part}_v', f'onset{number}_{part}_ma'
            if v_key in curves:
                ax.plot(curves[v_key], np.asarray(curves[i_key]) * scale, style, color=colour, lw=1.8)
    onsets = [onset for onset in summary.get('onsets', []) if onset.get('onset_v') is not None]
    for index, onset in enumerate(onsets):
        colour = f'C{index % 10}'
        headline = bool(onset.get('headline'))
        low, high = onset.get('band_low_v'), onset.get('band_high_v')
        if low is not None and high is not None and high > low:
            ax.axvspan(low, high, color=colour, alpha=0.15, lw=0)
        ax.axvline(onset['onset_v'], color=colour, lw=1.2 if headline else 0.8, ls='-' if headline else ':')
        significance = onset.get('significance_sigma')
        text = f'{onset["onset_v"]:.2f} V'
        if significance is not None:
            text += f', {significance:.0f}σ'
        if headline:
            text += ' (headline)'
        if onset.get('quality', 'ok') != 'ok':
            text += f' [{onset["quality"]}]'
        ax.annotate(
            text,
            (onset['onset_v'], 0.97),
            xycoords=('data', 'axes fraction'),
            rotation=90,
            va='top',
            ha='right',
            fontsize=7,
            color=colour,
        )
    for peak in summary.get('peaks', []):
        if peak.get('potential_v') is None:
            continue
        order = np.argsort(np.asarray(potential_v), kind='stable')
        level = np.interp(peak['potential_v'], np.asarray(potential_v)[order], np.asarray(current_ma)[order]) * scale
        ax.plot([peak['potential_v']], [level], 'v', color='k', ms=5)
        ax.annotate(f'peak {peak["potential_v"]:.2f} V', (peak['potential_v'], level), fontsize=7, va='bottom')
    fitted = [
        np.asarray(curves[key], dtype=float) * scale
        for key in curves
        if re.match(r'onset\d+_(background|rise)_ma$', key)
    ]
    if fitted:  # frame the fitted region: currents far beyond it (a later breakdown) would hide the onsets
        low = min(float(np.nanmin(values)) for values in fitted)
        high = max(float(np.nanmax(values)) for values in fitted)
        span = max(high - low, 1e-12)
        ax.set_ylim(low - 0.15 * span, high + 0.6 * span)
    ax.set_xlabel('potential / V')
    ax.set_ylabel(f'current / {unit}')
    method = summary.get('method', '')
    headlines = [o for o in onsets if o.get('headline')]
    described = ', '.join(f'{o["onset_v"]:.2f} V' for o in headlines) or 'no onset reaches the headline level'
    ax.set_title(title or f'onsets ({method}): {described}', fontsize=9)
    return figure


def plot_stepwise_cv(potential_v, current_ma, steps: list[Mapping], *, title: str | None = None):
    """A stepwise CV: every scan coloured by its upper cut-off, and the anodic charge per step against the
    cut-off with the soaring cut-off marked."""
    figure, (ax, ax_q) = new_figure(1, 2, width=10.0, height=4.2)
    potential_v = np.asarray(potential_v, dtype=float)
    current_ma = np.asarray(current_ma, dtype=float)
    ax.plot(potential_v, current_ma * 1000.0, lw=0.6, color='0.4')
    ax.set_xlabel('potential / V')
    ax.set_ylabel('current / µA')
    cutoffs = [step.get('upper_cutoff_v') for step in steps]
    charges = [step.get('anodic_charge_mah') for step in steps]
    ax_q.plot(cutoffs, charges, 'o-', ms=3)
    ax_q.set_yscale('log')
    ax_q.set_xlabel('upper cut-off / V')
    ax_q.set_ylabel('anodic charge per step / mAh')
    soaring = [step.get('upper_cutoff_v') for step in steps if step.get('soaring')]
    if soaring:
        ax_q.axvline(soaring[0], color='C3', ls='--', label=f'soaring above {soaring[0]:.2f} V')
        ax_q.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return figure
