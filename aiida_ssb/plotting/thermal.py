"""Figure of a thermal analysis: heat flow with baseline, events and tangent onsets; mass and DTG."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from aiida_ssb.plotting.common import new_figure

__all__ = ['plot_thermal']


def plot_thermal(curves: Mapping[str, np.ndarray], summary: Mapping, *, title: str | None = None):
    """Heat flow (exothermic up) against temperature per segment with its global baseline, each event's onset
    (dotted) and peak; the mass (%) on a second axis when recorded; mass-loss steps shaded."""
    has_dsc = any(key.startswith('segment__heat_flow_') for key in curves)
    has_mass = 'segment__mass_percent' in curves
    figure, ax = new_figure(width=7.0)
    segment = np.asarray(curves['segment__index'])
    temperature = np.asarray(curves['segment__temperature_c'])
    unit = summary.get('heat_flow_unit', 'w_g')
    label_unit = 'W g$^{-1}$' if unit == 'w_g' else 'mW'
    styles = {'heating': '-', 'cooling': '--'}
    directions = {entry['segment']: entry['direction'] for entry in summary.get('segments', [])}
    if has_dsc:
        for k in sorted(set(segment.tolist())):
            rows = segment == k
            style = styles.get(directions.get(k, 'heating'), '-')
            ax.plot(temperature[rows], curves[f'segment__heat_flow_{unit}'][rows], style, lw=0.6, color='0.7')
            ax.plot(
                temperature[rows],
                curves[f'segment__smoothed_{unit}'][rows],
                style,
                lw=1.2,
                color='C3',
                label=f'heat flow ({directions.get(k, "")})',
            )
            ax.plot(temperature[rows], curves[f'segment__baseline_{unit}'][rows], ':', lw=0.8, color='k')
        for event in summary.get('events', []):
            if 'onset_c' in event:
                ax.axvline(event['onset_c'], color='C0' if event['kind'] == 'exothermic' else 'C2', ls=':', lw=0.8)
            ax.annotate(
                f'{event["onset_c"]:.0f} °C' if 'onset_c' in event else f'{event["peak_c"]:.0f} °C',
                (event['peak_c'], 1.0 if event['kind'] == 'exothermic' else 0.0),
                xytext=(3, -10 if event['kind'] == 'exothermic' else 4),
                textcoords='offset points',
                fontsize=7,
                xycoords=('data', 'axes fraction'),
            )
        ax.set_ylabel(f'heat flow (exo up) / {label_unit}')
    ax.set_xlabel('temperature / °C')
    if has_mass:
        twin = ax.twinx() if has_dsc else ax
        twin.plot(temperature, curves['segment__mass_percent'], color='C4', lw=1.0, label='mass')
        twin.set_ylabel('mass / %', color='C4')
        for step in summary.get('mass_loss_steps', []):
            twin.axvspan(step['start_c'], step['end_c'], color='C4', alpha=0.08)
    notes = []
    if summary.get('dsc_onset_c') is not None:
        notes.append(f'onset {summary["dsc_onset_c"]:.1f} °C')
    if summary.get('dsc_peak_heat_flow_w_g') is not None:
        notes.append(f'peak {summary["dsc_peak_heat_flow_w_g"]:.2f} W/g at {summary["dsc_peak_c"]:.0f} °C')
    if summary.get('dsc_exotherm_j_g') is not None:
        notes.append(f'exotherm {summary["dsc_exotherm_j_g"]:.0f} J/g')
    if summary.get('tga_mass_loss_percent') is not None:
        notes.append(f'mass loss {summary["tga_mass_loss_percent"]:.2f} %')
    if notes:
        ax.text(
            0.3,
            0.75,
            '\n'.join(notes),
            transform=ax.transAxes,
            va='top',
            fontsize=7,
            bbox={'facecolor': 'white', 'edgecolor': '0.8', 'alpha': 0.9},
        )
    if title:
        ax.set_title(title, fontsize=9)
    return figure
