"""Figures of issue 21's electrochemical analyses: dQ/dV and dV/dQ, GITT and PITT, DC polarisation and the
transference number, drawn from the analyses' summaries and curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

from aiida_ssb.plotting.common import new_figure

__all__ = ['plot_dqdv', 'plot_dqdv_overlay', 'plot_dvdq', 'plot_polarisation', 'plot_titration', 'plot_transference']


def _chosen_halves(curves: Mapping[str, np.ndarray], half_cycles: Sequence[int] | None, at_most: int = 8) -> list[int]:
    available = sorted(set(np.asarray(curves['curve__half_cycle']).tolist()))
    if half_cycles:
        return [h for h in half_cycles if h in available]
    if len(available) <= at_most:
        return available
    picks = np.unique(np.linspace(0, len(available) - 1, at_most).round().astype(int))
    return [available[k] for k in picks]


def plot_dqdv(
    curves: Mapping[str, np.ndarray],
    summary: Mapping | None = None,
    *,
    half_cycles: Sequence[int] | None = None,
    per_gram: bool = True,
    title: str | None = None,
    figure_axes=None,
    label: str | None = None,
):
    """dQ/dV against voltage for some half cycles (charge positive, discharge negative; up to eight, evenly
    spread, by default), coloured by half cycle, with the detected peaks marked."""

    figure, ax = figure_axes or new_figure()
    key = 'curve__dqdv_mah_g_v' if per_gram and 'curve__dqdv_mah_g_v' in curves else 'curve__dqdv_mah_v'
    halves = _chosen_halves(curves, half_cycles)
    colours = matplotlib.colormaps['viridis'](np.linspace(0.0, 0.9, max(len(halves), 1)))
    which = np.asarray(curves['curve__half_cycle'])
    scale = 1.0
    if key.endswith('_g_v') and summary and summary.get('mass_mg'):
        scale = 1000.0 / summary['mass_mg']
    for colour, half in zip(colours, halves):
        rows = which == half
        text = label if label and half == halves[0] else (None if label else f'half cycle {half}')
        ax.plot(curves['curve__voltage_v'][rows], curves[key][rows], color=colour, lw=1.0, label=text)
        if 'peak__half_cycle' in curves:
            peaks = np.asarray(curves['peak__half_cycle']) == half
            heights = np.asarray(curves['peak__height_mah_v'])[peaks] * np.asarray(curves['peak__direction'])[peaks]
            ax.plot(np.asarray(curves['peak__voltage_v'])[peaks], heights * scale, 'x', color=colour, ms=5)
    ax.axhline(0.0, color='0.6', lw=0.6)
    ax.set_xlabel('voltage / V')
    ax.set_ylabel('dQ/dV / mAh g$^{-1}$ V$^{-1}$' if key.endswith('_g_v') else 'dQ/dV / mAh V$^{-1}$')
    if summary:
        method = summary.get('method', '')
        parameters = summary.get('parameters', {})
        ax.text(
            0.01,
            0.01,
            f'{method}, grid {parameters.get("grid_step_v", "?")} V, window {parameters.get("window_v", "?")} V',
            transform=ax.transAxes,
            fontsize=7,
            color='0.4',
        )
    ax.legend(fontsize=7, ncol=2)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


def plot_dqdv_overlay(
    entries: Sequence[tuple[str, Mapping[str, np.ndarray], Mapping]], *, half_cycle: int = 1, title=None
):
    """The same half cycle's dQ/dV of several cells on one axis (``entries``: label, curves, summary)."""
    figure, ax = new_figure()
    for label, curves, summary in entries:
        plot_dqdv(curves, summary, half_cycles=[half_cycle], figure_axes=(figure, ax), label=label)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


