"""Figures of galvanostatic cycling and symmetric cells, drawn from the analysis arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

from aiida_ssb.plotting.common import legend_outside, new_figure

__all__ = [
    'RATE_TEST_SHARE',
    'plot_capacity',
    'plot_ccd',
    'plot_profiles',
    'plot_rate',
    'plot_retention',
    'rate_test_share',
]

#: a record with at least this share of its cycles in rate tests is a rate test: left out of retention overlays
RATE_TEST_SHARE = 0.5


def _capacity_key(cycles: Mapping[str, np.ndarray], basis: str | None, half: str) -> tuple[str, str]:
    if basis and f'cycle__{half}_capacity_mah_g_{basis}' in cycles:
        return f'cycle__{half}_capacity_mah_g_{basis}', f'{half} capacity / mAh g$^{{-1}}$ ({basis})'
    return f'cycle__{half}_capacity_mah', f'{half} capacity / mAh'


def _rate_test_blocks(summary: Mapping | None) -> list[Mapping]:
    return [block for block in (summary or {}).get('blocks', []) if block.get('kind') == 'rate_test']


def plot_capacity(
    curves: Mapping[str, np.ndarray],
    *,
    basis: str | None = 'active',
    summary: Mapping | None = None,
    title: str | None = None,
    caption: str | None = None,
    figure_axes=None,
):
    """Discharge (and charge) capacity and coulombic efficiency against cycle number, with the retention
    reference marked and rate-test blocks shaded. The legend (capacities, CE, the reference and the retention)
    lies below the axes, where it covers no point; cycle ticks are whole numbers. ``caption`` (the record's file,
    C-rate, temperature) is the title's second line."""
    from aiida_ssb.plotting.common import c_rate_text, integer_ticks, set_title

    figure, ax = figure_axes or new_figure(height=4.8)
    cycle = np.asarray(curves['cycle__cycle'])
    for half, marker in (('discharge', 'o'), ('charge', '^')):
        key, _label = _capacity_key(curves, basis, half)
        if key in curves:
            ax.plot(
                cycle,
                curves[key],
                marker,
                ms=3,
                label=f'{half} capacity',
                alpha=0.85 if half == 'discharge' else 0.5,
                color='C0' if half == 'discharge' else 'C1',
            )
    ax.set_xlabel('cycle')
    ax.set_ylabel(_capacity_key(curves, basis, 'discharge')[1].replace('discharge ', ''))
    integer_ticks(ax.xaxis)
    handles, labels = ax.get_legend_handles_labels()
    if 'cycle__coulombic_efficiency_percent' in curves:
        twin = ax.twinx()
        (ce_line,) = twin.plot(
            cycle, curves['cycle__coulombic_efficiency_percent'], '.', ms=3, color='0.35', label='coulombic efficiency'
        )
        twin.set_ylabel('coulombic efficiency / %')
        ce = np.asarray(curves['cycle__coulombic_efficiency_percent'], dtype=float)
        finite = ce[np.isfinite(ce)]
        if finite.size:
            twin.set_ylim(max(0.0, min(finite.min(), 95.0) - 2.0), min(105.0, max(finite.max(), 100.0) + 1.0))
        handles.append(ce_line)
        labels.append('coulombic efficiency (right axis)')
    for number, block in enumerate(_rate_test_blocks(summary)):
        span = ax.axvspan(
            block['first_cycle'] - 0.5,
            block['last_cycle'] + 0.5,
            color='0.9',
            zorder=0,
            label='rate test' if number == 0 else None,
        )
        if number == 0:
            handles.append(span)
            labels.append(f'rate test (cycles {block["first_cycle"]} to {block["last_cycle"]})')
        for step in block.get('steps', []):  # each step's rate along the top
            rate = step.get('c_rate')
            text = c_rate_text(rate) if rate is not None else f'{step.get("current_ma", float("nan")):.2g} mA'
            ax.text(
                0.5 * (step['first_cycle'] + step['last_cycle']),
                0.98,
                text,
                transform=ax.get_xaxis_transform(),
                ha='center',
                va='top',
                fontsize=7,
                color='0.3',
            )
            if step['first_cycle'] > block['first_cycle']:
                ax.axvline(step['first_cycle'] - 0.5, color='0.75', lw=0.6, zorder=0)
    if summary and summary.get('reference_cycle') is not None:
        reference = ax.axvline(summary['reference_cycle'], color='k', ls=':', lw=0.8)
        retention = summary.get('capacity_retention_percent_at_end')
        text = f'retention reference: cycle {summary["reference_cycle"]}'
        if retention is not None:
            text += f' (retention at end {retention:.1f} %)'
        handles.append(reference)
        labels.append(text)
    legend_outside(ax, handles, labels, ncol=2)
    set_title(ax, title, caption)
    return figure


