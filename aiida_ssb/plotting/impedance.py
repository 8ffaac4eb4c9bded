"""Figures of impedance: Nyquist and Bode with data, fit and residuals; Arrhenius with the fitted regimes;
a resistance against cycle, upper cut-off or time."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from aiida_ssb.plotting.common import new_figure
from aiida_ssb.plotting.kinds import NYQUIST_SCALES

__all__ = [
    'NYQUIST_SCALES',
    'OverlaySpectrum',
    'choose_nyquist_scale',
    'fit_style',
    'plot_arrhenius',
    'plot_bode',
    'plot_drt',
    'plot_nyquist',
    'plot_nyquist_overlay',
    'plot_resistance_track',
    'spectrum_resistance',
]


def fit_style(summary: Mapping | None) -> tuple[str, str]:
    """``(line style, legend label)`` of a fitted curve: a rejected fit is dashed and labelled "rejected (reason)",
    a flagged one solid and labelled "fit, flagged (reasons)", a good one "fit (circuit)"."""
    if not summary:
        return '-', 'fit'
    quality = summary.get('quality', 'good' if summary.get('accepted', True) else 'rejected')
    circuit = summary.get('circuit', '')
    if quality == 'rejected':
        reason = summary.get('quality_reason') or f'chi2/|Z| {summary.get("chi2_over_z", float("nan")):.2g}'
        return '--', f'rejected ({_short(reason)})'
    if quality == 'flagged':
        flags = ', '.join(flag['flag'].replace('_', ' ') for flag in summary.get('flags', []))
        return '-', f'fit, flagged ({flags}): {circuit}'
    return '-', f'fit: {circuit}' if circuit else 'fit'


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + '…'


def plot_nyquist(
    frequency_hz,
    z,
    *,
    curves: Mapping[str, np.ndarray] | None = None,
    area_cm2: float | None = None,
    title: str | None = None,
    figure_axes=None,
    label: str | None = None,
    summary: Mapping | None = None,
):
    """-Im Z against Re Z (equal axes), with the fitted curve; area-normalised (ohm cm2) when ``area_cm2``.
    ``label`` names the spectrum when several share the axes (its fit then takes the spectrum's colour).
    ``summary`` (the fit's) marks a rejected fit dashed, labelled "rejected (reason)", and a flagged one."""
    figure, ax = figure_axes or new_figure()
    scale = area_cm2 or 1.0
    unit = 'Ω cm²' if area_cm2 else 'Ω'
    z = np.asarray(z)
    (points,) = ax.plot(z.real * scale, -z.imag * scale, 'o', ms=3, mfc='none', label=label or 'data')
    if curves and 'z_fit_real_ohm' in curves:
        style, fit_label = fit_style(summary)
        if label and style == '-' and not (summary and summary.get('quality') == 'flagged'):
            fit_label = '_nolegend_'
        elif label:
            fit_label = f'{label}: {fit_label}'
        ax.plot(
            np.asarray(curves['z_fit_real_ohm']) * scale,
            -np.asarray(curves['z_fit_imag_ohm']) * scale,
            style,
            lw=1.2,
            label=fit_label,
            color=points.get_color() if label else None,
        )
    ax.set_xlabel(f"Z' / {unit}")
    ax.set_ylabel(f"-Z'' / {unit}")
    ax.set_aspect('equal', adjustable='datalim')
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


@dataclass
class OverlaySpectrum:
    """One spectrum of a Nyquist overlay: the data, its fit (``curves``, ``summary``), its legend ``label`` and the
    resistance it is divided by in a normalised overlay (:func:`spectrum_resistance`)."""

    frequency_hz: np.ndarray
    z: np.ndarray
    label: str
    curves: Mapping[str, np.ndarray] | None = None
    summary: Mapping | None = None
    resistance_ohm: float | None = None


def spectrum_resistance(z, fit_summary: Mapping | None = None, resistance_ohm: float | None = None) -> float | None:
    """The size of a spectrum: the resistance its conductivity used (``resistance_ohm``), else the sum of the fitted
    resistances (``r0_ohm``, ``r1_ohm`` ...), else Z' where -Z'' has its minimum after its first maximum (the end
    of the first arc), else the span of Z'. None when none of them is positive."""
    if resistance_ohm and resistance_ohm > 0:
        return float(resistance_ohm)
    if fit_summary:
        fitted = [
            value
            for key, value in fit_summary.items()
            if re.fullmatch(r'r\d+_ohm', key) and isinstance(value, (int, float)) and value > 0
        ]
        if fitted:
            return float(sum(fitted))
    z = np.asarray(z)
    if z.size < 3:
        return None
    minus_imag = -z.imag
    top = int(np.argmax(minus_imag))
    after = minus_imag[top:]
    if after.size > 2:
        bottom = top + int(np.argmin(after))
        if 0 < bottom < z.size - 1 and z.real[bottom] > 0:
            return float(z.real[bottom])
    span = float(np.ptp(z.real))
    return span if span > 0 else None


def choose_nyquist_scale(spectra: Sequence[OverlaySpectrum], scale: str = 'auto') -> tuple[str, float | None]:
    """``(scale, decades)``: the scale of an overlay and how many decades the spectra's resistances span (None
    with fewer than two known). ``auto`` gives ``normalised`` above one decade, else ``linear``."""
    if scale not in NYQUIST_SCALES:
        raise ValueError(f'scale {scale!r}: one of {", ".join(NYQUIST_SCALES)}')
    sizes = [s.resistance_ohm for s in spectra if s.resistance_ohm and s.resistance_ohm > 0]
    decades = math.log10(max(sizes) / min(sizes)) if len(sizes) >= 2 else None
    if scale == 'auto':
        scale = 'normalised' if decades is not None and decades > 1.0 else 'linear'
    return scale, decades


def _ohm_text(value: float) -> str:
    for factor, prefix in ((1e6, 'M'), (1e3, 'k')):
        if abs(value) >= factor:
            return f'{value / factor:.3g} {prefix}Ω'
    return f'{value:.3g} Ω'


def plot_nyquist_overlay(
    spectra: Sequence[OverlaySpectrum],
    *,
    scale: str = 'auto',
    area_cm2: float | None = None,
    title: str | None = None,
    caption: str | None = None,
):
    """Several spectra on one Nyquist plot, in the order given, coloured along it (viridis), with their fits.

    ``scale``: ``linear`` (Ω, or Ω cm² with ``area_cm2``), ``normalised`` (each spectrum divided by its resistance,
    so a temperature series' arcs are all of size 1 and their shapes compare; the view stops at 2 R so the
    electrode spikes of the warm spectra do not flatten the arcs), ``log`` (both axes logarithmic, every spectrum
    whole) or ``auto`` (``normalised`` when the resistances span more than a decade, else ``linear``). The figure
    says which scale was chosen and why."""
    import matplotlib

    from aiida_ssb.plotting.common import legend_outside, set_title

    chosen, decades = choose_nyquist_scale(spectra, scale)
    figure, ax = new_figure(height=5.2)
    colours = matplotlib.colormaps['viridis'](np.linspace(0.0, 0.9, max(len(spectra), 1)))
    unit = 'Ω cm²' if area_cm2 and chosen != 'normalised' else 'Ω'
    for colour, spectrum in zip(colours, spectra):
        z = np.asarray(spectrum.z)
        fit = None
        if spectrum.curves and 'z_fit_real_ohm' in spectrum.curves:
            fit = np.asarray(spectrum.curves['z_fit_real_ohm']) + 1j * np.asarray(spectrum.curves['z_fit_imag_ohm'])
        label = spectrum.label
        if chosen == 'normalised':
            if not spectrum.resistance_ohm:
                continue  # no size: it cannot be normalised (said in the note)
            factor = 1.0 / spectrum.resistance_ohm
            label += f' (R = {_ohm_text(spectrum.resistance_ohm)})'
        else:
            factor = area_cm2 or 1.0
        x, y = z.real * factor, -z.imag * factor
        if chosen == 'log':
            keep = (x > 0) & (y > 0)
            x, y = x[keep], y[keep]
        ax.plot(x, y, 'o', ms=3, mfc='none', color=colour, label=label)
        if fit is not None:
            style, fit_label = fit_style(spectrum.summary)
            fx, fy = fit.real * factor, -fit.imag * factor
            if chosen == 'log':
                keep = (fx > 0) & (fy > 0)
                fx, fy = fx[keep], fy[keep]
            flagged = style != '-' or (spectrum.summary or {}).get('quality') == 'flagged'
            ax.plot(fx, fy, style, lw=1.0, color=colour, label=f'{spectrum.label}: {fit_label}' if flagged else None)
    notes = []
    if chosen == 'normalised':
        ax.set_xlabel("Z' / R")
        ax.set_ylabel("-Z'' / R")
        ax.set_xlim(-0.05, 2.0)
        ax.set_ylim(-0.05, 1.2)
        ax.set_aspect('equal', adjustable='box')
        reason = f' (their resistances span {decades:.1f} decades)' if decades is not None else ''
        notes.append(f"each spectrum divided by its resistance R{reason}; view cut at Z' = 2 R")
        missing = [s.label for s in spectra if not s.resistance_ohm]
        if missing:
            notes.append(f'left out (no resistance): {", ".join(missing)}')
    elif chosen == 'log':
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.set_xlabel(f"Z' / {unit}")
        ax.set_ylabel(f"-Z'' / {unit}")
        notes.append("logarithmic axes (points with -Z'' ≤ 0 left out)")
    else:
        ax.set_xlabel(f"Z' / {unit}")
        ax.set_ylabel(f"-Z'' / {unit}")
        ax.set_aspect('equal', adjustable='datalim')
        if decades is not None and decades > 1.0:
            notes.append(f'resistances span {decades:.1f} decades: the largest spectrum dominates')
    legend_outside(ax, ncol=3 if len(spectra) > 6 else 2, fontsize=7)
    set_title(ax, title, '; '.join(filter(None, [caption, *notes])))
    return figure


def plot_bode(
    frequency_hz,
    z,
    *,
    curves: Mapping[str, np.ndarray] | None = None,
    title: str | None = None,
    summary: Mapping | None = None,
):
    """|Z| and phase against frequency with the fit, and the relative residuals of the fit below; ``summary`` (the
    fit's) marks a rejected fit dashed, labelled "rejected (reason)", and a flagged one."""
    figure, axes = new_figure(3, 1, height=7.0, sharex=True, gridspec_kw={'height_ratios': [2, 2, 1]})
    ax_mod, ax_phase, ax_res = axes
    f = np.asarray(frequency_hz)
    z = np.asarray(z)
    ax_mod.loglog(f, np.abs(z), 'o', ms=3, mfc='none', label='data')
    ax_phase.semilogx(f, -np.degrees(np.angle(z)), 'o', ms=3, mfc='none')
    if curves and 'z_fit_real_ohm' in curves:
        fit = np.asarray(curves['z_fit_real_ohm']) + 1j * np.asarray(curves['z_fit_imag_ohm'])
        f_fit = np.asarray(curves['frequency_hz'])
        style, fit_label = fit_style(summary)
        ax_mod.loglog(f_fit, np.abs(fit), style, label=fit_label)
        ax_phase.semilogx(f_fit, -np.degrees(np.angle(fit)), style)
        if 'residual_real_rel' in curves:
            ax_res.semilogx(f_fit, 100 * np.asarray(curves['residual_real_rel']), 's', ms=3, label="Z'")
            ax_res.semilogx(f_fit, 100 * np.asarray(curves['residual_imag_rel']), '^', ms=3, label="Z''")
            ax_res.axhline(0, color='k', lw=0.6)
            ax_res.legend(fontsize=7, ncol=2)
    ax_mod.set_ylabel('|Z| / Ω')
    ax_phase.set_ylabel('-phase / °')
    ax_res.set_ylabel('residual / %')
    ax_res.set_xlabel('frequency / Hz')
    ax_mod.legend(fontsize=8)
    if title:
        ax_mod.set_title(title, fontsize=9)
    return figure


def plot_arrhenius(
    summary: Mapping,
    curves: Mapping[str, np.ndarray],
    *,
    title: str | None = None,
    figure_axes=None,
    label: str | None = None,
):
    """ln(sigma T) (or ln sigma) against 1000/T with each fitted regime and its activation energy."""
    figure, ax = figure_axes or new_figure()
    form = summary.get('form', 'sigma_t')
    y_key = 'ln_sigma_t' if form == 'sigma_t' else 'ln_sigma'
    x = np.asarray(curves['inverse_temperature_1000_per_k'])
    y = np.asarray(curves[y_key])
    if 'measured_conductivity_low_s_cm' in curves and 'measured_conductivity_s_cm' in curves:
        sigma = np.asarray(curves['measured_conductivity_s_cm'])
        low = y - np.log(sigma / np.asarray(curves['measured_conductivity_low_s_cm']))
        high = y + np.log(np.asarray(curves['measured_conductivity_high_s_cm']) / sigma)
        ax.errorbar(x, y, yerr=[y - low, high - y], fmt='o', ms=4, mfc='none', capsize=2, label=label or 'data')
    else:
        ax.plot(x, y, 'o', ms=4, mfc='none', label=label or 'data')
    if 'fit_inverse_temperature_1000_per_k' in curves:
        fx = np.asarray(curves['fit_inverse_temperature_1000_per_k'])
        fy = np.asarray(curves[f'fit_{y_key}'])
        band = np.asarray(curves.get(f'fit_{y_key}_stderr', np.full(fx.size, np.nan)))
        regime = np.asarray(curves.get('fit_regime_index', np.zeros(fx.size)))
        regimes = summary.get('regimes', [])
        branches = {values.get('branch') for values in regimes}
        for index, values in enumerate(regimes):
            mask = regime == index
            if mask.any():
                # with heating and cooling branches, each regime says its branch; cooling is dashed
                branch = values.get('branch') if len(branches) > 1 else None
                interval = ''
                if values.get('activation_energy_low_ev') is not None:
                    half = 0.5 * (values['activation_energy_high_ev'] - values['activation_energy_low_ev'])
                    interval = f' ± {half:.3f}'
                (line,) = ax.plot(
                    fx[mask],
                    fy[mask],
                    '--' if branch == 'cooling' else '-',
                    lw=1.4,
                    label=(f'{branch}: ' if branch else '') + f'Ea = {values["activation_energy_ev"]:.3f}{interval} eV '
                    f'({values["t_min_c"]:.0f} to {values["t_max_c"]:.0f} °C)'
                    + _bend_note(values, (summary.get('options') or {}).get('alpha')),
                )
                if np.all(np.isfinite(band[mask])):
                    ax.fill_between(
                        fx[mask],
                        fy[mask] - 2 * band[mask],
                        fy[mask] + 2 * band[mask],
                        color=line.get_color(),
                        alpha=0.15,
                    )
    ax.set_xlabel('1000 / T / K$^{-1}$')
    ax.set_ylabel('ln(σT / S cm$^{-1}$ K)' if form == 'sigma_t' else 'ln(σ / S cm$^{-1}$)')
    secondary = ax.secondary_xaxis(
        'top', functions=(lambda v: 1000.0 / np.maximum(v, 1e-9) - 273.15, lambda c: 1000.0 / (np.asarray(c) + 273.15))
    )
    secondary.set_xlabel('T / °C')
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) > 4:  # many regimes: below the axes, where it hides no point
        lines = sum(label.count('\n') + 1 for label in labels)
        figure.set_figheight(figure.get_figheight() + 0.14 * lines + 0.2)
        figure.legend(handles, labels, fontsize=7, loc='outside lower center')
    else:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


def _bend_note(regime: Mapping, alpha: float | None) -> str:
    """The legend's note on a regime tested for a bend (the ``curved_regime`` flag): trimmed, or an average."""
    before = regime.get('untrimmed')
    if before:
        return (
            f'\n    bend trimmed off (untrimmed: {before["activation_energy_ev"]:.3f} eV, '
            f'{before["t_min_c"]:.0f} to {before["t_max_c"]:.0f} °C)'
        )
    p_value = regime.get('curvature_p_value')
    if p_value is not None and alpha is not None and p_value < alpha:
        return '\n    bent: Ea averages over the bend'
    return ''


def plot_resistance_track(summary: Mapping, curves: Mapping[str, np.ndarray], *, title: str | None = None):
    """A tracked resistance against its state label (time, cycle index or upper cut-off), with the
    parabolic law when it was fitted."""
    figure, ax = new_figure()
    against = summary.get('against', 'time_since_assembly_h')
    unit = 'ohm_cm2' if any(key.endswith('_ohm_cm2') for key in curves) else 'ohm'
    x = np.asarray(curves[against])
    if against == 'time_since_assembly_h' and 'fit_time_h' in curves:
        errors = curves.get(f'resistance_stderr_{unit}')
        ax.errorbar(
            np.sqrt(x), curves[f'resistance_{unit}'], yerr=errors, fmt='o', capsize=2, label=summary.get('element', 'R')
        )
        ax.plot(
            np.sqrt(curves['fit_time_h']),
            curves[f'fit_resistance_{unit}'],
            '-',
            label=f'R0 = {summary.get("initial_resistance_ohm_cm2", float("nan")):.1f}, '
            f'k = {summary.get("rate_constant_ohm_cm2_per_sqrt_h", float("nan")):.2f}'
            + (
                f' ± {0.5 * (summary["rate_constant_high_ohm_cm2_per_sqrt_h"] - summary["rate_constant_low_ohm_cm2_per_sqrt_h"]):.2f}'
                if summary.get('rate_constant_low_ohm_cm2_per_sqrt_h') is not None
                else ''
            )
            + ' Ω cm² h$^{-1/2}$',
        )
        ax.set_xlabel('$\\sqrt{t}$ / h$^{1/2}$')
    else:
        errors = curves.get(f'resistance_stderr_{unit}')
        if errors is not None:
            ax.errorbar(
                x, curves[f'resistance_{unit}'], yerr=errors, fmt='o-', capsize=2, label=summary.get('element', 'R')
            )
        else:
            ax.plot(x, curves[f'resistance_{unit}'], 'o-', label=summary.get('element', 'R'))
        ax.set_xlabel({'cycle_index': 'cycle', 'upper_cutoff_v': 'upper cut-off / V'}.get(against, against))
    ax.set_ylabel('resistance / ' + ('Ω cm²' if unit == 'ohm_cm2' else 'Ω'))
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure


def plot_drt(
    summary: Mapping,
    curves: Mapping[str, np.ndarray],
    *,
    title: str | None = None,
    figure_axes=None,
    label=None,
    normalise: bool = False,
):
    """gamma(ln tau) against tau (log axis), with the significant peaks marked and the measured window shaded; the
    axis is scaled to the window when the distribution beyond it (a blocking electrode) is much larger.

    Overlaid on ``figure_axes`` (``label`` names the spectrum), the peaks are marked but not annotated and the
    window is named once; ``normalise`` divides each distribution by its largest value inside the window (a
    temperature series whose sizes span decades)."""
    figure, ax = figure_axes or new_figure()
    overlay = figure_axes is not None or label is not None
    tau = np.asarray(curves['tau_s'])
    gamma = np.asarray(curves['gamma_ohm'], dtype=float)
    window = None
    if 'frequency_hz' in curves:
        f = np.asarray(curves['frequency_hz'])
        window = (1 / (2 * np.pi * f.max()), 1 / (2 * np.pi * f.min()))
    scale = 1.0
    if normalise:
        inside = gamma if window is None else gamma[(tau >= window[0]) & (tau <= window[1])]
        scale = float(inside.max()) if inside.size and inside.max() > 0 else 1.0
    (line,) = ax.semilogx(
        tau, gamma / scale, '-', lw=1.4, label=label or f'DRT (λ = {summary.get("lambda", float("nan")):.2g})'
    )
    for peak in summary.get('peaks', []):
        ax.axvline(peak['tau_s'], color=line.get_color(), ls=':', lw=0.8)
        if not overlay:
            ax.annotate(
                f'{peak["tau_s"]:.2g} s\n{peak["resistance_ohm"]:.3g} Ω',
                (peak['tau_s'], float(np.interp(np.log(peak['tau_s']), np.log(tau), gamma))),
                fontsize=7,
                xytext=(3, 3),
                textcoords='offset points',
            )
    if window is not None:
        low, high = window
        first = not any(patch.get_label() == 'measured window' for patch in ax.patches)
        if first:
            ax.axvspan(low, high, color='0.92', zorder=0, label='measured window')
        inside = gamma[(tau >= low) & (tau <= high)] / scale
        if inside.size and (gamma / scale).max() > 1.5 * inside.max() > 0:
            # the mass beyond the window (a blocking electrode's remainder) would flatten the peaks: clip it
            top = max(ax.get_ylim()[1] if figure_axes else 0.0, 1.3 * float(inside.max()))
            ax.set_ylim(-0.03 * top, top)
    if normalise:
        ax.set_ylim(-0.05, 1.3)  # each peak inside the window reaches 1; the electrode tails beyond it are cut
    ax.set_xlabel('τ / s')
    ax.set_ylabel('γ / γ$_{max}$ (each spectrum)' if normalise else 'γ / Ω')
    if not overlay:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return figure
