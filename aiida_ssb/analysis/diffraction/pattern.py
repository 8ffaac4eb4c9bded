"""Background, peaks, phase matching and the result of a powder pattern (see
:mod:`aiida_ssb.analysis.diffraction`)."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import find_peaks, peak_widths

from aiida_ssb.analysis.diffraction.common import (
    CU_KALPHA1_ANGSTROM,
    DiffractionSettings,
    ReferencePhase,
    d_spacing,
    two_theta,
)
from aiida_ssb.analysis.diffraction.lattice import _cell_of, _lattice_lines, _read_cif, _read_pattern_file
from aiida_ssb.analysis.diffraction.refine import _nearest, _refine, _relabel, _scherrer
from aiida_ssb.analysis.signal import as_float_array, flag, robust_noise, smooth
from aiida_ssb.exceptions import InsufficientDataError, MissingInputError

_LN2 = math.log(2.0)


# ------------------------------------------------------------------------------------------------ background
def snip_background(intensity: np.ndarray, half_width_points: int) -> np.ndarray:
    """SNIP background (LLS-transformed counts, clipping windows 1..half_width_points)."""
    y = np.clip(np.asarray(intensity, dtype=float), 0.0, None)
    v = np.log(np.log(np.sqrt(y + 1.0) + 1.0) + 1.0)
    n = v.size
    m = max(1, min(half_width_points, (n - 1) // 2))
    for p in range(1, m + 1):
        mean = 0.5 * (v[: n - 2 * p] + v[2 * p :])
        np.minimum(v[p : n - p], mean, out=v[p : n - p])
    return np.asarray((np.exp(np.exp(v) - 1.0) - 1.0) ** 2 - 1.0)


# ------------------------------------------------------------------------------------------------ profiles
def _pseudo_voigt(x: np.ndarray, center: float, area: float, fwhm: float, eta: float) -> np.ndarray:
    u = (x - center) / fwhm
    gauss = (2.0 / fwhm) * math.sqrt(_LN2 / math.pi) * np.exp(-4.0 * _LN2 * u * u)
    lorentz = (2.0 / (math.pi * fwhm)) / (1.0 + 4.0 * u * u)
    return area * (eta * lorentz + (1.0 - eta) * gauss)


def _peak_height(area: float, fwhm: float, eta: float) -> float:
    return area * (eta * 2.0 / (math.pi * fwhm) + (1.0 - eta) * 2.0 * math.sqrt(_LN2 / math.pi) / fwhm)


def reference_lines(
    ref: ReferencePhase, wavelength: float, d_min: float, settings: DiffractionSettings | None = None
) -> dict[str, Any]:
    """The lines of a reference phase down to ``d_min``: d-spacing, 2theta, relative intensity (1 when
    unknown), hkl (absent rows -1), its crystal system and cell where known."""
    system: str | None = ref.crystal_system
    cell: tuple[float, ...] | None = None
    if ref.a_angstrom is not None:
        cell = _cell_of(ref)
        lines = _lattice_lines(cell, ref.centring, d_min)
        lines['intensity'] = np.ones(lines['d_angstrom'].size)
    elif ref.cif is not None:
        cell, centring, system, atoms = _read_cif(ref.cif)
        lines = _lattice_lines(cell, centring, d_min, atoms or None)
        angle = np.radians(two_theta(lines['d_angstrom'], wavelength) / 2.0)
        with np.errstate(invalid='ignore', divide='ignore'):
            lorentz_polarisation = (1.0 + np.cos(2 * angle) ** 2) / (np.sin(angle) ** 2 * np.cos(angle))
        lines['intensity'] = lines['intensity'] * (lines['multiplicity'] if not atoms else 1.0) * lorentz_polarisation
        if not atoms:
            lines['intensity'] = np.ones(lines['d_angstrom'].size)
    elif ref.pattern is not None:
        angles, counts, stated = _read_pattern_file(ref.pattern)
        pattern_wavelength = ref.pattern_wavelength_angstrom or stated
        if pattern_wavelength is None:
            raise MissingInputError(f'reference pattern {ref.pattern}: give pattern_wavelength_angstrom')
        found = analyse_pattern(
            angles,
            counts,
            wavelength=pattern_wavelength,
            settings=(settings or DiffractionSettings()).model_copy(update={'references': ()}),
        )
        lines = {
            'd_angstrom': found.peaks['d_angstrom'],
            'hkl': np.full((found.peaks['d_angstrom'].size, 3), -1),
            'intensity': found.peaks['area'],
        }
    else:
        d = np.asarray(ref.d_spacings_angstrom, dtype=float)
        lines = {
            'd_angstrom': d,
            'hkl': np.asarray(ref.hkl, dtype=int) if ref.hkl else np.full((d.size, 3), -1),
            'intensity': np.asarray(ref.relative_intensities, dtype=float)
            if ref.relative_intensities
            else np.ones(d.size),
        }
    top = float(np.max(lines['intensity'])) if lines['intensity'].size else 1.0
    lines['relative_intensity'] = lines['intensity'] / (top or 1.0)
    lines['two_theta_deg'] = two_theta(lines['d_angstrom'], wavelength)
    return {'lines': lines, 'crystal_system': system, 'cell': cell}


# ------------------------------------------------------------------------------------------------ result
@dataclasses.dataclass
class DiffractionResult:
    """Peaks, phases (matched, refined, sized), headline numbers and flags."""

    settings: DiffractionSettings
    wavelength: float
    peaks: dict[str, np.ndarray]
    phases: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    curves: dict[str, np.ndarray]
    headline: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        peaks = [
            {
                key: (value[j].tolist() if isinstance(value[j], np.ndarray) else value[j].item())
                for key, value in self.peaks.items()
            }
            for j in range(self.peaks['two_theta_deg'].size)
        ]
        out: dict[str, Any] = {
            'method': f'diffraction_{self.settings.profile}',
            'parameters': self.settings.parameters(),
            'wavelength_angstrom': self.wavelength,
            'n_peaks': len(peaks),
            'peaks': peaks,
            'phases': self.phases,
            'flags': self.flags,
        }
        out.update(self.headline)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out = dict(self.curves)
        out.update({f'peak__{key}': value for key, value in self.peaks.items() if value.ndim == 1})
        return out


def _fit_group(
    x: np.ndarray, y: np.ndarray, guesses: list[tuple[float, float, float]], profile: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Least-squares fit of peaks (center, area, fwhm[, eta]) on a straight background; returns the parameters
    per peak, their standard errors (or None) and the fitted curve."""
    k = len(guesses)
    per = 4 if profile == 'pseudo_voigt' else 3
    middle = float(x.mean())
    starts = [float(np.min(y)), 0.0]
    lower = [-np.inf, -np.inf]
    upper = [np.inf, np.inf]
    span = float(np.ptp(x)) or 1.0
    for center, area, fwhm in guesses:
        starts += [center, max(area, 1e-12), fwhm] + ([0.5] if per == 4 else [])
        lower += [center - 0.5 * fwhm, 0.0, fwhm * 0.2] + ([0.0] if per == 4 else [])
        upper += [center + 0.5 * fwhm, np.inf, min(fwhm * 5.0, span)] + ([1.0] if per == 4 else [])
    start = np.clip(starts, np.array(lower) + 1e-12, np.array(upper) - 1e-12)
    weights = 1.0 / np.sqrt(np.maximum(np.abs(y), 1.0))

    def model(p: np.ndarray) -> np.ndarray:
        total = p[0] + p[1] * (x - middle)
        for j in range(k):
            q = p[2 + per * j : 2 + per * (j + 1)]
            eta = q[3] if per == 4 else 0.0
            total = total + _pseudo_voigt(x, q[0], q[1], q[2], eta)
        return np.asarray(total)

    def jacobian(p: np.ndarray) -> np.ndarray:
        columns = [np.ones_like(x), x - middle]
        for j in range(k):
            q = p[2 + per * j : 2 + per * (j + 1)]
            center, area, fwhm = q[0], q[1], q[2]
            eta = q[3] if per == 4 else 0.0
            u = (x - center) / fwhm
            gauss = (2.0 / fwhm) * math.sqrt(_LN2 / math.pi) * np.exp(-4.0 * _LN2 * u * u)
            denominator = 1.0 + 4.0 * u * u
            lorentz = (2.0 / (math.pi * fwhm)) / denominator
            d_gauss_c, d_lorentz_c = gauss * 8.0 * _LN2 * u / fwhm, lorentz * 8.0 * u / (fwhm * denominator)
            d_gauss_w = gauss * (-1.0 + 8.0 * _LN2 * u * u) / fwhm
            d_lorentz_w = lorentz * (-1.0 + 8.0 * u * u / denominator) / fwhm
            columns.append(area * (eta * d_lorentz_c + (1.0 - eta) * d_gauss_c))
            columns.append(eta * lorentz + (1.0 - eta) * gauss)
            columns.append(area * (eta * d_lorentz_w + (1.0 - eta) * d_gauss_w))
            if per == 4:
                columns.append(area * (lorentz - gauss))
        return np.asarray(np.stack(columns, axis=1) * weights[:, None])

    fitted = least_squares(
        lambda p: (model(p) - y) * weights, start, jac=jacobian, bounds=(lower, upper), x_scale='jac'
    )
    params = fitted.x
    errors = None
    try:
        dof = max(1, x.size - params.size)
        s2 = 2.0 * fitted.cost / dof
        covariance = np.linalg.pinv(fitted.jac.T @ fitted.jac) * s2
        errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    except np.linalg.LinAlgError:
        errors = None
    table = params[2:].reshape(k, per)
    error_table = None if errors is None else errors[2:].reshape(k, per)
    return table, error_table, model(params)