def rate_test_share(summary: Mapping | None) -> tuple[float, list[Mapping]]:
    """The share of a cycling record's complete cycles that lie in rate-test blocks (from the analysis's protocol
    blocks), and those blocks."""
    blocks = (summary or {}).get('blocks') or []
    tests = [block for block in blocks if block.get('kind') == 'rate_test']
    total = sum(block.get('n_cycles', 0) for block in blocks if block.get('kind') != 'stepwise_upper_cutoff')
    in_tests = sum(block.get('n_cycles', 0) for block in tests)
    return (in_tests / total if total else 0.0), tests


def plot_retention(entries: Sequence[tuple[str, Mapping[str, np.ndarray], Mapping]], *, title: str | None = None):
    """Capacity retention against cycle of several records (``entries``: label, curves, summary). A record that is
    mostly a rate test (:data:`RATE_TEST_SHARE` of its cycles) is left out: its capacity falls with the rate, not
    with ageing; a rate-test block inside a longer record is drawn grey and not joined to the line. The title's
    second line says which records were left out or greyed."""
    from aiida_ssb.plotting.common import integer_ticks, set_title

    figure, ax = new_figure(height=5.0)
    left_out, marked, drawn = [], [], 0
    for label, curves, summary in entries:
        if 'cycle__capacity_retention_percent' not in curves:
            continue
        share, tests = rate_test_share(summary)
        if share >= RATE_TEST_SHARE:
            left_out.append(label.split(' (')[0])
            continue
        cycle = np.asarray(curves['cycle__cycle'])
        retention = np.asarray(curves['cycle__capacity_retention_percent'], dtype=float)
        in_test = np.zeros(cycle.size, dtype=bool)
        for block in tests:
            in_test |= (cycle >= block['first_cycle']) & (cycle <= block['last_cycle'])
        ax.plot(cycle, np.where(in_test, np.nan, retention), '.-', ms=2, lw=0.8, label=label)
        if in_test.any():
            ax.plot(cycle[in_test], retention[in_test], '.', ms=3, color='0.65')
            marked.append(label.split(' (')[0])
        drawn += 1
    ax.set_xlabel('cycle')
    ax.set_ylabel('capacity retention / %')
    integer_ticks(ax.xaxis)
    ax.axhline(80, color='0.6', ls=':', lw=0.8)
    notes = []
    if left_out:
        notes.append(f'left out as rate tests (capacity falls with the rate, not with age): {", ".join(left_out)}')
    if marked:
        notes.append(f'grey: the rate-test cycles of {", ".join(marked)}')
    if not drawn:
        ax.text(0.5, 0.5, 'no record to draw', ha='center', va='center', transform=ax.transAxes)
    legend_outside(ax, ncol=2, fontsize=7)
    set_title(ax, title, '; '.join(notes) or None)
    return figure


def _draw_profiles(ax, time_s, voltage_v, current_ma, curves, cycles, mass_g, ylabel):
    half_cycle = np.asarray(curves['half_cycle__cycle'])
    starts = np.asarray(curves['half_cycle__start_row'], dtype=int)
    ends = np.asarray(curves['half_cycle__end_row'], dtype=int)
    charge = np.asarray(curves['half_cycle__direction']) > 0  # +1 charge, -1 discharge
    for colour, cycle in zip(_colours(len(cycles)), cycles):
        for index in np.flatnonzero(half_cycle == cycle):
            rows = slice(starts[index], ends[index] + 1)
            t, v, i = time_s[rows], voltage_v[rows], np.abs(current_ma[rows])
            if t.size < 2:
                continue
            q = np.concatenate(([0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t)) / 3600.0))
            if mass_g:
                q = q / mass_g
            style = '-' if charge[index] else '--'
            ax.plot(q, v, style, color=colour, lw=1.2, label=None if charge[index] else f'cycle {cycle}')
    ax.set_xlabel('capacity / mAh g$^{-1}$' if mass_g else 'capacity / mAh')
    ax.set_ylabel(ylabel)


