"""Arrhenius analysis of conductivity versus temperature, with regimes chosen by evidence.

Two forms, recorded in every result:

* ``form='sigma_t'`` (default, seed 004): ``sigma T = sigma0 exp(-Ea / (k_B T))``; the fit is
  ``ln(sigma T) = ln(sigma0) - (Ea / k_B) (1/T)`` and ``sigma0`` is in S/cm K;
* ``form='sigma'``: ``sigma = sigma0 exp(-Ea / (k_B T))``; ``sigma0`` in S/cm.

``T`` is in kelvin (``T = t_c + 273.15``), ``k_B = 8.617333262e-5 eV/K`` and ``1 eV = 96.485332 kJ/mol``.

**Each regime** is a straight line ``y = a + b x`` with ``x = 1/T``, by weighted least squares when the points
carry standard errors ``s_i`` of ``ln sigma`` (weights ``1/s_i^2``; the covariance
``(X^T W X)^-1`` is scaled by the reduced chi-square when that exceeds 1, the Birge ratio: scatter beyond the
stated errors widens the interval), else by ordinary least squares (``n - 2`` degrees of freedom).
``Ea = -b k_B`` and ``ln sigma0 = a``; their intervals are ``+- t se`` with ``t`` the Student quantile of
``n - 2`` degrees of freedom at the confidence level. A relative uncertainty common to every point (the
stated geometry: ``sigma ~ L/A``) moves ``ln sigma0`` and not ``Ea``; it is added in quadrature to the standard
error of ``ln sigma0`` and of the conductivity at the reference temperature.

**How many regimes** (``split='evidence'``, the default): one line, the best two lines (the knee searched over
every split that leaves ``min_points`` on each side) and, with at least ``3 min_points`` points, the best three,
are compared. A split is kept when the F-test of the nested fits (``RSS`` weighted residual sums of squares,
``k = 2, 5, 8`` parameters counting each searched knee)

.. math::

    F = \\frac{(\\mathrm{RSS}_a - \\mathrm{RSS}_b)/(k_b - k_a)}{\\mathrm{RSS}_b / (n - k_b)}

has a p-value below ``alpha`` *and* the BIC ``n ln(RSS/n) + k ln n`` falls; two regimes are tried before three.
The scores of every alternative are stored.

**Bends** (a smooth crossover, e.g. two conduction steps in series, is no pair of straight lines): each regime of
4 points or more is tested for a bend, the F-test of a quadratic term in ``1/T`` against its straight line
(``p < alpha``; the scatter from the parabola's residuals). A bent regime is flagged (``curved_regime`` in
``flags``: its Ea depends on the window); with ``curvature='trim'`` (default) an end regime of a split by evidence
keeps only its outermost points that lie on one line (the longest stretch at the highest, or lowest, temperatures
without a significant bend, at least ``min_points``), the points of the bend belong to no regime, and the regime
records the split's ``untrimmed`` extent and Ea. ``curvature='flag'`` keeps the split and only flags. A regime of
fewer than 4 points beside other regimes cannot be tested: it is flagged ``short_regime`` (a bend could hide in
it, and its Ea rests on those points).

``split='none'``, ``'two'`` or ``'three'`` force the number;
``windows`` (user temperature windows, inclusive) win over everything. The knee temperature is where adjacent
lines intersect when that lies between their points, else the midpoint between them. Heating and cooling
branches are fitted separately when both exist. The conductivity at the reference temperature (default 25 C)
comes from the regime that contains it (or the nearest one), with the standard error of the line there.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, field_validator
from scipy.stats import f as f_dist
from scipy.stats import t

from aiida_ssb.analysis.bend import curvature_p_value
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
    'LinearFit',
    'curvature_p_value',
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
        None, description='temperature windows in degC, one regime each, e.g. [[30, 100], [-20, 0]]; they win'
    )
    split: Literal['evidence', 'none', 'two', 'three'] = Field(
        'evidence',
        description='evidence: one, two or three regimes as the F-test and BIC justify; none/two/three: forced '
        '(auto is read as two)',
    )
    alpha: float = Field(0.01, gt=0, lt=0.5, description='evidence: largest F-test p-value that keeps a split')
    min_points: int = Field(3, ge=2, description='fewest points per regime')
    curvature: Literal['trim', 'flag'] = Field(
        'trim',
        description='evidence: a regime whose points bend (F-test of a quadratic term, p < alpha) is flagged; trim: '
        'an end regime also keeps only its outermost points that lie on one line (the bend is left to no regime)',
    )
    separate_branches: bool = Field(True, description='fit heating and cooling branches apart when both exist')
    weighted: bool = Field(True, description="weight the points by their conductivities' standard errors")
    reference_temperature_c: float = Field(25.0, description='temperature of the reported conductivity')
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description='level of the reported intervals')

    @field_validator('split', mode='before')
    @classmethod
    def _former(cls, value: Any) -> Any:
        return 'two' if value == 'auto' else value


@dataclasses.dataclass
class LinearFit:
    """``y = intercept + slope x`` by (weighted) least squares."""

    slope: float
    intercept: float
    slope_stderr: float | None
    intercept_stderr: float | None
    covariance: np.ndarray | None  # of (intercept, slope)
    r_squared: float
    n: int
    sse: float  # the (weighted) residual sum of squares
    reduced_chi2: float | None = None

    def predict(self, x: float) -> tuple[float, float | None]:
        """Value of the line at ``x`` and its standard error (None when undefined)."""
        y = self.intercept + self.slope * x
        if self.covariance is None:
            return y, None
        v = np.array([1.0, x])
        return y, float(math.sqrt(max(float(v @ self.covariance @ v), 0.0)))


def linear_fit(x: ArrayLike, y: ArrayLike, sigma: ArrayLike | None = None) -> LinearFit:
    """Straight line by least squares with standard errors: ordinary (``n - 2`` degrees of freedom) or, with
    per-point standard errors ``sigma``, weighted (covariance scaled by the reduced chi-square when it exceeds 1)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n < 2:
        raise ArrheniusError(f'a straight line needs at least 2 points, got {n}')
    w = np.ones(n) if sigma is None else 1.0 / np.asarray(sigma, dtype=float) ** 2
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ArrheniusError('standard errors must be finite and > 0')
    sw = w.sum()
    xm, ym = float(np.sum(w * x) / sw), float(np.sum(w * y) / sw)
    sxx = float(np.sum(w * (x - xm) ** 2))
    if sxx == 0:
        raise ArrheniusError('all x values are equal: the slope is undefined')
    slope = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    intercept = float(ym - slope * xm)
    resid = y - (intercept + slope * x)
    sse = float(np.sum(w * resid**2))
    sst = float(np.sum(w * (y - ym) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else 1.0
    if n <= 2:
        return LinearFit(slope, intercept, None, None, None, r2, n, sse)
    chi2 = sse / (n - 2)
    scale = chi2 if sigma is None else max(chi2, 1.0)
    cov = scale * np.array([[1.0 / sw + xm**2 / sxx, -xm / sxx], [-xm / sxx, 1.0 / sxx]])
    return LinearFit(
        slope,
        intercept,
        float(math.sqrt(cov[1, 1])),
        float(math.sqrt(cov[0, 0])),
        cov,
        r2,
        n,
        sse,
        None if sigma is None else chi2,
    )


def _t_quantile(confidence: float, dof: int) -> float:
    return float(t.ppf(0.5 + confidence / 2.0, dof))


@dataclasses.dataclass
class ArrheniusRegime:
    """One straight-line regime of an Arrhenius plot."""

    form: str
    branch: str | None
    t_min_c: float
    t_max_c: float
    n_points: int
    fit: LinearFit
    window_source: str  # 'all', 'window', 'evidence', 'forced'
    knee_temperature_c: float | None = None
    systematic_rel: float = 0.0
    confidence: float = 0.95
    #: F-test p-value of a quadratic term over the regime's points (None: not tested, fewer than 4 points)
    curvature_p_value: float | None = None
    #: the regime as the split gave it before its bend was trimmed (t_min_c, t_max_c, n_points, Ea), or None
    untrimmed: dict[str, Any] | None = None

    @property
    def activation_energy_ev(self) -> float:
        return -self.fit.slope * K_B_EV_PER_K

    @property
    def activation_energy_stderr_ev(self) -> float | None:
        return None if self.fit.slope_stderr is None else self.fit.slope_stderr * K_B_EV_PER_K

    @property
    def ln_prefactor_stderr(self) -> float | None:
        if self.fit.intercept_stderr is None:
            return None
        return math.sqrt(self.fit.intercept_stderr**2 + self.systematic_rel**2)

    @property
    def prefactor_unit(self) -> str:
        return 'S cm^-1 K' if self.form == 'sigma_t' else 'S cm^-1'

    def conductivity_s_cm(self, temperature_c: float) -> tuple[float, float | None]:
        """Conductivity from this regime's line at ``temperature_c``, with its standard error (geometry included)."""
        t_k = temperature_c + ZERO_CELSIUS_K
        y, se = self.fit.predict(1.0 / t_k)
        value = math.exp(y) / t_k if self.form == 'sigma_t' else math.exp(y)
        return value, None if se is None else value * math.sqrt(se**2 + self.systematic_rel**2)

    def to_dict(self) -> dict[str, Any]:
        ea = self.activation_energy_ev
        se = self.activation_energy_stderr_ev
        prefactor_key = 'prefactor_s_cm_k' if self.form == 'sigma_t' else 'prefactor_s_cm'
        out: dict[str, Any] = {
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
            'ln_prefactor_stderr': self.ln_prefactor_stderr,
            prefactor_key: math.exp(self.fit.intercept),
            'prefactor_unit': self.prefactor_unit,
            'slope_k': self.fit.slope,
            'slope_stderr_k': self.fit.slope_stderr,
            'r_squared': self.fit.r_squared,
            'weighted': self.fit.reduced_chi2 is not None,
        }
        if self.fit.reduced_chi2 is not None:
            out['reduced_chi2'] = self.fit.reduced_chi2
        se_ln = self.ln_prefactor_stderr
        if se is not None and se_ln is not None and self.n_points > 2:
            t = _t_quantile(self.confidence, self.n_points - 2)
            unit = prefactor_key[len('prefactor_') :]
            out.update(
                {
                    'interval_confidence': self.confidence,
                    'activation_energy_low_ev': ea - t * se,
                    'activation_energy_high_ev': ea + t * se,
                    f'prefactor_low_{unit}': math.exp(self.fit.intercept - t * se_ln),
                    f'prefactor_high_{unit}': math.exp(self.fit.intercept + t * se_ln),
                }
            )
        if self.systematic_rel:
            out['systematic_rel'] = self.systematic_rel
        if self.knee_temperature_c is not None:
            out['knee_temperature_c'] = self.knee_temperature_c
        if self.curvature_p_value is not None:
            out['curvature_p_value'] = self.curvature_p_value
        if self.untrimmed is not None:
            out['untrimmed'] = dict(self.untrimmed)
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
    selections: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: what the method could not decide (``{'flag', 'reason'}``), e.g. ``curved_regime``
    flags: list[dict[str, str]] = dataclasses.field(default_factory=list)

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
            'parameters': dict(self.parameters),
            'form': self.form,
            'split': self.split,
            'n_regimes': len(self.regimes),
            'headline_regime': self.headline_index,
        }
        for key, value in head.items():
            if key not in ('form', 'branch', 'window_source', 'slope_k', 'slope_stderr_k', 'knee_temperature_c'):
                out[key] = value
        out['reference_temperature_c'] = self.reference_temperature_c
        out['conductivity_at_reference_s_cm'] = self.conductivity_at_reference_s_cm
        out['conductivity_at_reference_stderr_s_cm'] = self.conductivity_at_reference_stderr_s_cm
        se = self.conductivity_at_reference_stderr_s_cm
        if se is not None and self.headline.n_points > 2:
            t = _t_quantile(self.headline.confidence, self.headline.n_points - 2)
            rel = se / self.conductivity_at_reference_s_cm
            out['conductivity_at_reference_low_s_cm'] = self.conductivity_at_reference_s_cm * math.exp(-t * rel)
            out['conductivity_at_reference_high_s_cm'] = self.conductivity_at_reference_s_cm * math.exp(t * rel)
        out['reference_extrapolated'] = self.reference_extrapolated
        if self.knee_temperature_c is not None:
            out['knee_temperature_c'] = self.knee_temperature_c
        out['k_b_ev_per_k'] = K_B_EV_PER_K
        out['regimes'] = [r.to_dict() for r in self.regimes]
        if self.selections:
            out['regime_selection'] = self.selections
        if self.skipped:
            out['skipped_windows'] = list(self.skipped)
        out['flags'] = [dict(flag) for flag in self.flags]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Points and fitted lines (with their confidence band) for an Arrhenius plot (``1000/T`` in 1/K)."""
        t_k = self.temperature_c + ZERO_CELSIUS_K
        y = np.log(self.conductivity_s_cm * t_k) if self.form == 'sigma_t' else np.log(self.conductivity_s_cm)
        name = 'ln_sigma_t' if self.form == 'sigma_t' else 'ln_sigma'
        line_x, line_y, line_i, line_se = [], [], [], []
        for k, regime in enumerate(self.regimes):
            x = np.linspace(1.0 / (regime.t_max_c + ZERO_CELSIUS_K), 1.0 / (regime.t_min_c + ZERO_CELSIUS_K), 20)
            line_x.append(1000.0 * x)
            line_y.append(regime.fit.intercept + regime.fit.slope * x)
            line_i.append(np.full(x.size, float(k)))
            se = [regime.fit.predict(v)[1] for v in x]
            line_se.append(np.array([np.nan if v is None else v for v in se]))
        return {
            'temperature_c': self.temperature_c.copy(),
            'inverse_temperature_1000_per_k': 1000.0 / t_k,
            name: y,
            'regime_index': self.regime_of_point.astype(float),
            'fit_inverse_temperature_1000_per_k': np.concatenate(line_x),
            f'fit_{name}': np.concatenate(line_y),
            f'fit_{name}_stderr': np.concatenate(line_se),
            'fit_regime_index': np.concatenate(line_i),
        }


def _y(form: str, t_c: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    t_k = t_c + ZERO_CELSIUS_K
    return np.log(sigma * t_k) if form == 'sigma_t' else np.log(sigma)


# ------------------------------------------------------------------------------------------ regimes by evidence


def _segments_fit(
    x: np.ndarray, y: np.ndarray, se: np.ndarray | None, cuts: Sequence[int]
) -> tuple[float, list[LinearFit]]:
    bounds = [0, *cuts, x.size]
    fits = [linear_fit(x[a:b], y[a:b], None if se is None else se[a:b]) for a, b in itertools.pairwise(bounds)]
    return sum(f.sse for f in fits), fits


def _best_split(
    x: np.ndarray, y: np.ndarray, se: np.ndarray | None, n_regimes: int, min_points: int
) -> tuple[float, tuple[int, ...], list[LinearFit]] | None:
    """The cuts (indices into the sorted points) of the best ``n_regimes`` lines, by total weighted RSS."""
    n = x.size
    best = None
    for cuts in itertools.combinations(range(min_points, n - min_points + 1), n_regimes - 1):
        if any(b - a < min_points for a, b in itertools.pairwise(cuts)):
            continue
        bounds = [0, *cuts, n]
        if any(np.ptp(x[a:b]) == 0 for a, b in itertools.pairwise(bounds)):
            continue
        rss, fits = _segments_fit(x, y, se, cuts)
        if best is None or rss < best[0]:
            best = (rss, cuts, fits)
    return best


def _bic(rss: float, n: int, k: int) -> float:
    return n * math.log(max(rss, 1e-300) / n) + k * math.log(n)


def _f_test(rss_a: float, k_a: int, rss_b: float, k_b: int, n: int) -> tuple[float, float]:
    if n - k_b <= 0 or rss_b <= 0:
        return math.inf, 0.0
    statistic = ((rss_a - rss_b) / (k_b - k_a)) / (rss_b / (n - k_b))
    return float(statistic), float(f_dist.sf(statistic, k_b - k_a, n - k_b))


def _choose_regimes(
    x: np.ndarray, y: np.ndarray, se: np.ndarray | None, s: ArrheniusSettings, where: str
) -> tuple[tuple[int, ...], dict[str, Any]]:
    """The cuts of the number of regimes the settings ask for or the evidence justifies, and the scores."""
    n = x.size
    wanted = {'none': 1, 'two': 2, 'three': 3}.get(s.split)
    candidates: dict[int, tuple[float, tuple[int, ...]]] = {1: (_segments_fit(x, y, se, ())[0], ())}
    for k in (2, 3):
        if wanted is not None and k > wanted:
            break
        if n >= k * s.min_points:
            found = _best_split(x, y, se, k, s.min_points)
            if found is not None:
                candidates[k] = (found[0], found[1])
    if wanted is not None:
        if wanted not in candidates:
            raise ArrheniusError(
                f'split={s.split!r} needs at least {wanted} x min_points = {wanted * s.min_points} points{where}, got {n}'
            )
        return candidates[wanted][1], {'n_regimes': wanted, 'reason': f'forced by split={s.split!r}', 'scores': []}
    scores: list[dict[str, Any]] = []
    for k, (rss, cuts) in candidates.items():
        scores.append({'n_regimes': k, 'rss': rss, 'n_parameters': 3 * k - 1, 'bic': _bic(rss, n, 3 * k - 1)})
    chosen = 1
    reason = 'one line: no split is justified'
    for k in (2, 3):
        if k not in candidates:
            break
        previous, current = scores[chosen - 1], scores[k - 1]
        statistic, p = _f_test(previous['rss'], previous['n_parameters'], current['rss'], current['n_parameters'], n)
        current['f_statistic'], current['f_p_value'] = statistic, p
        if p < s.alpha and current['bic'] < previous['bic']:
            chosen = k
            reason = (
                f'{k} regimes: F-test against {k - 1} p = {p:.2g} < {s.alpha:g} and BIC lower by '
                f'{previous["bic"] - current["bic"]:.1f}'
            )
        else:
            if k == 2 or chosen == 2:
                reason += f'; {k} regimes not justified (F-test p = {p:.2g}, BIC change {current["bic"] - previous["bic"]:+.1f})'
            break
    if n < 2 * s.min_points:
        reason += f' (fewer than 2 x min_points = {2 * s.min_points} points: no split tried)'
    return candidates[chosen][1], {'n_regimes': chosen, 'reason': reason, 'scores': scores}


def _knee(low: LinearFit, high: LinearFit, t_left: float, t_right: float, span: tuple[float, float]) -> float:
    """Where two adjacent lines cross when that lies within ``span`` (their points), else the midpoint between
    the last point of one and the first of the other."""
    if low.slope != high.slope:
        x_star = (high.intercept - low.intercept) / (low.slope - high.slope)
        if x_star > 0:
            t_star = 1.0 / x_star - ZERO_CELSIUS_K
            if span[0] <= t_star <= span[1]:
                return float(t_star)
    return 0.5 * (t_left + t_right)


def _trim_bend(
    x: np.ndarray, y: np.ndarray, se: np.ndarray | None, a: int, b: int, outer_high: bool, s: ArrheniusSettings
) -> tuple[int, int]:
    """The outermost points of the end regime ``[a, b)`` that lie on one line: the largest stretch at the outer
    end (the highest temperatures for ``outer_high``) without a significant bend, at least ``min_points``."""
    for k in range(b - a - 1, s.min_points - 1, -1):
        lo, hi = (b - k, b) if outer_high else (a, a + k)
        p = curvature_p_value(x[lo:hi], y[lo:hi], None if se is None else se[lo:hi])
        if p is None or p >= s.alpha:
            return lo, hi
    return (b - s.min_points, b) if outer_high else (a, a + s.min_points)


def _regimes_of_group(
    t_c: np.ndarray,
    sigma: np.ndarray,
    se: np.ndarray | None,
    label: str | None,
    s: ArrheniusSettings,
    systematic: float,
) -> tuple[list[ArrheniusRegime], list[np.ndarray], dict[str, Any], list[dict[str, str]]]:
    """Regimes (and the members of each) of one branch, by evidence or forced; each regime's bend is tested, an
    end regime's bend trimmed (``curvature='trim'``, evidence only) and flagged."""
    where = '' if label is None else f' in the {label} branch'
    order = np.argsort(t_c)
    t, sg = t_c[order], sigma[order]
    x = 1.0 / (t + ZERO_CELSIUS_K)
    # x decreases with t; the regimes are contiguous in t either way
    y = _y(s.form, t, sg)
    err = None if se is None else se[order]
    if t.size < s.min_points:
        raise ArrheniusError(f'{t.size} point(s){where}; at least min_points={s.min_points} needed')
    if np.ptp(t) == 0:
        raise ArrheniusError(f'all temperatures are equal{where}: no slope')
    cuts, selection = _choose_regimes(x, y, err, s, where)
    selection['branch'] = label
    bounds = [0, *cuts, t.size]
    source = 'evidence' if s.split == 'evidence' else ('all' if s.split == 'none' else 'forced')
    if len(cuts) == 0 and source == 'evidence':
        source = 'all'

    def fit_of(a: int, b: int) -> LinearFit:
        return linear_fit(x[a:b], y[a:b], None if err is None else err[a:b])

    def p_of(a: int, b: int) -> float | None:
        return curvature_p_value(x[a:b], y[a:b], None if err is None else err[a:b])

    segments = list(itertools.pairwise(bounds))
    p_values = [p_of(a, b) for a, b in segments]
    untrimmed: list[dict[str, Any] | None] = [None] * len(segments)
    flags: list[dict[str, str]] = []
    last = len(segments) - 1
    for i, (a, b) in enumerate(segments):
        p = p_values[i]
        if p is None or p >= s.alpha:
            continue
        before = {
            't_min_c': float(t[a]),
            't_max_c': float(t[b - 1]),
            'n_points': b - a,
            'activation_energy_ev': -fit_of(a, b).slope * K_B_EV_PER_K,
            'curvature_p_value': p,
        }
        span = f'{label + " " if label else ""}regime {t[a]:g}..{t[b - 1]:g} C'
        reason = f'the {span} bends (quadratic term: F-test p = {p:.2g} < {s.alpha:g}): its Ea depends on the window'
        end = last > 0 and i in (0, last) and source == 'evidence'
        if s.curvature == 'trim' and end:
            segments[i] = _trim_bend(x, y, err, a, b, i == last, s)
            p_values[i] = p_of(*segments[i])
            untrimmed[i] = before
            lo, hi = segments[i]
            ea = -fit_of(lo, hi).slope * K_B_EV_PER_K
            reason += (
                f'; kept its outermost {hi - lo} points, {t[lo]:g}..{t[hi - 1]:g} C, on one line (Ea {ea:.4g} eV; '
                f'{before["activation_energy_ev"]:.4g} eV over all {b - a}): the points between belong to no regime'
            )
        else:
            reason += f'; Ea {before["activation_energy_ev"]:.4g} eV is an average over the bend'
        flags.append({'flag': 'curved_regime', 'reason': reason})
    for (a, b), p in zip(segments, p_values, strict=True):
        if last > 0 and p is None:  # beside other regimes, a bend could hide in it undetected
            span = f'{label + " " if label else ""}regime {t[a]:g}..{t[b - 1]:g} C'
            flags.append(
                {
                    'flag': 'short_regime',
                    'reason': f'the {span} has {b - a} points: too few to test for a bend (4 needed); its Ea rests '
                    f'on {b - a} points',
                }
            )
    fits = [fit_of(a, b) for a, b in segments]
    knees = [
        _knee(
            fits[i],
            fits[i + 1],
            float(t[segments[i][1] - 1]),
            float(t[segments[i + 1][0]]),
            (float(t[segments[i][0]]), float(t[segments[i + 1][1] - 1])),
        )
        for i in range(len(cuts))
    ]
    regimes: list[ArrheniusRegime] = []
    members: list[np.ndarray] = []
    for i, (a, b) in enumerate(segments):
        knee = knees[i] if i < len(knees) else (knees[i - 1] if knees else None)
        regimes.append(
            ArrheniusRegime(
                s.form,
                label,
                float(t[a]),
                float(t[b - 1]),
                b - a,
                fits[i],
                source,
                knee,
                systematic,
                s.confidence,
                p_values[i],
                untrimmed[i],
            )
        )
        members.append(order[a:b])
    selection['knee_temperatures_c'] = knees
    return regimes, members, selection, flags


def _check(
    temperature_c: ArrayLike, conductivity_s_cm: ArrayLike, stderr_rel: ArrayLike | None, branch: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
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
    se = None
    if stderr_rel is not None:
        se = np.asarray(stderr_rel, dtype=float).ravel()
        if se.size != t_c.size or not np.all(np.isfinite(se)) or np.any(se <= 0):
            raise ArrheniusError('stderr_rel must hold one finite value > 0 per point')
    labels = None
    if branch is not None:
        labels = np.asarray(branch, dtype=object).ravel()
        if labels.size != t_c.size:
            raise ArrheniusError(f'branch has {labels.size} labels for {t_c.size} points')
        unknown = sorted({str(v) for v in labels} - set(BRANCHES))
        if unknown:
            raise ArrheniusError(f'branch labels must be {BRANCHES}, got {unknown}')
        labels = labels.astype(str)
    return t_c, sigma, se, labels


def _window_regimes(
    t_c: np.ndarray,
    sigma: np.ndarray,
    se: np.ndarray | None,
    idx: np.ndarray,
    label: str | None,
    windows: list[tuple[float, ...]],
    s: ArrheniusSettings,
    systematic: float,
    skipped: list[str],
) -> tuple[list[ArrheniusRegime], list[np.ndarray]]:
    where = '' if label is None else f' in the {label} branch'
    regimes: list[ArrheniusRegime] = []
    members: list[np.ndarray] = []
    for w in windows:
        sel = idx[(t_c[idx] >= w[0]) & (t_c[idx] <= w[1])]
        if sel.size < s.min_points:
            message = (
                f'{sel.size} point(s) in window {w[0]}..{w[1]} C{where}; at least min_points={s.min_points} needed'
            )
            if label is None:
                raise ArrheniusError(message)
            skipped.append(message)  # one branch may cover a window only partly; the other still counts
            continue
        if np.ptp(t_c[sel]) == 0:
            raise ArrheniusError(f'all temperatures are equal{where}: no slope')
        fit = linear_fit(
            1.0 / (t_c[sel] + ZERO_CELSIUS_K), _y(s.form, t_c[sel], sigma[sel]), None if se is None else se[sel]
        )
        regimes.append(
            ArrheniusRegime(
                s.form,
                label,
                float(t_c[sel].min()),
                float(t_c[sel].max()),
                int(sel.size),
                fit,
                'window',
                None,
                systematic,
                s.confidence,
            )
        )
        members.append(sel)
    return regimes, members


def fit_arrhenius(
    temperature_c: ArrayLike,
    conductivity_s_cm: ArrayLike,
    *,
    stderr_rel: Sequence[float] | np.ndarray | None = None,
    systematic_rel: float | None = None,
    branch: Sequence[str] | np.ndarray | None = None,
    settings: ArrheniusSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> ArrheniusResult:
    """Activation energies from conductivity versus temperature (see the module docstring).

    :param temperature_c: temperatures in degC.
    :param conductivity_s_cm: conductivities in S/cm (> 0).
    :param stderr_rel: per-point relative standard errors of the conductivities (the fit's), for the weights.
    :param systematic_rel: relative standard uncertainty common to every point (the stated geometry).
    :param branch: per-point labels ``'heating'``/``'cooling'``; each branch is fitted separately (a window
        holding too few points of one branch is skipped for that branch and listed in ``skipped_windows``).
    :param settings: an :class:`ArrheniusSettings` or a mapping of its fields; ``overrides`` replace single fields.
    """
    s = ArrheniusSettings.resolve(settings, **overrides)
    t_c, sigma, se, labels = _check(temperature_c, conductivity_s_cm, stderr_rel, branch)
    if not s.weighted:
        se = None
    systematic = float(systematic_rel or 0.0)
    windows = [tuple(float(v) for v in w) for w in s.windows] if s.windows else None
    for w in windows or []:
        if len(w) != 2 or not w[0] < w[1]:
            raise ArrheniusError(f'each window must be (t_min_c, t_max_c) with t_min_c < t_max_c, got {list(w)}')
    if labels is not None and not s.separate_branches:
        labels = None
    groups = (
        [(None, np.arange(t_c.size))]
        if labels is None
        else [(b, np.flatnonzero(labels == b)) for b in BRANCHES if np.any(labels == b)]
    )
    regimes: list[ArrheniusRegime] = []
    members: list[np.ndarray] = []
    skipped: list[str] = []
    selections: list[dict[str, Any]] = []
    flags: list[dict[str, str]] = []
    for label, idx in groups:
        if windows is not None:
            found, sel = _window_regimes(t_c, sigma, se, idx, label, windows, s, systematic, skipped)
        else:
            try:
                found, local, selection, found_flags = _regimes_of_group(
                    t_c[idx], sigma[idx], None if se is None else se[idx], label, s, systematic
                )
            except ArrheniusError as exc:
                if label is None or len(groups) == 1:
                    raise
                skipped.append(str(exc))  # a branch too short to fit; the other still counts
                continue
            sel = [idx[m] for m in local]
            selections.append(selection)
            flags.extend(found_flags)
        regimes.extend(found)
        members.extend(sel)
    if not regimes:
        raise ArrheniusError('no regime could be fitted: ' + '; '.join(skipped))
    return _result(s, t_c, sigma, labels, regimes, members, skipped, selections, flags)


def _result(
    s: ArrheniusSettings,
    t_c: np.ndarray,
    sigma: np.ndarray,
    labels: np.ndarray | None,
    regimes: list[ArrheniusRegime],
    members: list[np.ndarray],
    skipped: list[str],
    selections: list[dict[str, Any]],
    flags: list[dict[str, str]],
) -> ArrheniusResult:
    ref = float(s.reference_temperature_c)

    def distance(r: ArrheniusRegime) -> float:
        return 0.0 if r.t_min_c <= ref <= r.t_max_c else min(abs(ref - r.t_min_c), abs(ref - r.t_max_c))

    head = min(range(len(regimes)), key=lambda k: (distance(regimes[k]), k))
    value, se = regimes[head].conductivity_s_cm(ref)
    regime_of_point = np.full(t_c.size, -1, dtype=int)
    for k, sel in enumerate(members):
        regime_of_point[sel] = k
    knees = [r.knee_temperature_c for r in regimes if r.knee_temperature_c is not None]
    return ArrheniusResult(
        form=s.form,
        split='windows' if s.windows else s.split,
        regimes=regimes,
        headline_index=head,
        reference_temperature_c=ref,
        conductivity_at_reference_s_cm=value,
        conductivity_at_reference_stderr_s_cm=se,
        reference_extrapolated=distance(regimes[head]) > 0,
        knee_temperature_c=knees[0] if knees else None,
        temperature_c=t_c,
        conductivity_s_cm=sigma,
        branch=labels,
        regime_of_point=regime_of_point,
        skipped=tuple(skipped),
        selections=selections,
        parameters=s.parameters(),
        flags=flags,
    )
