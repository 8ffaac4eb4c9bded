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
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field
from scipy.stats import norm

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError, MissingInputError

__all__ = [
    'ConductivityError',
    'ConductivityResult',
    'ConductivitySettings',
    'InterceptResult',
    'PlateauResult',
    'SpectrumConductivity',
    'area_from_diameter_cm2',
    'conductivity_from_resistance',
    'conductivity_of_spectrum',
    'high_frequency_intercept',
    'real_conductivity_plateau',
    'resistance_of_fit',
]


class ConductivityError(AnalysisError):
    """Bad geometry or a spectrum from which the requested quantity cannot be read."""


class ConductivitySettings(Settings):
    """How a conductivity is obtained from a spectrum: sigma = L / (R A), geometry from the cell."""

    method: Literal['auto', 'fit', 'intercept', 'plateau'] = Field(
        'auto',
        description='fit: a fitted resistance; intercept: the high-frequency real-axis intercept; plateau: the DC '
        'plateau of the real conductivity; auto: the fit when it is accepted, else the intercept',
    )
    resistance: str = Field(
        'auto',
        description='fit method: which resistance, a role (bulk, bulk+grain_boundary, electrolyte, total) or element '
        'names joined by + (R1+R2); auto: bulk, else the electrolyte (series resistance of a cell)',
    )
    thickness_cm: float | None = Field(None, gt=0, description='override of the electrolyte thickness')
    area_cm2: float | None = Field(None, gt=0, description='override of the area')
    intercept_rule: Literal['auto', 'crossing', 'minimum', 'spike'] = Field(
        'auto', description='intercept method: how the real-axis intercept is read (see the docs)'
    )
    spike_points: int = Field(5, ge=2, description='intercept rule spike: points of the spike extrapolated')
    plateau_flatness: float = Field(
        0.05, gt=0, description="plateau method: largest |d ln sigma' / d ln f| of a plateau point"
    )
    plateau_window_hz: tuple[float, float] | None = Field(
        None, description='plateau method: use this frequency window instead of finding the plateau'
    )
    plateau_min_points: int = Field(3, ge=1, description='plateau method: fewest points of a plateau')
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description='level of the reported interval')


def _positive(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConductivityError(f'{name} must be a number, got {value!r}') from None
    if not math.isfinite(out) or out <= 0:
        raise ConductivityError(f'{name} must be finite and > 0, got {value!r}')
    return out


def _spectrum(frequency_hz: ArrayLike, z: ArrayLike | tuple[ArrayLike, ArrayLike]) -> tuple[np.ndarray, np.ndarray]:
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


def high_frequency_intercept(
    frequency_hz: ArrayLike, z: ArrayLike | tuple[ArrayLike, ArrayLike], *, method: str = 'auto', spike_points: int = 5
) -> InterceptResult:
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
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
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


# ----------------------------------------------------------------------------- the analysis of one spectrum


def _z_quantile(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2.0))


def resistance_of_fit(fit: Mapping[str, Any], which: str) -> tuple[float, str, float | None]:
    """The resistance (ohm) named by ``which`` in a fit summary, its elements and its standard error.

    ``which`` is a role (``bulk``, ``grain_boundary``, ``electrolyte``, ``interface``...), roles or element
    names joined by ``+`` (``bulk+grain_boundary``, ``R1+R2``), ``total`` (every resistor) or ``auto`` (the
    ``bulk``, else the ``electrolyte``). The standard error is that of the sum, from the fit's covariance
    (``covariance``/``covariance_parameters``) when stored, else from the standard errors as if independent;
    None when neither is known. Raises :class:`~aiida_ssb.exceptions.MissingInputError` naming what exists."""
    resistors = {
        key[: -len('_ohm')].upper(): float(value)
        for key, value in fit.items()
        if key.startswith('r') and key.endswith('_ohm') and '_stderr' not in key and key[1:-4].isalnum()
    }
    roles = {
        key[len('role_') :].upper(): value
        for key, value in fit.items()
        if key.startswith('role_') and not key.startswith('role_source_') and isinstance(value, str)
    }
    if which == 'auto':
        present = set(roles.values())
        which = 'bulk' if 'bulk' in present else 'electrolyte'
    if which == 'total':
        names = sorted(resistors)
    else:
        names = []
        for part in which.split('+'):
            part = part.strip()
            by_role = [name for name, role in roles.items() if role == part and name in resistors]
            if by_role:
                names.extend(by_role)
            elif part.upper() in resistors:
                names.append(part.upper())
            else:
                known = ', '.join(sorted(resistors)) + (
                    f'; roles: {", ".join(f"{k}={v}" for k, v in roles.items() if k in resistors)}' if roles else ''
                )
                raise MissingInputError(f'the fit has no resistance {part!r} (resistances: {known})')
    names = list(dict.fromkeys(names))
    value = float(sum(resistors[name] for name in names))
    return value, '+'.join(names), _sum_stderr(fit, names)