def analyse_pattern(
    two_theta_deg: Any,
    intensity: Any,
    *,
    wavelength: float | None = None,
    settings: DiffractionSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> DiffractionResult:
    """Background, peaks, phase matching, lattice refinement and Scherrer sizes of a powder pattern (see the
    module docstring). ``wavelength``: from the file (the setting ``wavelength_angstrom`` wins).

    :raises InsufficientDataError: too few points, or no peak above the thresholds.
    """
    s = DiffractionSettings.resolve(settings, **overrides)
    x = as_float_array('two_theta_deg', two_theta_deg)
    y = as_float_array('intensity', intensity, x.size)
    keep = np.isfinite(x) & np.isfinite(y)
    if s.two_theta_range_deg is not None:
        keep &= (x >= s.two_theta_range_deg[0]) & (x <= s.two_theta_range_deg[1])
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind='stable')
    x, y = x[order], y[order]
    if x.size < 20:
        raise InsufficientDataError(f'{x.size} points: a pattern needs at least 20')
    flags: list[dict[str, Any]] = []
    lam = s.wavelength_angstrom or wavelength
    if lam is None:
        lam = CU_KALPHA1_ANGSTROM
        flags.append(flag('wavelength_assumed', 'no wavelength in the file or settings: Cu K-alpha1 1.5406 A assumed'))
    step = float(np.median(np.diff(x)))
    if step <= 0:
        raise InsufficientDataError('two_theta_deg: repeated angles only')
    # SNIP on the lightly smoothed counts (on raw counts it follows the noise's lower envelope, leaving the net
    # intensity offset upwards by about a standard deviation)
    window = max(5, round(s.smoothing_deg / step) | 1)
    background = snip_background(smooth(y, 5, 2), round(s.background_window_deg / step))
    # SNIP follows the lower envelope of the noise: lift it by the median residual of the rows that are not
    # peaks (residual within 3 noise standard deviations of the median; twice)
    sigma = robust_noise(y)
    for _ in range(2):
        residual = y - background
        centre = float(np.median(residual))
        # (<=: on a noiseless flat pattern sigma is 0 and every residual equals the median)
        background = background + float(np.median(residual[residual <= centre + 3.0 * sigma]))
    net = y - background
    smoothed = smooth(net, window, 2)
    noise = robust_noise(net)  # of the raw net counts: a conservative scale for the smoothed curve
    top = float(np.max(smoothed))
    threshold = max(s.min_relative_intensity * top, s.noise_factor * noise)
    found, properties = find_peaks(smoothed, height=threshold, prominence=threshold, distance=2, width=2)
    if found.size == 0:
        raise InsufficientDataError('no peak above the thresholds')
    if found.size > s.max_peaks:
        strongest = np.argsort(properties['peak_heights'])[::-1][: s.max_peaks]
        found = np.sort(found[strongest])
        flags.append(flag('peaks_truncated', f'only the {s.max_peaks} strongest peaks are kept'))
    widths = np.maximum(peak_widths(smoothed, found, rel_height=0.5)[0] * step, 2 * step)
    # groups of overlapping fit windows
    half = s.fit_window_fwhm * widths
    groups: list[list[int]] = [[0]]
    for j in range(1, found.size):
        previous = groups[-1][-1]
        if x[found[j]] - half[j] <= x[found[previous]] + half[previous]:
            groups[-1].append(j)
        else:
            groups.append([j])
    rows: dict[str, list[Any]] = {key: [] for key in ('two_theta_deg', 'area', 'fwhm_deg', 'eta')}
    errors: dict[str, list[float]] = {key: [] for key in ('two_theta_deg', 'area', 'fwhm_deg')}
    model_curve = background.copy()
    for group in groups:
        lo = x[found[group[0]]] - half[group[0]]
        hi = x[found[group[-1]]] + half[group[-1]]
        inside = (x >= lo) & (x <= hi)
        guesses = []
        for j in group:
            height = float(smoothed[found[j]])
            guesses.append((float(x[found[j]]), height * widths[j] * 1.064, float(widths[j])))
        try:
            table, error_table, curve = _fit_group(x[inside], y[inside], guesses, s.profile)
        except (ValueError, np.linalg.LinAlgError):
            table = np.array([[c, a, w] + ([0.0] if s.profile == 'pseudo_voigt' else []) for c, a, w in guesses])
            error_table, curve = None, None
            flags.append(
                flag('fit_failed', f'peaks near {lo:.2f}-{hi:.2f} deg: the profile fit failed, estimates kept')
            )
        if curve is not None:
            model_curve[inside] = curve
        for m in range(len(group)):
            row = table[m]
            rows['two_theta_deg'].append(float(row[0]))
            rows['area'].append(float(row[1]))
            rows['fwhm_deg'].append(float(row[2]))
            rows['eta'].append(float(row[3]) if s.profile == 'pseudo_voigt' else 0.0)
            for key, column in (('two_theta_deg', 0), ('area', 1), ('fwhm_deg', 2)):
                errors[key].append(float(error_table[m][column]) if error_table is not None else math.nan)
    peaks: dict[str, np.ndarray] = {key: np.asarray(value, dtype=float) for key, value in rows.items()}
    # a diffraction peak spans several points: fitted widths below 2.5 steps are noise spikes
    real = peaks['fwhm_deg'] >= 2.5 * step
    if not real.all():
        flags.append(flag('spikes_dropped', f'{int((~real).sum())} peak(s) narrower than 2.5 points dropped as noise'))
        peaks = {key: value[real] for key, value in peaks.items()}
        errors = {key: [v for v, keep in zip(value, real) if keep] for key, value in errors.items()}
        if not real.any():
            raise InsufficientDataError('no peak wider than 2.5 points above the thresholds')
    peaks['height'] = np.array(
        [_peak_height(a, w, e) for a, w, e in zip(peaks['area'], peaks['fwhm_deg'], peaks['eta'])]
    )
    for key, value in errors.items():
        peaks[f'{key}_stderr'] = np.asarray(value, dtype=float)
    peaks['d_angstrom'] = d_spacing(peaks['two_theta_deg'], lam)
    peaks['relative_intensity'] = peaks['area'] / (peaks['area'].max() or 1.0)
    peaks['phase'] = np.full(peaks['two_theta_deg'].size, -1, dtype=np.int64)
    peaks['hkl'] = np.full((peaks['two_theta_deg'].size, 3), -1, dtype=np.int64)
    sizes = _scherrer(peaks, lam, s, flags)
    peaks['crystallite_size_nm'] = sizes
    phases = _match_phases(peaks, x, lam, s, flags)
    curves = {
        'pattern__two_theta_deg': x,
        'pattern__intensity': y,
        'pattern__background': background,
        'pattern__model': model_curve,
    }
    headline = _headline(peaks, phases)
    return DiffractionResult(s, float(lam), peaks, phases, flags, curves, headline)


