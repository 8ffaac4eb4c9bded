"""Scherrer sizes, line pairing and lattice refinement of matched phases (see
:mod:`aiida_ssb.analysis.diffraction`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from aiida_ssb.analysis.diffraction.common import DiffractionSettings, two_theta
from aiida_ssb.analysis.signal import flag


def _scherrer(
    peaks: dict[str, np.ndarray], lam: float, s: DiffractionSettings, flags: list[dict[str, Any]]
) -> np.ndarray:
    fwhm = peaks['fwhm_deg']
    instrument = s.instrument_fwhm_deg
    if instrument is None:
        broadening = fwhm.copy()
        flags.append(
            flag('no_instrument_broadening', 'instrument_fwhm_deg not given: crystallite sizes are lower bounds')
        )
    elif s.broadening_correction == 'quadratic':
        broadening = np.sqrt(np.clip(fwhm**2 - instrument**2, 0.0, None))
    else:
        broadening = fwhm - instrument
    resolvable = broadening > (0.2 * instrument if instrument else 0.0)
    if instrument is not None and not resolvable.all():
        flags.append(
            flag(
                'instrument_limited',
                f'{int((~resolvable).sum())} peak(s) broadened by less than 20 % of the instrument: not sized',
            )
        )
    theta = np.radians(peaks['two_theta_deg'] / 2.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        size = s.scherrer_k * lam / (np.radians(broadening) * np.cos(theta)) / 10.0
    size[~resolvable | ~np.isfinite(size)] = np.nan
    return np.asarray(size)


def _nearest(lines: np.ndarray, observed: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one nearest pairs (line index, peak index) within the tolerance, closest first."""
    if lines.size == 0 or observed.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    distance = np.abs(lines[:, None] - observed[None, :])
    candidates = np.argwhere(distance <= tolerance)
    order = np.argsort(distance[candidates[:, 0], candidates[:, 1]])
    used_lines, used_peaks, pairs = set(), set(), []
    for li, pi in candidates[order]:
        if li in used_lines or pi in used_peaks:
            continue
        used_lines.add(li)
        used_peaks.add(pi)
        pairs.append((li, pi))
    pairs.sort()
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lines_index, peaks_index = zip(*pairs)
    return np.asarray(lines_index, dtype=np.int64), np.asarray(peaks_index, dtype=np.int64)


def _inverse_d2(system: str, hkl: np.ndarray, a: float, c: float) -> np.ndarray:
    h, k, l = hkl[:, 0], hkl[:, 1], hkl[:, 2]  # noqa: E741
    if system == 'cubic':
        return np.asarray((h * h + k * k + l * l) / a**2)
    if system == 'tetragonal':
        return np.asarray((h * h + k * k) / a**2 + l * l / c**2)
    return np.asarray(4.0 / 3.0 * (h * h + h * k + k * k) / a**2 + l * l / c**2)


def _relabel(
    lines: dict[str, np.ndarray], system: str, cell: tuple[float, float, float], lam: float
) -> dict[str, np.ndarray]:
    out = dict(lines)
    inverse = _inverse_d2(system, lines['hkl'], cell[0], cell[2])
    out['d_angstrom'] = 1.0 / np.sqrt(inverse)
    out['two_theta_deg'] = two_theta(out['d_angstrom'], lam)
    return out


def _refine(
    system: str, cell: Sequence[float], hkl: np.ndarray, observed: np.ndarray, lam: float, s: DiffractionSettings
) -> dict[str, Any]:
    a0 = float(cell[0])
    c0 = float(cell[2])
    uses_c = system != 'cubic'

    def unpack(p: np.ndarray) -> tuple[float, float, float]:
        a = p[0]
        c = p[1] if uses_c else a
        zero = p[-1] if s.refine_zero_shift else 0.0
        return a, c, zero

    def residual(p: np.ndarray) -> np.ndarray:
        a, c, zero = unpack(p)
        d = 1.0 / np.sqrt(_inverse_d2(system, hkl, a, c))
        return np.asarray(two_theta(d, lam) + zero - observed)

    start = [a0] + ([c0] if uses_c else []) + ([0.0] if s.refine_zero_shift else [])
    fitted = least_squares(residual, start, x_scale='jac')
    if not fitted.success or not np.all(np.isfinite(fitted.x)):
        return {}
    a, c, zero = unpack(fitted.x)
    dof = hkl.shape[0] - fitted.x.size
    out: dict[str, Any] = {
        'refined_lattice': True,
        'a_angstrom': float(a),
        'n_indexed': int(hkl.shape[0]),
        'rms_deviation_deg': float(np.sqrt(np.mean(fitted.fun**2))),
    }
    if uses_c:
        out['c_angstrom'] = float(c)
    if s.refine_zero_shift:
        out['zero_shift_deg'] = float(zero)
    if dof > 0:
        s2 = float(np.sum(fitted.fun**2)) / dof
        try:
            covariance = np.linalg.inv(fitted.jac.T @ fitted.jac) * s2
            out['a_stderr_angstrom'] = float(math.sqrt(max(covariance[0, 0], 0.0)))
            if uses_c:
                out['c_stderr_angstrom'] = float(math.sqrt(max(covariance[1, 1], 0.0)))
        except np.linalg.LinAlgError:
            pass
    if system == 'cubic':
        out['volume_angstrom3'] = float(a**3)
    elif system == 'tetragonal':
        out['volume_angstrom3'] = float(a * a * c)
    else:
        out['volume_angstrom3'] = float(math.sqrt(3.0) / 2.0 * a * a * c)
    return out
