"""Figure of a powder-diffraction analysis: pattern, background, fitted model, peaks and reference phases."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from aiida_ssb.plotting.common import new_figure

__all__ = ['plot_diffraction']


def plot_diffraction(curves: Mapping[str, np.ndarray], summary: Mapping, *, title: str | None = None):
    """The measured pattern with its SNIP background and the fitted profiles, a tick per peak coloured by the
    phase it was assigned to (grey: unexplained), and the difference below."""
    figure, (ax, below) = new_figure(2, 1, width=7.0, height=5.0, sharex=True, gridspec_kw={'height_ratios': [4, 1]})
    x = np.asarray(curves['pattern__two_theta_deg'])
    y = np.asarray(curves['pattern__intensity'])
    model = np.asarray(curves['pattern__model'])
    ax.plot(x, y, color='0.35', lw=0.6, label='measured')
    ax.plot(x, curves['pattern__background'], color='C2', lw=0.8, label='background (SNIP)')
    ax.plot(x, model, color='C3', lw=0.8, label='fitted peaks')
    phases = [phase['name'] for phase in summary.get('phases', [])]
    peak_x = np.asarray(curves.get('peak__two_theta_deg', []))
    peak_phase = np.asarray(curves.get('peak__phase', np.full(peak_x.size, -1)))
    top = float(np.max(y)) if y.size else 1.0
    for number, name in enumerate(phases):
        chosen = peak_phase == number
        if chosen.any():
            ax.plot(
                peak_x[chosen],
                np.full(chosen.sum(), -0.04 * top * (number + 1)),
                '|',
                ms=8,
                color=f'C{number}',
                label=name,
            )
    lost = peak_phase < 0
    if lost.any():
        ax.plot(
            peak_x[lost],
            np.full(lost.sum(), -0.04 * top * (len(phases) + 1)),
            '|',
            ms=8,
            color='0.5',
            label='unexplained' if phases else 'peaks',
        )
    below.plot(x, y - model, color='0.3', lw=0.5)
    below.set_ylabel('diff.')
    below.set_xlabel(
        '2θ / deg' + (f' (λ = {summary["wavelength_angstrom"]:.4f} Å)' if summary.get('wavelength_angstrom') else '')
    )
    ax.set_ylabel('intensity / counts')
    notes = []
    if summary.get('lattice_a_angstrom') is not None:
        text = f'{summary.get("main_phase", "")}: a = {summary["lattice_a_angstrom"]:.4f}'
        if summary.get('lattice_a_stderr_angstrom') is not None:
            text += f' ± {summary["lattice_a_stderr_angstrom"]:.4f}'
        notes.append(text + ' Å')
    if summary.get('crystallite_size_nm') is not None:
        notes.append(f'Scherrer size {summary["crystallite_size_nm"]:.0f} nm')
    if notes:
        ax.text(0.99, 0.97, '\n'.join(notes), transform=ax.transAxes, ha='right', va='top', fontsize=8)
    ax.legend(fontsize=7, loc='upper center')
    if title:
        ax.set_title(title, fontsize=9)
    return figure