def plot_dvdq(curves: Mapping[str, np.ndarray], *, half_cycles: Sequence[int] | None = None, title: str | None = None):
    """dV/dQ against the charge passed in the half cycle (plateaus are minima, phase boundaries peaks)."""

    figure, ax = new_figure()
    which = np.asarray(curves['dvdq__half_cycle'])
    available = sorted(set(which.tolist()))
    halves = [h for h in (half_cycles or available[:: max(1, len(available) // 6)]) if h in available]
    colours = matplotlib.colormaps['plasma'](np.linspace(0.0, 0.85, max(len(halves), 1)))
    for colour, half in zip(colours, halves):
        rows = which == half
        ax.plot(
            curves['dvdq__capacity_mah'][rows],
            curves['dvdq__dvdq_v_mah'][rows],
            color=colour,
            lw=1.0,
            label=f'half cycle {half}',
        )
    ax.set_xlabel('charge in the half cycle / mAh')
    ax.set_ylabel('dV/dQ / V mAh$^{-1}$')
    ax.set_yscale('symlog', linthresh=0.1)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


def plot_titration(
    curves: Mapping[str, np.ndarray],
    summary: Mapping,
    *,
    record: tuple[np.ndarray, np.ndarray] | None = None,
    record_label: str = 'voltage / V',
    title: str | None = None,
):
    """GITT (per pulse) or PITT (per step): the diffusion coefficient against the state (cumulative charge or
    step voltage), with the record (the voltage of a GITT, the current of a PITT: ``record_label``; a current is
    drawn on a log scale) above it when given."""
    gitt = any(key.startswith('pulse__') for key in curves)
    prefix = 'pulse__' if gitt else 'step__'
    rows = 2 if record is not None else 1
    figure, axes = new_figure(rows, 1, height=3.0 * rows + 0.8, squeeze=False)
    axes = axes[:, 0]
    if record is not None:
        time, values = record
        if 'current' in record_label:
            axes[0].semilogy(np.asarray(time) / 3600.0, np.abs(values), lw=0.8, color='C0')
        else:
            axes[0].plot(np.asarray(time) / 3600.0, values, lw=0.8, color='C0')
        axes[0].set_xlabel('time / h')
        axes[0].set_ylabel(record_label)
    ax = axes[-1]
    diffusion = np.asarray(curves[f'{prefix}diffusion_coefficient_cm2_s'], dtype=float)
    x_key = f'{prefix}cumulative_charge_mah' if gitt else f'{prefix}voltage_v'
    x = np.asarray(curves[x_key], dtype=float)
    ax.semilogy(x, diffusion, 'o-', ms=4, color='C1', label='D')
    finite = diffusion[np.isfinite(diffusion) & (diffusion > 0)]
    if finite.size and finite.max() / finite.min() < 10.0:
        middle = float(np.sqrt(finite.max() * finite.min()))
        ax.set_ylim(middle / 3.0, middle * 3.0)  # at least a decade shown, so equal values do not sit on an edge
    ax.set_xlabel('cumulative charge / mAh' if gitt else 'step voltage / V')
    ax.set_ylabel('D / cm$^2$ s$^{-1}$')
    if gitt and f'{prefix}internal_resistance_ohm' in curves:
        twin = ax.twinx()
        twin.plot(x, curves[f'{prefix}internal_resistance_ohm'], 's', ms=3, color='0.5', label='R (IR)')
        twin.set_ylabel('internal resistance / Ω', color='0.4')
    median = summary.get('diffusion_coefficient_median_cm2_s')
    if median:
        ax.axhline(median, color='C1', ls=':', lw=0.8)
        ax.text(
            0.01,
            0.03,
            f'median D = {median:.3g} cm²/s ({summary.get("method")}, L = '
            f'{summary.get("diffusion_length_cm", float("nan")) * 1e4:.3g} µm)',
            transform=ax.transAxes,
            fontsize=7,
        )
    flagged = [f['flag'] for f in summary.get('flags', [])]
    if flagged:
        ax.set_title('flags: ' + ', '.join(flagged), fontsize=7, color='C3', loc='right')
    if title:
        figure.suptitle(title, fontsize=9)
    return figure


def plot_polarisation(curves: Mapping[str, np.ndarray], summary: Mapping, *, title: str | None = None):
    """The current of every potentiostatic hold against time (log-log), with its steady-state current and the
    time to steady state; the headline electronic conductivity in the legend."""
    figure, ax = new_figure()
    index = np.asarray(curves['hold__index'])
    holds = summary.get('holds', [])
    for k in sorted(set(index.tolist())):
        rows = index == k
        time = np.asarray(curves['hold__time_s'])[rows]
        current = np.abs(np.asarray(curves['hold__current_ma'])[rows])
        keep = time > 0
        hold = holds[k - 1] if k - 1 < len(holds) else {}
        label = f'hold {k}: {hold.get("bias_v", hold.get("voltage_v", float("nan"))):.3g} V'
        (line,) = ax.loglog(time[keep] / 3600.0, current[keep], lw=1.0, label=label)
        if hold.get('steady_current_ma'):
            ax.axhline(abs(hold['steady_current_ma']), color=line.get_color(), ls=':', lw=0.8)
        if hold.get('time_to_steady_s'):
            ax.axvline(hold['time_to_steady_s'] / 3600.0, color=line.get_color(), ls='--', lw=0.6)
    ax.set_xlabel('time in the hold / h')
    ax.set_ylabel('|I| / mA')
    value = summary.get('electronic_conductivity_s_cm')
    note = f'σ_e = {value:.3g} S/cm' if value else None
    if summary.get('transference_number') is not None:
        note = f't+ = {summary["transference_number"]:.3f} ({summary.get("method")})'
    ax.legend(fontsize=7, title=note, title_fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


def plot_transference(curves: Mapping[str, np.ndarray], summary: Mapping, *, title: str | None = None):
    """The symmetric-cell polarisation current with I_0 and I_ss and the resulting transference number."""
    figure = plot_polarisation(curves, summary, title=title)
    ax = figure.axes[0]
    if summary.get('initial_current_ma'):
        ax.axhline(summary['initial_current_ma'], color='k', ls='-.', lw=0.8)
        ax.text(
            0.99,
            0.9,
            f'I0 ({summary.get("initial_current_source", "")[:9]})',
            transform=ax.transAxes,
            ha='right',
            va='top',
            fontsize=7,
        )
    return figure
