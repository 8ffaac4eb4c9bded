"""Parabolic growth law of an interphase resistance: ``R(t) = R0 + k sqrt(t)``.

Diffusion-limited growth of a passivating interphase (e.g. Li metal against a hydroborate
electrolyte at open circuit, seed 002b chapter 8: ``k = 14.6 ohm cm2 h^-0.5``,
``R0 = 29.6 ohm cm2`` over 6-80 h) makes its area-specific resistance grow with the square root of
time. ``k`` and ``R0`` are the slope and intercept of an ordinary least-squares line of ``R``
against ``sqrt(t)`` (``t`` in hours), with standard errors from the regression (``n - 2`` degrees
of freedom; weighted by the fitted resistances' standard errors when known) and the coefficient of
determination ``R^2``; their intervals are ``+- t se`` (Student, ``n - 2`` degrees of freedom), with the
electrode area's stated uncertainty (common to every point) added in quadrature.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from aiida_ssb.analysis.arrhenius import ArrheniusError, LinearFit, _t_quantile, linear_fit
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = ['GrowthError', 'GrowthResult', 'GrowthSettings', 'fit_parabolic_growth']


class GrowthError(AnalysisError):
    """Input that cannot be fitted."""


class GrowthSettings(Settings):
    """Tracking of a fitted interface resistance over a cell's spectra, with the parabolic growth law."""

    element: str = Field(
        'R1', description='the resistance to track: an element name (R2), a role (interface) or roles joined by +'
    )
    against: Literal['time_since_assembly_h', 'cycle_index', 'upper_cutoff_v'] = Field(
        'time_since_assembly_h', description='the state label of the spectra to plot it against'
    )
    area_normalise: bool = Field(True, description='report ohm cm2 (resistance x electrode area)')
    fit_law: bool = Field(True, description='fit R(t) = R0 + k sqrt(t) (against time only)')
    time_window_h: tuple[float, float] | None = Field(None, description='fit only this time range')
    min_points: int = Field(3, ge=2, description='fewest points fitted (3 for standard errors)')
    weighted: bool = Field(True, description="weight the points by the fitted resistances' standard errors")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description='level of the reported intervals')


@dataclasses.dataclass
class GrowthResult:
    """Parabolic-law fit ``R = R0 + k sqrt(t)``."""

    initial_resistance_ohm_cm2: float
    initial_resistance_stderr_ohm_cm2: float | None
    rate_constant_ohm_cm2_per_sqrt_h: float
    rate_constant_stderr_ohm_cm2_per_sqrt_h: float | None
    r_squared: float
    n_points: int
    time_min_h: float
    time_max_h: float
    fit: LinearFit
    time_h: np.ndarray
    resistance_ohm_cm2: np.ndarray
    used: np.ndarray
    confidence: float = 0.95
    systematic_rel: float = 0.0
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)

    def predict(self, time_h: ArrayLike) -> np.ndarray:
        """``R0 + k sqrt(t)`` at ``time_h`` (hours)."""
        t = np.asarray(time_h, dtype=float)
        return np.asarray(self.initial_resistance_ohm_cm2 + self.rate_constant_ohm_cm2_per_sqrt_h * np.sqrt(t))

    def to_dict(self) -> dict[str, Any]:
        out = {
            'method': 'parabolic_growth',
            'parameters': dict(self.parameters),
            'formula': 'R(t) = R0 + k sqrt(t)',
            'initial_resistance_ohm_cm2': self.initial_resistance_ohm_cm2,
            'initial_resistance_stderr_ohm_cm2': self.initial_resistance_stderr_ohm_cm2,
            'rate_constant_ohm_cm2_per_sqrt_h': self.rate_constant_ohm_cm2_per_sqrt_h,
            'rate_constant_stderr_ohm_cm2_per_sqrt_h': self.rate_constant_stderr_ohm_cm2_per_sqrt_h,
            'r_squared': self.r_squared,
            'n_points': self.n_points,
            'time_min_h': self.time_min_h,
            'time_max_h': self.time_max_h,
            'weighted': self.fit.reduced_chi2 is not None,
        }
        if self.systematic_rel:
            out['systematic_rel'] = self.systematic_rel
        k, se_k = self.rate_constant_ohm_cm2_per_sqrt_h, self.rate_constant_stderr_ohm_cm2_per_sqrt_h
        r0, se_r0 = self.initial_resistance_ohm_cm2, self.initial_resistance_stderr_ohm_cm2
        if se_k is not None and se_r0 is not None and self.n_points > 2:
            t = _t_quantile(self.confidence, self.n_points - 2)
            out.update(
                {
                    'interval_confidence': self.confidence,
                    'rate_constant_low_ohm_cm2_per_sqrt_h': k - t * se_k,
                    'rate_constant_high_ohm_cm2_per_sqrt_h': k + t * se_k,
                    'initial_resistance_low_ohm_cm2': r0 - t * se_r0,
                    'initial_resistance_high_ohm_cm2': r0 + t * se_r0,
                }
            )
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            'time_h': self.time_h.copy(),
            'sqrt_time_sqrt_h': np.sqrt(self.time_h),
            'resistance_ohm_cm2': self.resistance_ohm_cm2.copy(),
            'resistance_fit_ohm_cm2': self.predict(self.time_h),
            'used_in_fit': self.used.astype(float),
        }