def _sum_stderr(fit: Mapping[str, Any], names: list[str]) -> float | None:
    covariance = fit.get('covariance')
    order = fit.get('covariance_parameters')
    if covariance is not None and order is not None and all(name in order for name in names):
        index = [order.index(name) for name in names]
        matrix = np.asarray(covariance, dtype=float)[np.ix_(index, index)]
        return float(math.sqrt(max(float(matrix.sum()), 0.0)))
    errors = [fit.get(f'{name.lower()}_stderr_ohm') for name in names]
    if any(e is None for e in errors):
        return None
    return float(math.sqrt(sum(float(e) ** 2 for e in errors if e is not None)))


@dataclasses.dataclass
class SpectrumConductivity:
    """The conductivity of one spectrum, how it was read, its interval and flags."""

    conductivity_s_cm: float
    method_used: str
    thickness_cm: float
    area_cm2: float
    resistance_ohm: float | None
    resistance_source: str | None
    relative_stderr: dict[str, float]
    confidence: float
    z_value: float
    detail: dict[str, Any]
    notes: list[str]
    flags: list[dict[str, str]]
    parameters: dict[str, Any]

    @property
    def stderr_rel(self) -> float | None:
        if not self.relative_stderr:
            return None
        return math.sqrt(sum(v * v for v in self.relative_stderr.values()))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.detail)
        out.update(
            {
                'method': 'conductivity',
                'method_used': self.method_used,
                'parameters': dict(self.parameters),
                'conductivity_s_cm': self.conductivity_s_cm,
                'thickness_cm': self.thickness_cm,
                'area_cm2': self.area_cm2,
                'formula': 'sigma = L / (R A)' if self.method_used != 'plateau' else out.get('formula'),
                'flags': list(self.flags),
            }
        )
        if self.resistance_ohm is not None:
            out['resistance_ohm'] = self.resistance_ohm
            out['area_specific_resistance_ohm_cm2'] = self.resistance_ohm * self.area_cm2
        if self.resistance_source is not None:
            out['resistance_source'] = self.resistance_source
        rel = self.stderr_rel
        if rel is not None:
            out['conductivity_stderr_s_cm'] = self.conductivity_s_cm * rel
            out['conductivity_stderr_rel'] = rel
            out['conductivity_low_s_cm'] = self.conductivity_s_cm * math.exp(-self.z_value * rel)
            out['conductivity_high_s_cm'] = self.conductivity_s_cm * math.exp(self.z_value * rel)
            out['interval_confidence'] = self.confidence
            out['interval_sources'] = sorted(self.relative_stderr)
            for source, value in self.relative_stderr.items():
                out[f'conductivity_stderr_rel_{source}'] = value
        if self.notes:
            out['notes'] = list(self.notes)
        return out


def _auto_method(fit: Mapping[str, Any] | None, which: str, notes: list[str]) -> str:
    if fit is None:
        notes.append('no fit given: intercept')
        return 'intercept'
    if not fit.get('accepted', fit.get('success', False)):
        reason = fit.get('quality_reason') or f'chi2/|Z| {fit.get("chi2_over_z", float("nan")):.3g}'
        notes.append(f'the fit is rejected ({reason}): intercept')
        return 'intercept'
    try:
        resistance_of_fit(fit, which)
    except MissingInputError as exc:
        notes.append(f'{exc}: intercept')
        return 'intercept'
    return 'fit'


