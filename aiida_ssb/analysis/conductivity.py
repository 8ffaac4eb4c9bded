"""Ionic conductivity of a pellet from impedance data.

Conventions (``L`` thickness in cm, ``A`` electrode area in cm2, ``R`` resistance in ohm):

* ``sigma = L / (R A)`` in S/cm; the area-specific resistance is ``ASR = R A`` in ohm cm2, so
  ``sigma = L / ASR``;
* the complex conductivity is ``sigma*(w) = (L/A) / Z(w)``, whose real part is
  ``sigma'(f) = (L/A) Z' / (Z'^2 + Z''^2)``; its frequency-independent plateau is the DC
  conductivity (the method of seed 004);
* ``A = pi d^2 / 4`` when only a diameter is known (:func:`area_from_diameter_cm2`). Which diameter
  (pellet or electrode) is used is the caller's choice and is recorded in every result.

Three ways to get ``R`` or ``sigma`` are offered, each recorded by name in ``to_dict()['method']``:
an equivalent-circuit resistance (:func:`conductivity_from_resistance`), the Nyquist intercept
(:func:`high_frequency_intercept`), and the sigma' plateau (:func:`real_conductivity_plateau`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'ConductivityError',
    'ConductivityResult',
    'ConductivitySettings',
    'InterceptResult',
    'PlateauResult',
    'area_from_diameter_cm2',
    'conductivity_from_resistance',
    'high_frequency_intercept',
    'real_conductivity_plateau',
]


class ConductivityError(AnalysisError):
    """Bad geometry or a spectrum from which the requested quantity cannot be read."""


class ConductivitySettings(Settings):
    """How a conductivity is obtained from a spectrum: sigma = L / (R A), geometry from the cell."""

    method: Literal['auto', 'fit', 'intercept', 'plateau'] = Field(
        'auto',
        description='fit: a fitted resistance; intercept: the high-frequency real-axis intercept; plateau: the DC '
        'plateau of the real conductivity; auto: the fit when it is accepted and its arc lies within the measured '
        'frequencies, else the intercept',
    )
    resistance: str = Field(
        'bulk',
        description='fit method: which resistance, a role (bulk, bulk+grain_boundary, total) or element names '
        'joined by + (R1+R2)',
    )
    thickness_cm: float | None = Field(None, gt=0, description='override of the electrolyte thickness')
    area_cm2: float | None = Field(None, gt=0, description='override of the area')


def _positive(value, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConductivityError(f'{name} must be a number, got {value!r}') from None
    if not math.isfinite(out) or out <= 0:
        raise ConductivityError(f'{name} must be finite and > 0, got {value!r}')
    return out


def _spectrum(frequency_hz, z) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(frequency_hz, dtype=float).ravel()
    if isinstance(z, tuple) and len(z) == 2:
        zc = np.asarray(z[0], dtype=float).ravel() + 1j * np.asarray(z[1], dtype=float).ravel()
    else:
        zc = np.asarray(z)
        if not np.iscomplexobj(zc):
            raise ConductivityError('z must be complex (z_real_ohm + 1j * z_imag_ohm) or a (real, imag) tuple')
        zc = zc.astype(complex).ravel()
    if f.size != zc.size:
        raise ConductivityError(f'frequency_hz has {f.size} values but z has {zc.size}')
    if f.size < 3:
        raise ConductivityError(f'at least 3 points are needed, got {f.size}')
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(zc.real)) and np.all(np.isfinite(zc.imag))):
        raise ConductivityError('frequency_hz and z must be finite')
    if np.any(f <= 0):
        raise ConductivityError('frequency_hz must be > 0')
    order = np.argsort(-f)
    return f[order], zc[order]


def area_from_diameter_cm2(diameter_cm: float) -> float:
    """Area (cm2) of a disc of diameter ``diameter_cm``: ``pi d^2 / 4``."""
    d = _positive(diameter_cm, 'diameter_cm')
    return math.pi * d * d / 4.0


# ------------------------------------------------------------------------------------ from a resistance


@dataclasses.dataclass
class ConductivityResult:
    """``sigma = L / (R A)`` and the area-specific resistance ``R A``."""

    conductivity_s_cm: float
    resistance_ohm: float
    area_specific_resistance_ohm_cm2: float
    thickness_cm: float
    area_cm2: float
    method: str
    resistance_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            'method': self.method,
            'conductivity_s_cm': self.conductivity_s_cm,
            'resistance_ohm': self.resistance_ohm,
            'area_specific_resistance_ohm_cm2': self.area_specific_resistance_ohm_cm2,
            'thickness_cm': self.thickness_cm,
            'area_cm2': self.area_cm2,
            'formula': 'sigma = L / (R A)',
        }
        if self.resistance_source is not None:
            out['resistance_source'] = self.resistance_source
        return out


def conductivity_from_resistance(
    resistance_ohm: float, thickness_cm: float, area_cm2: float, *, resistance_source: str | None = None
) -> ConductivityResult:
    """Conductivity (S/cm) and area-specific resistance (ohm cm2) from a resistance.

    :param resistance_ohm: the resistance that counts (bulk, bulk + grain boundary, total...).
    :param thickness_cm: pellet thickness ``L``.
    :param area_cm2: electrode area ``A``.
    :param resistance_source: free text recorded in the result, e.g. ``'R1 of R0-p(R1,CPE1)-CPE2'``
        or ``'high-frequency intercept'``.
    """
    r = _positive(resistance_ohm, 'resistance_ohm')
    length = _positive(thickness_cm, 'thickness_cm')
    area = _positive(area_cm2, 'area_cm2')
    return ConductivityResult(
        conductivity_s_cm=length / (r * area),
        resistance_ohm=r,
        area_specific_resistance_ohm_cm2=r * area,
        thickness_cm=length,
        area_cm2=area,
        method='resistance',
        resistance_source=resistance_source,
    )


# -------------------------------------------------------------------------------------- Nyquist intercept

INTERCEPT_METHODS = ('auto', 'crossing', 'minimum', 'spike')


@dataclasses.dataclass
class InterceptResult:
    """A resistance read on the Nyquist plot."""

    resistance_ohm: float
    frequency_hz: float
    method: str
    imag_at_point_ohm: float
    n_points_used: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            'method': f'nyquist_intercept_{self.method}',
            'resistance_ohm': self.resistance_ohm,
            'frequency_hz': self.frequency_hz,
            'imag_at_point_ohm': self.imag_at_point_ohm,
            'n_points_used': self.n_points_used,
            'rule': self.detail,
        }


def _crossing(f: np.ndarray, zc: np.ndarray) -> InterceptResult | None:
    zi = -zc.imag
    if zi[0] > 0:
        return None
    for i in range(1, f.size):
        if zi[i] > 0:
            a, b = zi[i - 1], zi[i]
            t = -a / (b - a)
            re = zc.real[i - 1] + t * (zc.real[i] - zc.real[i - 1])
            lf = np.log(f[i - 1]) + t * (np.log(f[i]) - np.log(f[i - 1]))
            return InterceptResult(
                float(re),
                float(np.exp(lf)),
                'crossing',
                0.0,
                2,
                'Re Z interpolated linearly in -Im Z where -Im Z turns from <= 0 (inductive) '
                'to > 0 (capacitive), searching from the highest frequency',
            )
    return None


def _minimum_index(zc: np.ndarray) -> int | None:
    zi = -zc.imag
    for i in range(1, zi.size - 1):
        if zi[i] <= zi[i - 1] and zi[i] < zi[i + 1]:
            return i
    return None


def _minimum(f: np.ndarray, zc: np.ndarray) -> InterceptResult | None:
    i = _minimum_index(zc)
    if i is None:
        return None
    zi = -zc.imag
    x = np.log(f[i - 1 : i + 2])
    a, b, _ = np.polyfit(x, zi[i - 1 : i + 2], 2)
    xv = -b / (2 * a) if a > 0 else x[1]
    xv = float(np.clip(xv, min(x[0], x[2]), max(x[0], x[2])))
    re = float(np.interp(xv, x[::-1], zc.real[i - 1 : i + 2][::-1]))
    zi_v = float(np.interp(xv, x[::-1], zi[i - 1 : i + 2][::-1]))
    return InterceptResult(
        re,
        float(np.exp(xv)),
        'minimum',
        -zi_v,
        3,
        'no zero crossing: Re Z at the first local minimum of -Im Z from the high-frequency end, '
        'refined by a parabola through the minimum and its two neighbours in log f',
    )


def _spike(f: np.ndarray, zc: np.ndarray, spike_points: int) -> InterceptResult | None:
    i = _minimum_index(zc)
    if i is None:
        i = 0
    seg = slice(i, min(i + spike_points, f.size))
    re, zi = zc.real[seg], -zc.imag[seg]
    if re.size < 2 or np.ptp(zi) == 0:
        return None
    _slope, intercept = np.polyfit(zi, re, 1)  # Re = intercept + slope * (-Im)
    return InterceptResult(
        float(intercept),
        float(f[i]),
        'spike',
        0.0,
        int(re.size),
        f'low-frequency spike extrapolated to -Im Z = 0: straight line Re Z vs -Im Z through '
        f'{re.size} points starting at the first -Im Z minimum',
    )


def high_frequency_intercept(frequency_hz, z, *, method: str = 'auto', spike_points: int = 5) -> InterceptResult:
    """Resistance read where the spectrum meets the real axis.

    Rules (the data are sorted from high to low frequency):

    * ``'crossing'``: ``-Im Z`` changes sign from ``<= 0`` (inductive) to ``> 0``; ``Re Z`` is
      interpolated linearly at ``-Im Z = 0``;
    * ``'minimum'``: the first local minimum of ``-Im Z`` (e.g. the valley between a bulk arc and an
      electrode spike); a parabola through it and its neighbours in ``log f`` gives the vertex, where
      ``Re Z`` is interpolated. The residual ``-Im Z`` there is reported (``imag_at_point_ohm``);
    * ``'spike'``: a straight line through ``spike_points`` points of the low-frequency spike
      (from the first ``-Im Z`` minimum on) extrapolated to ``-Im Z = 0``: the total resistance of a
      blocking-electrode pellet whose arcs lie above the measured range;
    * ``'auto'``: ``'crossing'``, else ``'minimum'``, else ``'spike'`` (a spectrum that is all electrode spike).

    Raises :class:`ConductivityError` when the chosen rule finds nothing (no sign change, no
    minimum): the spectrum does not approach the real axis and a circuit fit is needed instead.
    """
    if method not in INTERCEPT_METHODS:
        raise ConductivityError(f'method must be one of {INTERCEPT_METHODS}, got {method!r}')
    f, zc = _spectrum(frequency_hz, z)
    result = None
    if method in ('auto', 'crossing'):
        result = _crossing(f, zc)
    if result is None and method in ('auto', 'minimum'):
        result = _minimum(f, zc)
    if method == 'spike' or (result is None and method == 'auto'):
        # last resort of 'auto': a spectrum that is all electrode spike (the bulk arc lies above the highest
        # frequency, as for a fast conductor when hot) meets the real axis where the spike extrapolates to
        result = _spike(f, zc, int(spike_points))
    if result is None:
        raise ConductivityError(
            f'no intercept by rule {method!r}: -Im(Z) never turns from <= 0 to > 0 and has no local minimum '
            f'({f.size} points, {f.max():.3g}-{f.min():.3g} Hz); the spectrum does not reach the real axis, '
            'so fit an equivalent circuit instead'
        )
    return result


# ------------------------------------------------------------------------------------- sigma' plateau


@dataclasses.dataclass
class PlateauResult:
    """DC conductivity from the plateau of ``sigma'(f)``."""

    conductivity_s_cm: float
    window_low_hz: float
    window_high_hz: float
    n_points: int
    window_abs_log_slope: float
    spread_rel: float
    flatness: float
    window_given: bool
    thickness_cm: float
    area_cm2: float
    frequency_hz: np.ndarray
    sigma_real_s_cm: np.ndarray
    in_window: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            'method': 'real_conductivity_plateau',
            'conductivity_s_cm': self.conductivity_s_cm,
            'window_low_hz': self.window_low_hz,
            'window_high_hz': self.window_high_hz,
            'window_decades': math.log10(self.window_high_hz / self.window_low_hz),
            'n_points': self.n_points,
            'window_abs_log_slope': self.window_abs_log_slope,
            'spread_rel': self.spread_rel,
            'flatness': self.flatness,
            'window_given': self.window_given,
            'thickness_cm': self.thickness_cm,
            'area_cm2': self.area_cm2,
            'formula': "sigma'(f) = (L/A) Z' / |Z|^2; sigma_dc = geometric mean over the plateau",
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            'frequency_hz': self.frequency_hz.copy(),
            'sigma_real_s_cm': self.sigma_real_s_cm.copy(),
            'in_plateau': self.in_window.astype(float),
        }


