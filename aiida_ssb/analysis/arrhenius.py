"""Arrhenius analysis of conductivity versus temperature.

Two forms, recorded in every result:

* ``form='sigma_t'`` (default, seed 004): ``sigma T = sigma0 exp(-Ea / (k_B T))``; the fit is
  ``ln(sigma T) = ln(sigma0) - (Ea / k_B) (1/T)`` and ``sigma0`` is in S/cm K;
* ``form='sigma'``: ``sigma = sigma0 exp(-Ea / (k_B T))``; ``sigma0`` in S/cm.

``T`` is in kelvin (``T = t_c + 273.15``), ``k_B = 8.617333262e-5 eV/K`` and
``1 eV = 96.485332 kJ/mol`` (per particle -> per mole: ``N_A e``). Each regime is an ordinary
least-squares line ``y = a + b x`` with ``x = 1/T`` (1/K); ``Ea = -b k_B``, its standard error
``se(b) k_B``, ``ln(sigma0) = a`` with ``se(a)``. The conductivity at a reference temperature
(default 25 C) comes from the regime that contains it (or the nearest one) with the standard error
of the regression line at that point, ``se(y0)^2 = [1, x0] Cov(a, b) [1, x0]^T``, propagated as
``se(sigma) = sigma se(y0)``.

Regimes: the whole range (default), user windows ``[(t_min_c, t_max_c), ...]`` (inclusive), or
``split='auto'``: two straight lines on either side of a break point chosen to minimise the total
squared residual over every split that leaves ``min_points`` on each side; the knee temperature is
where the two lines intersect (if that lies inside the measured temperature range, otherwise the
midpoint between the last point of the low-temperature segment and the first of the other).
Heating and cooling branches (``branch``) are fitted separately.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'EV_TO_KJ_PER_MOL',
    'K_B_EV_PER_K',
    'ZERO_CELSIUS_K',
    'ArrheniusError',
    'ArrheniusRegime',
    'ArrheniusResult',
    'ArrheniusSettings',
    'fit_arrhenius',
    'linear_fit',
]

K_B_EV_PER_K = 8.617333262e-5
EV_TO_KJ_PER_MOL = 96.485332
ZERO_CELSIUS_K = 273.15
FORMS = ('sigma_t', 'sigma')
BRANCHES = ('heating', 'cooling')


class ArrheniusError(AnalysisError):
    """Input that cannot be fitted (names the argument and what is wrong)."""


class ArrheniusSettings(Settings):
    """Settings of the Arrhenius analysis (:func:`fit_arrhenius`)."""

    form: Literal['sigma_t', 'sigma'] = Field('sigma_t', description='fit ln(sigma T) (default, seed 004) or ln(sigma)')
    windows: tuple[tuple[float, float], ...] | None = Field(
        None, description='temperature windows in degC, e.g. [[30, 100], [-20, 0]]'
    )
    split: Literal['none', 'auto'] = Field('none', description='auto: split into two regimes at a knee')
    min_points: int = Field(3, ge=2, description='fewest points per regime')
    separate_branches: bool = Field(True, description='fit heating and cooling branches apart when both exist')


@dataclasses.dataclass
class LinearFit:
    """``y = intercept + slope x`` by ordinary least squares."""

    slope: float
    intercept: float
    slope_stderr: float | None
    intercept_stderr: float | None
    covariance: np.ndarray | None  # of (intercept, slope)
    r_squared: float
    n: int
    sse: float

    def predict(self, x: float) -> tuple[float, float | None]:
        """Value of the line at ``x`` and its standard error (None when undefined)."""
        y = self.intercept + self.slope * x
        if self.covariance is None:
            return y, None
        v = np.array([1.0, x])
        return y, float(math.sqrt(max(float(v @ self.covariance @ v), 0.0)))


def linear_fit(x, y) -> LinearFit:
    """Ordinary least-squares straight line with standard errors (``n - 2`` degrees of freedom)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n < 2:
        raise ArrheniusError(f'a straight line needs at least 2 points, got {n}')
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    if sxx == 0:
        raise ArrheniusError('all x values are equal: the slope is undefined')
    slope = float(np.sum((x - xm) * (y - ym)) / sxx)
    intercept = float(ym - slope * xm)
    resid = y - (intercept + slope * x)
    sse = float(np.sum(resid**2))
    sst = float(np.sum((y - ym) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    if n > 2:
        s2 = sse / (n - 2)
        cov = s2 * np.array([[1.0 / n + xm**2 / sxx, -xm / sxx], [-xm / sxx, 1.0 / sxx]])
        return LinearFit(slope, intercept, float(math.sqrt(cov[1, 1])), float(math.sqrt(cov[0, 0])), cov, r2, n, sse)
    return LinearFit(slope, intercept, None, None, None, r2, n, sse)


@dataclasses.dataclass
class ArrheniusRegime:
    """One straight-line regime of an Arrhenius plot."""

    form: str
    branch: str | None
    t_min_c: float
    t_max_c: float
    n_points: int
    fit: LinearFit
    window_source: str  # 'all', 'window', 'auto_split_low', 'auto_split_high'
    knee_temperature_c: float | None = None

    @property
    def activation_energy_ev(self) -> float:
        return -self.fit.slope * K_B_EV_PER_K

    @property
    def activation_energy_stderr_ev(self) -> float | None:
        return None if self.fit.slope_stderr is None else self.fit.slope_stderr * K_B_EV_PER_K

    @property
    def prefactor_unit(self) -> str:
        return 'S cm^-1 K' if self.form == 'sigma_t' else 'S cm^-1'

    def conductivity_s_cm(self, temperature_c: float) -> tuple[float, float | None]:
        """Conductivity from this regime's line at ``temperature_c``, with its standard error."""
        t_k = temperature_c + ZERO_CELSIUS_K
        y, se = self.fit.predict(1.0 / t_k)
        value = math.exp(y) / t_k if self.form == 'sigma_t' else math.exp(y)
        return value, None if se is None else value * se

    def to_dict(self) -> dict[str, Any]:
        ea = self.activation_energy_ev
        se = self.activation_energy_stderr_ev
        prefactor_key = 'prefactor_s_cm_k' if self.form == 'sigma_t' else 'prefactor_s_cm'
        out = {
            'form': self.form,
            'branch': self.branch,
            'window_source': self.window_source,
            't_min_c': self.t_min_c,
            't_max_c': self.t_max_c,
            'n_points': self.n_points,
            'activation_energy_ev': ea,
            'activation_energy_stderr_ev': se,
            'activation_energy_kj_mol': ea * EV_TO_KJ_PER_MOL,
            'activation_energy_stderr_kj_mol': None if se is None else se * EV_TO_KJ_PER_MOL,
            'ln_prefactor': self.fit.intercept,
            'ln_prefactor_stderr': self.fit.intercept_stderr,
            prefactor_key: math.exp(self.fit.intercept),
            'prefactor_unit': self.prefactor_unit,
            'slope_k': self.fit.slope,
            'slope_stderr_k': self.fit.slope_stderr,
            'r_squared': self.fit.r_squared,
        }
        if self.knee_temperature_c is not None:
            out['knee_temperature_c'] = self.knee_temperature_c
        return out


@dataclasses.dataclass
class ArrheniusResult:
    """All regimes plus headline numbers from the regime containing (or nearest) the reference."""

    form: str
    split: str
    regimes: list[ArrheniusRegime]
    headline_index: int
    reference_temperature_c: float
    conductivity_at_reference_s_cm: float
    conductivity_at_reference_stderr_s_cm: float | None
    reference_extrapolated: bool
    knee_temperature_c: float | None
    temperature_c: np.ndarray
    conductivity_s_cm: np.ndarray
    branch: np.ndarray | None
    regime_of_point: np.ndarray
    skipped: tuple[str, ...] = ()

    @property
    def headline(self) -> ArrheniusRegime:
        return self.regimes[self.headline_index]

    @property
    def activation_energy_ev(self) -> float:
        return self.headline.activation_energy_ev

    @property
    def activation_energy_stderr_ev(self) -> float | None:
        return self.headline.activation_energy_stderr_ev

    def to_dict(self) -> dict[str, Any]:
        head = self.headline.to_dict()
        out: dict[str, Any] = {
            'method': 'arrhenius',
            'form': self.form,
            'split': self.split,
            'n_regimes': len(self.regimes),
            'headline_regime': self.headline_index,
        }
        for key in (
            'activation_energy_ev',
            'activation_energy_stderr_ev',
            'activation_energy_kj_mol',
            'activation_energy_stderr_kj_mol',
            'ln_prefactor',
            'ln_prefactor_stderr',
            'prefactor_unit',
            'r_squared',
            'n_points',
            't_min_c',
            't_max_c',
        ):
            out[key] = head[key]
        prefactor_key = 'prefactor_s_cm_k' if self.form == 'sigma_t' else 'prefactor_s_cm'
        out[prefactor_key] = head[prefactor_key]
        out['reference_temperature_c'] = self.reference_temperature_c
        out['conductivity_at_reference_s_cm'] = self.conductivity_at_reference_s_cm
        out['conductivity_at_reference_stderr_s_cm'] = self.conductivity_at_reference_stderr_s_cm
        out['reference_extrapolated'] = self.reference_extrapolated
        if self.knee_temperature_c is not None:
            out['knee_temperature_c'] = self.knee_temperature_c
        out['k_b_ev_per_k'] = K_B_EV_PER_K
        out['regimes'] = [r.to_dict() for r in self.regimes]
        if self.skipped:
            out['skipped_windows'] = list(self.skipped)
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Points and fitted lines for an Arrhenius plot (``1000/T`` in 1/K)."""
        t_k = self.temperature_c + ZERO_CELSIUS_K
        y = np.log(self.conductivity_s_cm * t_k) if self.form == 'sigma_t' else np.log(self.conductivity_s_cm)
        name = 'ln_sigma_t' if self.form == 'sigma_t' else 'ln_sigma'
        line_x, line_y, line_i = [], [], []
        for k, regime in enumerate(self.regimes):
            x = np.linspace(1.0 / (regime.t_max_c + ZERO_CELSIUS_K), 1.0 / (regime.t_min_c + ZERO_CELSIUS_K), 20)
            line_x.append(1000.0 * x)
            line_y.append(regime.fit.intercept + regime.fit.slope * x)
            line_i.append(np.full(x.size, float(k)))
        return {
            'temperature_c': self.temperature_c.copy(),
            'inverse_temperature_1000_per_k': 1000.0 / t_k,
            name: y,
            'regime_index': self.regime_of_point.astype(float),
            'fit_inverse_temperature_1000_per_k': np.concatenate(line_x),
            f'fit_{name}': np.concatenate(line_y),
            'fit_regime_index': np.concatenate(line_i),
        }


def _y(form: str, t_c: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    t_k = t_c + ZERO_CELSIUS_K
    return np.log(sigma * t_k) if form == 'sigma_t' else np.log(sigma)


def _auto_split(form: str, t_c: np.ndarray, sigma: np.ndarray, min_points: int, branch: str | None):
    order = np.argsort(t_c)
    t, s = t_c[order], sigma[order]
    x = 1.0 / (t + ZERO_CELSIUS_K)
    y = _y(form, t, s)
    n = t.size
    if n < 2 * min_points:
        raise ArrheniusError(
            f'split="auto" needs at least 2 x min_points = {2 * min_points} points'
            f'{"" if branch is None else f" in the {branch} branch"}, got {n}'
        )
    best = None
    for k in range(min_points, n - min_points + 1):
        if np.ptp(x[:k]) == 0 or np.ptp(x[k:]) == 0:
            continue
        low, high = linear_fit(x[:k], y[:k]), linear_fit(x[k:], y[k:])
        sse = low.sse + high.sse
        if best is None or sse < best[0]:
            best = (sse, k, low, high)
    if best is None:
        raise ArrheniusError('split="auto": no split leaves two segments with distinct temperatures')
    _, k, low, high = best
    t_left, t_right = float(t[k - 1]), float(t[k])
    knee = None
    if low.slope != high.slope:
        x_star = (high.intercept - low.intercept) / (low.slope - high.slope)
        if x_star > 0:
            t_star = 1.0 / x_star - ZERO_CELSIUS_K
            if t[0] <= t_star <= t[-1]:
                knee = t_star
    if knee is None:
        knee = 0.5 * (t_left + t_right)
    regimes = [
        ArrheniusRegime(form, branch, float(t[0]), t_left, k, low, 'auto_split_low', knee),
        ArrheniusRegime(form, branch, t_right, float(t[-1]), n - k, high, 'auto_split_high', knee),
    ]
    return regimes, knee


def fit_arrhenius(
    temperature_c,
    conductivity_s_cm,
    *,
    form: str = 'sigma_t',
    windows: Sequence[tuple[float, float]] | None = None,
    split: str = 'none',
    branch=None,
    min_points: int = 3,
    reference_temperature_c: float = 25.0,
) -> ArrheniusResult:
    """Activation energy from conductivity versus temperature (see the module docstring).

    :param temperature_c: temperatures in degC.
    :param conductivity_s_cm: conductivities in S/cm (> 0).
    :param form: ``'sigma_t'`` (fit ``ln(sigma T)``, default) or ``'sigma'`` (fit ``ln sigma``).
    :param windows: temperature windows ``[(t_min_c, t_max_c), ...]``, one regime each.
    :param split: ``'none'`` or ``'auto'`` (two regimes split at the best knee); not with ``windows``.
    :param branch: per-point labels ``'heating'``/``'cooling'``; each branch is fitted separately (a window
        holding too few points of one branch is skipped for that branch and listed in ``skipped_windows``).
    :param min_points: fewest points per regime (>= 2; standard errors need >= 3).
    :param reference_temperature_c: temperature of the reported interpolated conductivity.
    """
    if form not in FORMS:
        raise ArrheniusError(f'form must be one of {FORMS}, got {form!r}')
    if split not in ('none', 'auto'):
        raise ArrheniusError(f"split must be 'none' or 'auto', got {split!r}")
    if windows is not None and split == 'auto':
        raise ArrheniusError('give either windows or split="auto", not both')
    min_points = int(min_points)
    if min_points < 2:
        raise ArrheniusError(f'min_points must be >= 2, got {min_points}')
    t_c = np.asarray(temperature_c, dtype=float).ravel()
    sigma = np.asarray(conductivity_s_cm, dtype=float).ravel()
    if t_c.size != sigma.size:
        raise ArrheniusError(f'temperature_c has {t_c.size} values but conductivity_s_cm has {sigma.size}')
    if not (np.all(np.isfinite(t_c)) and np.all(np.isfinite(sigma))):
        raise ArrheniusError('temperature_c and conductivity_s_cm must be finite')
    if np.any(sigma <= 0):
        raise ArrheniusError(f'conductivity_s_cm must be > 0 (index {int(np.argmax(sigma <= 0))})')
    if np.any(t_c <= -ZERO_CELSIUS_K):
        raise ArrheniusError('temperature_c must be above absolute zero (-273.15 C)')
    labels = None
    if branch is not None:
        labels = np.asarray(branch, dtype=object).ravel()
        if labels.size != t_c.size:
            raise ArrheniusError(f'branch has {labels.size} labels for {t_c.size} points')
        unknown = sorted({str(v) for v in labels} - set(BRANCHES))
        if unknown:
            raise ArrheniusError(f'branch labels must be {BRANCHES}, got {unknown}')
        labels = labels.astype(str)
    if windows is not None:
        windows = [tuple(float(v) for v in w) for w in windows]
        for w in windows:
            if len(w) != 2 or not w[0] < w[1]:
                raise ArrheniusError(f'each window must be (t_min_c, t_max_c) with t_min_c < t_max_c, got {w}')

    groups = (
        [(None, np.arange(t_c.size))]
        if labels is None
        else [(b, np.flatnonzero(labels == b)) for b in BRANCHES if np.any(labels == b)]
    )
    regimes: list[ArrheniusRegime] = []
    members: list[np.ndarray] = []
    skipped: list[str] = []
    knee = None
    for label, idx in groups:
        where = '' if label is None else f' in the {label} branch'
        if split == 'auto':
            found, knee_b = _auto_split(form, t_c[idx], sigma[idx], min_points, label)
            regimes.extend(found)
            knee = knee_b if knee is None else knee
            for r in found:
                members.append(idx[(t_c[idx] >= r.t_min_c) & (t_c[idx] <= r.t_max_c)])
            continue
        wins = windows if windows is not None else [None]
        for w in wins:
            sel = idx if w is None else idx[(t_c[idx] >= w[0]) & (t_c[idx] <= w[1])]
            if sel.size < min_points:
                span = 'in all data' if w is None else f'in window {w[0]}..{w[1]} C'
                message = f'{sel.size} point(s) {span}{where}; at least min_points={min_points} needed'
                if label is None:
                    raise ArrheniusError(message)
                skipped.append(message)  # one branch may cover a window only partly; the other still counts
                continue
            if np.ptp(t_c[sel]) == 0:
                raise ArrheniusError(f'all temperatures are equal{where}: no slope')
            fit = linear_fit(1.0 / (t_c[sel] + ZERO_CELSIUS_K), _y(form, t_c[sel], sigma[sel]))
            regimes.append(
                ArrheniusRegime(
                    form,
                    label,
                    float(t_c[sel].min()),
                    float(t_c[sel].max()),
                    int(sel.size),
                    fit,
                    'all' if w is None else 'window',
                )
            )
            members.append(sel)

    if not regimes:
        raise ArrheniusError('no regime could be fitted: ' + '; '.join(skipped))
    # headline: the regime containing the reference temperature, else the nearest one
    ref = float(reference_temperature_c)

    def distance(r: ArrheniusRegime) -> float:
        return 0.0 if r.t_min_c <= ref <= r.t_max_c else min(abs(ref - r.t_min_c), abs(ref - r.t_max_c))

    head = min(range(len(regimes)), key=lambda k: (distance(regimes[k]), k))
    value, se = regimes[head].conductivity_s_cm(ref)
    regime_of_point = np.full(t_c.size, -1, dtype=int)
    for k, sel in enumerate(members):
        regime_of_point[sel] = k
    return ArrheniusResult(
        form=form,
        split=split,
        regimes=regimes,
        headline_index=head,
        reference_temperature_c=ref,
        conductivity_at_reference_s_cm=value,
        conductivity_at_reference_stderr_s_cm=se,
        reference_extrapolated=distance(regimes[head]) > 0,
        knee_temperature_c=knee,
        temperature_c=t_c,
        conductivity_s_cm=sigma,
        branch=labels,
        regime_of_point=regime_of_point,
        skipped=tuple(skipped),
    )