def conductivity_of_spectrum(
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
    *,
    fit: Mapping[str, Any] | None = None,
    thickness_cm: float | None = None,
    area_cm2: float | None = None,
    thickness_stderr_cm: float | None = None,
    area_stderr_cm2: float | None = None,
    settings: ConductivitySettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> SpectrumConductivity:
    """The ionic conductivity of one spectrum, with its interval (the analysis ``conductivity``).

    :param fit: the circuit fit of the spectrum as a summary (``SpectrumFit.to_dict()``), for the fit method.
    :param thickness_cm: electrolyte thickness ``L`` (the settings' ``thickness_cm`` overrides it).
    :param area_cm2: electrode area ``A`` (the settings' ``area_cm2`` overrides it).
    :param thickness_stderr_cm: stated standard uncertainty of ``L``.
    :param area_stderr_cm2: stated standard uncertainty of ``A``.

    The relative standard error of sigma adds in quadrature those of ``R`` (from the fit's covariance, for the
    fit method), ``L`` and ``A``; the interval is ``sigma exp(+-z rel)`` with ``z`` the normal quantile of the
    confidence (log-normal, so it stays positive). Without a fit the interval holds the geometry only.
    """
    s = ConductivitySettings.resolve(settings, **overrides)
    length = s.thickness_cm or thickness_cm
    area = s.area_cm2 or area_cm2
    if length is None or area is None:
        raise MissingInputError('the electrolyte thickness or area is unknown (give them in the cell or as settings)')
    length, area = _positive(length, 'thickness_cm'), _positive(area, 'area_cm2')
    notes: list[str] = []
    flags: list[dict[str, str]] = []
    method = _auto_method(fit, s.resistance, notes) if s.method == 'auto' else s.method
    rel: dict[str, float] = {}
    if thickness_stderr_cm is not None and s.thickness_cm is None:
        rel['thickness'] = float(thickness_stderr_cm) / length
    if area_stderr_cm2 is not None and s.area_cm2 is None:
        rel['area'] = float(area_stderr_cm2) / area
    detail: dict[str, Any] = {}
    resistance = source = None
    if method == 'fit':
        if fit is None:
            raise MissingInputError('method fit needs the fit of the spectrum')
        resistance, names, stderr = resistance_of_fit(fit, s.resistance)
        source = f'fit: {names}'
        sigma = conductivity_from_resistance(resistance, length, area).conductivity_s_cm
        if stderr is not None:
            rel['fit'] = stderr / resistance
        detail['fit_circuit'] = fit.get('circuit')
        detail['fit_quality'] = fit.get('quality', 'good' if fit.get('accepted') else 'rejected')
        if fit.get('quality') == 'flagged':
            flags.append({'flag': 'fit_flagged', 'reason': f'the circuit fit is flagged: {fit.get("quality_reason")}'})
        _outside_window(fit, names, flags)
    elif method == 'intercept':
        intercept = high_frequency_intercept(frequency_hz, z, method=s.intercept_rule, spike_points=s.spike_points)
        resistance, source = intercept.resistance_ohm, f'intercept: {intercept.method}'
        sigma = conductivity_from_resistance(resistance, length, area).conductivity_s_cm
        detail.update(intercept.to_dict())
        detail.pop('method', None)
        detail['intercept_method'] = f'nyquist_intercept_{intercept.method}'
    else:
        plateau = real_conductivity_plateau(
            frequency_hz,
            z,
            length,
            area,
            flatness=s.plateau_flatness,
            window_hz=s.plateau_window_hz,
            min_points=s.plateau_min_points,
        )
        sigma = plateau.conductivity_s_cm
        detail.update(plateau.to_dict())
        detail.pop('method', None)
        if plateau.n_points > 1:
            logs = np.log(plateau.sigma_real_s_cm[plateau.in_window])
            rel['plateau'] = float(np.std(logs, ddof=1) / math.sqrt(logs.size))
    return SpectrumConductivity(
        conductivity_s_cm=float(sigma),
        method_used=method,
        thickness_cm=length,
        area_cm2=area,
        resistance_ohm=resistance,
        resistance_source=source,
        relative_stderr=rel,
        confidence=s.confidence,
        z_value=_z_quantile(s.confidence),
        detail=detail,
        notes=notes,
        flags=flags,
        parameters=s.parameters(),
    )


def _outside_window(fit: Mapping[str, Any], names: str, flags: list[dict[str, str]]) -> None:
    """Flag a resistance whose arc's apex lies outside the fitted frequencies (extrapolated by the fit)."""
    f_max, f_min = fit.get('frequency_max_hz'), fit.get('frequency_min_hz')
    for arc in fit.get('arcs') or []:
        if arc.get('resistor') not in names.split('+'):
            continue
        fc = arc.get('characteristic_frequency_hz')
        if fc is not None and f_max is not None and (fc > f_max or (f_min is not None and fc < f_min)):
            flags.append(
                {
                    'flag': 'arc_outside_window',
                    'reason': f'the apex of the {arc["resistor"]} arc ({fc:.3g} Hz) lies outside the measured '
                    f'frequencies ({f_min:.3g}-{f_max:.3g} Hz): its resistance is extrapolated',
                }
            )