def _chosen_cycles(curves: Mapping[str, np.ndarray], cycles: Sequence[int] | None) -> list[int]:
    """The cycles to draw: as given, else the first, second, middle and last complete ones."""
    if cycles is not None:
        return list(cycles)
    half_cycle = np.asarray(curves['half_cycle__cycle'])
    complete = {
        int(c) for c, ok in zip(curves['cycle__cycle'], curves.get('cycle__complete', curves['cycle__cycle'])) if ok
    }
    available = sorted({int(c) for c in half_cycle} & complete) or sorted({int(c) for c in half_cycle})
    picks = [available[0], available[min(1, len(available) - 1)], available[len(available) // 2], available[-1]]
    return sorted(set(picks))


def plot_profiles(
    time_s,
    voltage_v,
    current_ma,
    curves: Mapping[str, np.ndarray],
    *,
    cycles: Sequence[int] | None = None,
    mass_g: float | None = None,
    title: str | None = None,
    counter_voltage_v=None,
    working_electrode: str = 'positive',
):
    """Voltage against capacity for selected cycles (default: first, second, middle and last complete ones).
    Capacity is integrated within each half cycle; per gram of ``mass_g`` when given.

    A three-electrode record (``counter_voltage_v``, Ece against the reference, given) is drawn in three panels:
    the full cell (Ewe - Ece), the positive and the negative electrode against the reference (``working_electrode``
    says which one Ewe is)."""
    time_s = np.asarray(time_s, dtype=float)
    voltage_v = np.asarray(voltage_v, dtype=float)
    current_ma = np.asarray(current_ma, dtype=float)
    chosen = _chosen_cycles(curves, cycles)
    if counter_voltage_v is None:
        figure, ax = new_figure()
        _draw_profiles(ax, time_s, voltage_v, current_ma, curves, chosen, mass_g, 'voltage / V')
        legend_outside(ax, title='solid: charge, dashed: discharge', ncol=min(4, len(chosen)))
        if title:
            ax.set_title(title)
        return figure
    counter = np.asarray(counter_voltage_v, dtype=float)
    positive, negative = (voltage_v, counter) if working_electrode == 'positive' else (counter, voltage_v)
    figure, axes = new_figure(1, 3, width=12.0, height=4.2)
    panels = (
        (positive - negative, 'full cell voltage / V', 'full cell'),
        (positive, 'positive electrode vs ref / V', 'positive electrode'),
        (negative, 'negative electrode vs ref / V', 'negative electrode'),
    )
    for ax, (values, ylabel, name) in zip(axes, panels):
        _draw_profiles(ax, time_s, values, current_ma, curves, chosen, mass_g, ylabel)
        ax.set_title(name, fontsize=9)
    axes[0].legend(fontsize=8, title='solid: charge, dashed: discharge', title_fontsize=7)
    if title:
        figure.suptitle(title)
    return figure


def plot_rate(curves: Mapping[str, np.ndarray], *, basis: str | None = 'active', title: str | None = None):
    """Rate capability: discharge capacity (second cycle at each rate) against C-rate."""
    figure, ax = new_figure()
    rate_key = next((k for k in ('rate__c_rate', 'rate__c_rate_nominal') if k in curves), None)
    if rate_key is None:
        ax.text(0.5, 0.5, 'no rate test detected', ha='center', va='center', transform=ax.transAxes)
        return figure
    capacity_key = (
        f'rate__discharge_capacity_mah_g_{basis}'
        if basis and f'rate__discharge_capacity_mah_g_{basis}' in curves
        else 'rate__discharge_capacity_mah'
    )
    rates = np.asarray(curves[rate_key], dtype=float)
    ax.plot(rates, curves[capacity_key], 'o-')
    ax.set_xscale('log')
    ax.set_xlabel('C-rate')
    ax.set_ylabel('discharge capacity / ' + ('mAh g$^{-1}$' if 'mah_g' in capacity_key else 'mAh'))
    if title:
        ax.set_title(title)
    return figure


def plot_ccd(time_s, voltage_v, summary: Mapping, curves: Mapping[str, np.ndarray], *, title: str | None = None):
    """Symmetric-cell voltage against time with the current-density steps and the CCD marked."""
    figure, (ax, ax_j) = new_figure(2, 1, height=5.5, sharex=True, gridspec_kw={'height_ratios': [3, 1]})
    t_h = np.asarray(time_s, dtype=float) / 3600.0
    ax.plot(t_h, voltage_v, lw=0.7)
    ax.set_ylabel('voltage / V')
    starts = np.asarray(curves.get('half_cycle__start_time_s', []), dtype=float) / 3600.0
    ends = np.asarray(curves.get('half_cycle__end_time_s', []), dtype=float) / 3600.0
    densities = np.asarray(curves.get('half_cycle__current_density_ma_cm2', []), dtype=float)
    for start, end, density in zip(starts, ends, densities):
        ax_j.hlines(density, start, end, color='C1')
    ax_j.set_ylabel('j / mA cm$^{-2}$')
    ax_j.set_xlabel('time / h')
    # sudden drop: the CCD is the last stable step; 0 V (Sharafi): the step whose |V| collapses
    for prefix, which, colour, label in (
        ('sudden_drop', 'last_stable', 'C3', 'sudden drop'),
        ('zero_volt', 'failing', 'k', '0 V'),
    ):
        moment = summary.get(f'{prefix}_time_s')
        if moment is not None:
            ax.axvline(
                moment / 3600.0,
                color=colour,
                ls='--',
                lw=0.9,
                label=f'{label}: CCD {summary.get(f"{prefix}_{which}_ma_cm2", float("nan")):.3g} mA/cm²',
            )
    if summary.get('message'):
        ax.set_title(title or summary['message'], fontsize=9)
    ax.legend(fontsize=8, loc='lower left')
    return figure


def _colours(n: int):
    cmap = matplotlib.colormaps['viridis']
    return [cmap(x) for x in np.linspace(0.0, 0.85, max(n, 1))]