def _match_phases(
    peaks: dict[str, np.ndarray], x: np.ndarray, lam: float, s: DiffractionSettings, flags: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    observed = peaks['two_theta_deg']
    d_min = lam / (2.0 * math.sin(math.radians(min(float(x.max()) + 1.0, 179.0) / 2.0)))
    phases = []
    best_distance = np.full(observed.size, np.inf)
    for number, ref in enumerate(s.references):
        described = reference_lines(ref, lam, d_min, s)
        lines = described['lines']
        system = described['crystal_system']
        zero = 0.0
        refined: dict[str, Any] = {}
        for iteration in range(3):
            position = lines['two_theta_deg'] + zero
            usable = (
                np.isfinite(position)
                & (position >= x.min())
                & (position <= x.max())
                & (lines['relative_intensity'] >= s.min_reference_intensity)
            )
            matched_line, matched_peak = _nearest(position[usable], observed, s.match_tolerance_deg)
            line_index = np.flatnonzero(usable)[matched_line]
            weight_all = float(lines['relative_intensity'][usable].sum())
            weight_matched = float(lines['relative_intensity'][line_index].sum())
            score = weight_matched / weight_all if weight_all > 0 else 0.0
            can_refine = (
                system in ('cubic', 'tetragonal', 'hexagonal')
                and described['cell'] is not None
                and not np.any(np.all(lines['hkl'][line_index] == -1, axis=1))
                and iteration < 2
            )
            if not can_refine or line_index.size < 2 + (system != 'cubic') + s.refine_zero_shift:
                break
            refined = _refine(system, described['cell'], lines['hkl'][line_index], observed[matched_peak], lam, s)
            if not refined:
                break
            zero = refined.get('zero_shift_deg', 0.0)
            cell = (refined['a_angstrom'], refined['a_angstrom'], refined.get('c_angstrom', refined['a_angstrom']))
            lines = _relabel(lines, system, cell, lam)
        entry: dict[str, Any] = {
            'name': ref.name,
            'match_fraction': score,
            'n_lines_in_range': int(usable.sum()),
            'n_matched': int(line_index.size),
            'found': bool(score >= s.min_match_fraction and line_index.size >= min(2, int(usable.sum()))),
        }
        if system:
            entry['crystal_system'] = system
        if line_index.size:
            entry['mean_abs_deviation_deg'] = float(np.mean(np.abs(observed[matched_peak] - position[line_index])))
        if entry['found']:
            entry.update(refined)
            for p, li in zip(matched_peak, line_index):
                distance = abs(observed[p] - position[li])
                if distance < best_distance[p]:
                    best_distance[p] = distance
                    peaks['phase'][p] = number
                    peaks['hkl'][p] = lines['hkl'][li]
        phases.append(entry)
    total_area = float(peaks['area'].sum()) or 1.0
    for number, entry in enumerate(phases):
        mine = peaks['phase'] == number
        if entry['found']:
            entry['intensity_share'] = float(peaks['area'][mine].sum()) / total_area
            sizes = peaks['crystallite_size_nm'][mine]
            sizes = sizes[np.isfinite(sizes)]
            if sizes.size:
                entry['crystallite_size_nm'] = float(np.median(sizes))
                entry['crystallite_size_spread_nm'] = float(np.std(sizes)) if sizes.size > 1 else 0.0
    if s.references:
        unexplained = int((peaks['phase'] < 0).sum())
        if unexplained:
            flags.append(
                flag(
                    'unexplained_peaks',
                    f'{unexplained} peak(s) match no found reference phase',
                    two_theta_deg=[round(float(v), 3) for v in observed[peaks['phase'] < 0][:20]],
                )
            )
        if not any(entry['found'] for entry in phases):
            flags.append(flag('no_phase_found', 'no reference phase reaches min_match_fraction'))
    return phases


def _headline(peaks: dict[str, np.ndarray], phases: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    strongest = int(np.argmax(peaks['area']))
    out['strongest_peak_two_theta_deg'] = float(peaks['two_theta_deg'][strongest])
    out['strongest_peak_d_angstrom'] = float(peaks['d_angstrom'][strongest])
    found = [phase for phase in phases if phase['found']]
    if found:
        out['phases_found'] = [phase['name'] for phase in found]
        main = max(found, key=lambda phase: phase.get('intensity_share', 0.0))
        out['main_phase'] = main['name']
        for key, name in (
            ('a_angstrom', 'lattice_a_angstrom'),
            ('a_stderr_angstrom', 'lattice_a_stderr_angstrom'),
            ('c_angstrom', 'lattice_c_angstrom'),
            ('c_stderr_angstrom', 'lattice_c_stderr_angstrom'),
            ('crystallite_size_nm', 'crystallite_size_nm'),
        ):
            if key in main:
                out[name] = main[key]
    elif phases:
        out['phases_found'] = []
    sizes = peaks['crystallite_size_nm'][np.isfinite(peaks['crystallite_size_nm'])]
    if 'crystallite_size_nm' not in out and sizes.size:
        out['crystallite_size_nm'] = float(np.median(sizes))
    return out


def analyse_pattern_measurement(
    measurement: Any, *, settings: DiffractionSettings | Mapping[str, Any] | None = None, **overrides: Any
) -> DiffractionResult:
    """:func:`analyse_pattern` of a parsed pattern (columns ``two_theta_deg``, ``intensity_counts``; the wavelength
    from the metadata: ``wavelength_angstrom`` or ``wavelength_kalpha1_angstrom``)."""
    columns = getattr(measurement, 'columns', measurement)
    metadata = getattr(measurement, 'metadata', {}) or {}
    for name in ('two_theta_deg', 'intensity_counts'):
        if name not in columns:
            raise InsufficientDataError(f'a diffraction pattern needs {name}; it has {", ".join(columns)}')
    wavelength = metadata.get('wavelength_angstrom') or metadata.get('wavelength_kalpha1_angstrom')
    return analyse_pattern(
        columns['two_theta_deg'], columns['intensity_counts'], wavelength=wavelength, settings=settings, **overrides
    )


def reference_files(settings: DiffractionSettings) -> list[str]:
    """Paths of the CIF and pattern files the references read (to record their checksums)."""
    return [os.fspath(path) for ref in settings.references for path in (ref.cif, ref.pattern) if path]
