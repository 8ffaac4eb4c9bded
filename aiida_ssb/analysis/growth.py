"""Parabolic growth law of an interphase resistance: ``R(t) = R0 + k sqrt(t)``.

Diffusion-limited growth of a passivating interphase (e.g. Li metal against a hydroborate
electrolyte at open circuit, seed 002b chapter 8: ``k = 14.6 ohm cm2 h^-0.5``,
``R0 = 29.6 ohm cm2`` over 6-80 h) makes its area-specific resistance grow with the square root of
time. ``k`` and ``R0`` are the slope and intercept of an ordinary least-squares line of ``R``
against ``sqrt(t)`` (``t`` in hours), with standard errors from the regression (``n - 2`` degrees
of freedom) and the coefficient of determination ``R^2``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.arrhenius import ArrheniusError, LinearFit, linear_fit
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = ['GrowthError', 'GrowthResult', 'GrowthSettings', 'fit_parabolic_growth']


class GrowthError(AnalysisError):
    """Input that cannot be fitted."""


class GrowthSettings(Settings):
    """Tracking of a fitted interface resistance over a cell's spectra, with the parabolic growth law."""

    element: str = Field('R1', description='the resistance to track: an element name (R2) or a role (interface)')
    against: Literal['time_since_assembly_h', 'cycle_index', 'upper_cutoff_v'] = Field(
        'time_since_assembly_h', description='the state label of the spectra to plot it against'
    )
    area_normalise: bool = Field(True, description='report ohm cm2 (resistance x electrode area)')
    fit_law: bool = Field(True, description='fit R(t) = R0 + k sqrt(t) (against time only)')
    time_window_h: tuple[float, float] | None = Field(None, description='fit only this time range')


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

    def predict(self, time_h) -> np.ndarray:
        """``R0 + k sqrt(t)`` at ``time_h`` (hours)."""
        t = np.asarray(time_h, dtype=float)
        return self.initial_resistance_ohm_cm2 + self.rate_constant_ohm_cm2_per_sqrt_h * np.sqrt(t)

    def to_dict(self) -> dict[str, Any]:
        return {
            'method': 'parabolic_growth',
            'formula': 'R(t) = R0 + k sqrt(t)',
            'initial_resistance_ohm_cm2': self.initial_resistance_ohm_cm2,
            'initial_resistance_stderr_ohm_cm2': self.initial_resistance_stderr_ohm_cm2,
            'rate_constant_ohm_cm2_per_sqrt_h': self.rate_constant_ohm_cm2_per_sqrt_h,
            'rate_constant_stderr_ohm_cm2_per_sqrt_h': self.rate_constant_stderr_ohm_cm2_per_sqrt_h,
            'r_squared': self.r_squared,
            'n_points': self.n_points,
            'time_min_h': self.time_min_h,
            'time_max_h': self.time_max_h,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            'time_h': self.time_h.copy(),
            'sqrt_time_sqrt_h': np.sqrt(self.time_h),
            'resistance_ohm_cm2': self.resistance_ohm_cm2.copy(),
            'resistance_fit_ohm_cm2': self.predict(self.time_h),
            'used_in_fit': self.used.astype(float),
        }


def fit_parabolic_growth(
    time_h, resistance_ohm_cm2, *, time_window_h: tuple[float, float] | None = None, min_points: int = 3
) -> GrowthResult:
    """Fit ``R(t) = R0 + k sqrt(t)``.

    :param time_h: times in hours (>= 0).
    :param resistance_ohm_cm2: area-specific resistances in ohm cm2.
    :param time_window_h: optional ``(t_min_h, t_max_h)``: only points inside (inclusive) are fitted.
    :param min_points: fewest points fitted (>= 3 for standard errors).
    """
    t = np.asarray(time_h, dtype=float).ravel()
    r = np.asarray(resistance_ohm_cm2, dtype=float).ravel()
    if t.size != r.size:
        raise GrowthError(f'time_h has {t.size} values but resistance_ohm_cm2 has {r.size}')
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise GrowthError('time_h and resistance_ohm_cm2 must be finite')
    if np.any(t < 0):
        raise GrowthError(f'time_h must be >= 0 (index {int(np.argmax(t < 0))} is {t[np.argmax(t < 0)]})')
    used = np.ones(t.size, dtype=bool)
    if time_window_h is not None:
        lo, hi = (float(v) for v in time_window_h)
        if not lo < hi:
            raise GrowthError(f'time_window_h must be (low, high) with low < high, got {time_window_h}')
        used = (t >= lo) & (t <= hi)
    if used.sum() < max(int(min_points), 2):
        raise GrowthError(f'{int(used.sum())} point(s) to fit; at least {max(int(min_points), 2)} needed')
    try:
        fit = linear_fit(np.sqrt(t[used]), r[used])
    except ArrheniusError as exc:
        raise GrowthError(str(exc)) from None
    return GrowthResult(
        initial_resistance_ohm_cm2=fit.intercept,
        initial_resistance_stderr_ohm_cm2=fit.intercept_stderr,
        rate_constant_ohm_cm2_per_sqrt_h=fit.slope,
        rate_constant_stderr_ohm_cm2_per_sqrt_h=fit.slope_stderr,
        r_squared=fit.r_squared,
        n_points=int(used.sum()),
        time_min_h=float(t[used].min()),
        time_max_h=float(t[used].max()),
        fit=fit,
        time_h=t,
        resistance_ohm_cm2=r,
        used=used,
    )