def fit_parabolic_growth(
    time_h: ArrayLike,
    resistance_ohm_cm2: ArrayLike,
    *,
    stderr_ohm_cm2: ArrayLike | None = None,
    systematic_rel: float | None = None,
    settings: GrowthSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> GrowthResult:
    """Fit ``R(t) = R0 + k sqrt(t)``.

    :param time_h: times in hours (>= 0).
    :param resistance_ohm_cm2: area-specific resistances in ohm cm2.
    :param stderr_ohm_cm2: their standard errors (from the circuit fits), for a weighted fit (the covariance is
        scaled by the reduced chi-square when it exceeds 1).
    :param systematic_rel: a relative uncertainty common to every point (the electrode area): it scales ``k`` and
        ``R0`` alike and is added in quadrature to their standard errors.
    :param settings: a :class:`GrowthSettings` (``time_window_h``, ``min_points``, ``weighted``, ``confidence``)
        or a mapping of its fields; ``overrides`` replace single fields.
    """
    s = GrowthSettings.resolve(settings, **overrides)
    t = np.asarray(time_h, dtype=float).ravel()
    r = np.asarray(resistance_ohm_cm2, dtype=float).ravel()
    if t.size != r.size:
        raise GrowthError(f'time_h has {t.size} values but resistance_ohm_cm2 has {r.size}')
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise GrowthError('time_h and resistance_ohm_cm2 must be finite')
    if np.any(t < 0):
        raise GrowthError(f'time_h must be >= 0 (index {int(np.argmax(t < 0))} is {t[np.argmax(t < 0)]})')
    se = None
    if stderr_ohm_cm2 is not None and s.weighted:
        se = np.asarray(stderr_ohm_cm2, dtype=float).ravel()
        if se.size != t.size or not np.all(np.isfinite(se)) or np.any(se <= 0):
            raise GrowthError('stderr_ohm_cm2 must hold one finite value > 0 per point')
    used = np.ones(t.size, dtype=bool)
    if s.time_window_h is not None:
        lo, hi = (float(v) for v in s.time_window_h)
        if not lo < hi:
            raise GrowthError(f'time_window_h must be (low, high) with low < high, got {list(s.time_window_h)}')
        used = (t >= lo) & (t <= hi)
    if used.sum() < s.min_points:
        raise GrowthError(f'{int(used.sum())} point(s) to fit; at least {s.min_points} needed')
    try:
        fit = linear_fit(np.sqrt(t[used]), r[used], None if se is None else se[used])
    except ArrheniusError as exc:
        raise GrowthError(str(exc)) from None
    systematic = float(systematic_rel or 0.0)

    def widened(value: float, stderr: float | None) -> float | None:
        return None if stderr is None else math.sqrt(stderr**2 + (value * systematic) ** 2)

    return GrowthResult(
        initial_resistance_ohm_cm2=fit.intercept,
        initial_resistance_stderr_ohm_cm2=widened(fit.intercept, fit.intercept_stderr),
        rate_constant_ohm_cm2_per_sqrt_h=fit.slope,
        rate_constant_stderr_ohm_cm2_per_sqrt_h=widened(fit.slope, fit.slope_stderr),
        r_squared=fit.r_squared,
        n_points=int(used.sum()),
        time_min_h=float(t[used].min()),
        time_max_h=float(t[used].max()),
        fit=fit,
        time_h=t,
        resistance_ohm_cm2=r,
        used=used,
        confidence=s.confidence,
        systematic_rel=systematic,
        parameters=s.parameters(),
    )