def real_conductivity_plateau(
    frequency_hz,
    z,
    thickness_cm: float,
    area_cm2: float,
    *,
    flatness: float = 0.05,
    window_hz: tuple[float, float] | None = None,
    min_points: int = 3,
) -> PlateauResult:
    """DC conductivity from the frequency-independent plateau of ``sigma'(f) = (L/A) Z'/|Z|^2``.

    Without ``window_hz`` the plateau is the widest (in decades of frequency) run of consecutive
    points whose local log-log slope ``|d ln sigma' / d ln f|`` -- a straight-line fit through each
    point and its two neighbours -- is at most ``flatness`` (0.05: sigma' changes by less than
    12 % per decade), with at least ``min_points`` points. ``sigma_dc`` is the geometric mean of
    sigma' over the plateau. With ``window_hz=(low, high)`` the points in that window are used as
    given. Where a spectrum shows two plateaus (bulk at high frequency, bulk + grain boundary below)
    the wider one wins; pass ``window_hz`` to choose.

    Raises :class:`ConductivityError` when no run of ``min_points`` flat points exists.
    """
    length = _positive(thickness_cm, 'thickness_cm')
    area = _positive(area_cm2, 'area_cm2')
    flat = _positive(flatness, 'flatness')
    f, zc = _spectrum(frequency_hz, z)
    f, zc = f[::-1], zc[::-1]  # ascending frequency
    mod2 = zc.real**2 + zc.imag**2
    if np.any(mod2 == 0):
        raise ConductivityError('z contains 0 ohm points')
    sigma = (length / area) * zc.real / mod2
    n = f.size
    if window_hz is not None:
        lo, hi = sorted(float(v) for v in window_hz)
        mask = (f >= lo) & (f <= hi) & (sigma > 0)
        if mask.sum() < 1:
            raise ConductivityError(f"no point with sigma' > 0 inside window_hz={window_hz}")
        idx = np.flatnonzero(mask)
        given = True
    else:
        logf = np.log(f)
        with np.errstate(divide='ignore', invalid='ignore'):
            logs = np.log(np.where(sigma > 0, sigma, np.nan))
        slopes = np.full(n, np.inf)
        for i in range(n):
            j0, j1 = max(0, i - 1), min(n, i + 2)
            x, y = logf[j0:j1], logs[j0:j1]
            if np.all(np.isfinite(y)) and x.size >= 2:
                slopes[i] = abs(np.polyfit(x, y, 1)[0])
        ok = slopes <= flat
        best = None
        i = 0
        while i < n:
            if not ok[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and ok[j + 1]:
                j += 1
            if j - i + 1 >= min_points:
                width = logf[j] - logf[i]
                key = (width, j - i + 1)
                if best is None or key > best[0]:
                    best = (key, i, j)
            i = j + 1
        if best is None:
            raise ConductivityError(
                f"no plateau: no {min_points} consecutive points with |d ln sigma'/d ln f| <= {flat} "
                f'(smallest local slope {np.min(slopes):.3g}); raise flatness or give window_hz'
            )
        idx = np.arange(best[1], best[2] + 1)
        given = False
    sel = sigma[idx]
    sigma_dc = float(np.exp(np.mean(np.log(sel))))
    if idx.size >= 2:
        window_slope = float(abs(np.polyfit(np.log(f[idx]), np.log(sel), 1)[0]))
    else:
        window_slope = 0.0
    in_window = np.zeros(n, dtype=bool)
    in_window[idx] = True
    return PlateauResult(
        conductivity_s_cm=sigma_dc,
        window_low_hz=float(f[idx[0]]),
        window_high_hz=float(f[idx[-1]]),
        n_points=int(idx.size),
        window_abs_log_slope=window_slope,
        spread_rel=float(sel.max() / sel.min() - 1.0),
        flatness=flat,
        window_given=given,
        thickness_cm=length,
        area_cm2=area,
        frequency_hz=f,
        sigma_real_s_cm=sigma,
        in_window=in_window,
    )
