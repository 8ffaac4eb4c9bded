"""Complex non-linear least-squares fit of an equivalent circuit to an impedance spectrum.

The fit runs :func:`scipy.optimize.least_squares` (trust-region reflective) on the weighted residual
vector ``[w' (Z'_fit - Z'), w'' (Z''_fit - Z'')]`` with the circuit's analytic Jacobian. Positive
scale parameters (R, C, L, Q, sigma, tau) are optimised as their natural logarithm, which makes a
problem where ``Q ~ 1e-9`` sits next to ``R ~ 1e3`` well conditioned; CPE exponents are optimised
linearly inside their bounds (default ``[0, 1]``). Fixed parameters are removed from the
optimisation. Without ``initial`` the start comes from :func:`~aiida_ssb.analysis.eis.guess.initial_guess`;
a small, seeded multistart around the start keeps the lowest cost.

Weightings (``Z = Z' + j Z''``, data values in the weights):

* ``'modulus'`` (default): ``w' = w'' = 1 / |Z|``;
* ``'proportional'``: ``w' = 1 / max(|Z'|, 0.01 |Z|)``, ``w'' = 1 / max(|Z''|, 0.01 |Z|)`` (the
  floor keeps points where a component crosses zero from dominating);
* ``'unit'``: ``w' = w'' = 1`` (ohm-valued residuals).

Quality metrics (``Z_i`` measured, ``Z_fit,i`` fitted, sums over the fitted points):

* ``chi2_ohm = sum |Z_i - Z_fit,i|^2 / |Z_i|`` (ohm): chi2 with |Z| weighting, and
  ``chi2_over_z = chi2_ohm / sum |Z_i|`` (dimensionless): our reading of EC-Lab ZFit's "chi2/|Z|",
  the quantity seed 000 accepts below 0.02 (the docs page says why this is a reconstruction);
* ``chi2_modulus = sum |Z_i - Z_fit,i|^2 / |Z_i|^2`` (dimensionless), whatever the weighting;
* ``weighted_rss = sum r_i^2`` of the weighted residual vector actually minimised, and
  ``reduced_chi2 = weighted_rss / (2N - P_free)``;
* per-point relative residuals ``(Z'_i - Z'_fit,i) / |Z_i|`` and ``(Z''_i - Z''_fit,i) / |Z_i|``.

Standard errors come from ``cov = (J^T J)^-1 s^2`` with ``s^2 = weighted_rss / (2N - P_free)`` in the
optimised coordinates, mapped back to linear values by the delta method (``sd(p) = p sd(ln p)``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, field_validator
from scipy.optimize import OptimizeResult, least_squares

from aiida_ssb.analysis.eis.circuit import Circuit, Element, Node, ParameterError, Series
from aiida_ssb.analysis.eis.guess import GuessResult, initial_guess
from aiida_ssb.analysis.eis.result import EisFitResult
from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import AnalysisError, NotConvergedError

__all__ = ['WEIGHTINGS', 'EisFitError', 'EisFitResult', 'FitSettings', 'data_bounds', 'fit_circuit', 'prepare_spectrum']

WEIGHTINGS = ('modulus', 'proportional', 'unit')
_PROPORTIONAL_FLOOR = 0.01
_ARC_SIGNATURES = {'p(R,CPE)': ('R', 'CPE'), 'p(CPE,R)': ('CPE', 'R'), 'p(R,C)': ('R', 'C'), 'p(C,R)': ('C', 'R')}


class EisFitError(AnalysisError):
    """Input that cannot be fitted (names the argument and what is wrong)."""


class FitSettings(Settings):
    """Settings of one equivalent-circuit fit (:func:`fit_circuit`); the circuit itself is an argument.

    The analysis ``eis_fit`` (:class:`~aiida_ssb.analysis.eis.model.EisFitSettings`) adds the choice of the
    circuit, the candidate family and the acceptance gate to these fields."""

    roles: dict[str, str] = Field(
        {},
        description='element -> physical role (bulk, grain_boundary, electrode, interface, cathode_interphase...); '
        'roles not given are assigned from the physics (C_eff and frequency order)',
    )
    weighting: Literal['modulus', 'proportional', 'unit'] = Field('modulus', description='residual weighting')
    fixed: dict[str, float] = Field({}, description='parameters held at these values')
    initial: dict[str, float] | tuple[float, ...] | None = Field(
        None, description='initial guess by parameter name, or every value in circuit order (automatic when absent)'
    )
    bounds: dict[str, tuple[float | None, float | None]] = Field(
        {}, description='parameter -> (low, high) in linear units (null for an open side)'
    )
    n_starts: int = Field(4, ge=1, description='multistart count: starts spread around the initial guess')
    seed: int = Field(0, description='seed of the multistart')
    frequency_range_hz: tuple[float | None, float | None] | None = Field(
        None, description='fit only this frequency window (null for an open side)'
    )
    order_arcs: bool = Field(True, description='order interchangeable series arcs fastest first')
    tolerance: float = Field(
        1e-10, gt=0, lt=1e-2, description='relative tolerance of each local fit (ftol, xtol, gtol)'
    )
    max_nfev: int | None = Field(None, ge=1, description='cap on evaluations per local fit (default 40 per parameter)')

    @field_validator('initial', mode='before')
    @classmethod
    def _sequence(cls, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return tuple(float(v) for v in value.ravel())
        return value

    @field_validator('frequency_range_hz')
    @classmethod
    def _range(cls, value: Any) -> Any:
        if value is not None:
            lo = 0.0 if value[0] is None else value[0]
            hi = math.inf if value[1] is None else value[1]
            if not lo < hi:
                raise ValueError(f'frequency_range_hz must be (low, high) with low < high, got {list(value)}')
        return value


# ------------------------------------------------------------------------------------------ helpers


def _as_complex(z: ArrayLike | tuple[ArrayLike, ArrayLike], name: str = 'z') -> np.ndarray:
    if isinstance(z, tuple) and len(z) == 2:
        re = np.asarray(z[0], dtype=float).ravel()
        im = np.asarray(z[1], dtype=float).ravel()
        if re.shape != im.shape:
            raise EisFitError(f'{name}: real and imaginary parts differ in length ({re.size} vs {im.size})')
        return re + 1j * im
    arr = np.asarray(z)
    if not np.iscomplexobj(arr):
        raise EisFitError(
            f'{name} must be complex (z_real_ohm + 1j * z_imag_ohm, Im negative for capacitive arcs) '
            'or a (z_real_ohm, z_imag_ohm) tuple'
        )
    return arr.astype(complex).ravel()


def prepare_spectrum(
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
    frequency_range_hz: Sequence[float | None] | None = None,
    *,
    min_points: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a spectrum and return ``(frequency_hz, z)`` restricted to ``frequency_range_hz``.

    Raises :class:`EisFitError` for mismatched lengths, non-finite values, non-positive frequencies or
    too few points in the range.
    """
    f = np.asarray(frequency_hz, dtype=float).ravel()
    zc = _as_complex(z)
    if f.size != zc.size:
        raise EisFitError(f'frequency_hz has {f.size} values but z has {zc.size}')
    if f.size == 0:
        raise EisFitError('the spectrum is empty')
    bad = ~np.isfinite(f) | ~np.isfinite(zc.real) | ~np.isfinite(zc.imag)
    if np.any(bad):
        raise EisFitError(
            f'{int(bad.sum())} point(s) with non-finite frequency or impedance (first at index {int(np.argmax(bad))})'
        )
    if np.any(f <= 0):
        raise EisFitError(f'frequency_hz must be > 0 (index {int(np.argmax(f <= 0))} is {f[np.argmax(f <= 0)]})')
    if frequency_range_hz is not None:
        lo, hi = frequency_range_hz
        lo = 0.0 if lo is None else float(lo)
        hi = np.inf if hi is None else float(hi)
        if not lo < hi:
            raise EisFitError(f'frequency_range_hz must be (low, high) with low < high, got {frequency_range_hz}')
        keep = (f >= lo) & (f <= hi)
        f, zc = f[keep], zc[keep]
    if f.size < min_points:
        raise EisFitError(f'{f.size} point(s) in the fitted frequency range; at least {min_points} needed')
    if np.any(np.abs(zc) == 0):
        raise EisFitError('the spectrum contains Z = 0 points (|Z| weighting impossible)')
    return f, zc


def _weights(z: np.ndarray, weighting: str) -> tuple[np.ndarray, np.ndarray]:
    mod = np.abs(z)
    if weighting == 'modulus':
        w = 1.0 / mod
        return w, w
    if weighting == 'proportional':
        floor = _PROPORTIONAL_FLOOR * mod
        return 1.0 / np.maximum(np.abs(z.real), floor), 1.0 / np.maximum(np.abs(z.imag), floor)
    if weighting == 'unit':
        one = np.ones(z.size)
        return one, one
    raise EisFitError(f'weighting must be one of {", ".join(repr(w) for w in WEIGHTINGS)}, got {weighting!r}')


#: Scale parameters are bounded to where their element's impedance lies within these factors of the
#: measured ``min |Z|`` / ``max |Z|`` somewhere in the measured frequency range (see :func:`data_bounds`).
RESOLVABLE_LOW = 1e-6
RESOLVABLE_HIGH = 1e6


def data_bounds(
    circuit: Circuit, frequency_hz: ArrayLike, z: ArrayLike | tuple[ArrayLike, ArrayLike]
) -> tuple[np.ndarray, np.ndarray]:
    """Default bounds (linear units) for every parameter of ``circuit`` given the data.

    CPE exponents: ``[0, 1]``. Scale parameters: from the value below which the element (in series)
    is smaller than ``1e-6 min|Z|`` at every measured frequency, to the value above which it (in
    parallel) is larger than ``1e6 max|Z|`` at every measured frequency. For ``omega`` in
    ``[w_min, w_max]`` (rad/s), ``a = 1e-6 min|Z|`` and ``b = 1e6 max|Z|``:

    * R, Wo/Ws R (ohm): ``[a, b]``;
    * C (F): ``[1/(w_max b), 1/(w_min a)]``;  L (H): ``[a / w_max, b / w_min]``;
    * CPE Q (S s^alpha): ``[1/(b max(1, w_max)), 1/(a min(1, w_min))]`` (covers every alpha);
    * W sigma (ohm s^-0.5): ``[a sqrt(w_min / 2), b sqrt(w_max / 2)]``;
    * tau (s): ``[1e-6 / w_max, 1e6 / w_min]``.

    A fitted value at such a bound means the data do not resolve that parameter.
    """
    omega = 2.0 * np.pi * np.asarray(frequency_hz, dtype=float)
    mod = np.abs(np.asarray(z))
    a = RESOLVABLE_LOW * float(np.min(mod))
    b = RESOLVABLE_HIGH * float(np.max(mod))
    w_min, w_max = float(np.min(omega)), float(np.max(omega))
    windows = {
        'ohm': (a, b),
        'F': (1.0 / (w_max * b), 1.0 / (w_min * a)),
        'H': (a / w_max, b / w_min),
        'S s^alpha': (1.0 / (b * max(1.0, w_max)), 1.0 / (a * min(1.0, w_min))),
        'ohm s^-0.5': (a * np.sqrt(w_min / 2.0), b * np.sqrt(w_max / 2.0)),
        's': (RESOLVABLE_LOW / w_max, RESOLVABLE_HIGH / w_min),
    }
    lower = np.array([bd[0] for bd in circuit.default_bounds], dtype=float)
    upper = np.array([bd[1] for bd in circuit.default_bounds], dtype=float)
    for i, unit in enumerate(circuit.parameter_units):
        if circuit.log_mask[i] and unit in windows:
            lower[i] = max(lower[i], windows[unit][0])
            upper[i] = min(upper[i], windows[unit][1])
    return lower, upper


# ---------------------------------------------------------------------------------------- the fit


def _resolve_mapping(circuit: Circuit, mapping: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not mapping:
        return out
    for name, value in mapping.items():
        try:
            out[circuit.parameter_names[circuit.index(name)]] = value
        except ParameterError as exc:
            raise EisFitError(f'{what}: {exc}') from None
    return out


def _arc_groups(circuit: Circuit) -> list[list[tuple[int, int, int]]]:
    """Interchangeable series siblings: lists of (start, r_offset, c_offset) per arc, per group."""
    groups: list[list[tuple[int, int, int]]] = []

    def visit(node: Node) -> None:
        if isinstance(node, Element):
            return
        if isinstance(node, Series):
            by_signature: dict[str, list[Node]] = {}
            for child in node.children:
                sig = child.signature()
                if sig in _ARC_SIGNATURES:
                    by_signature.setdefault(sig, []).append(child)
            for sig, members in by_signature.items():
                if len(members) < 2:
                    continue
                order = _ARC_SIGNATURES[sig]
                r_off = 0 if order[0] == 'R' else (2 if order[0] == 'CPE' else 1)
                c_off = 1 if order[0] == 'R' else 0
                groups.append([(m.start, r_off, c_off) for m in members])
        for child in node.children:
            visit(child)

    visit(circuit.tree)
    return groups


def _arc_permutation(circuit: Circuit, values: np.ndarray, locked: set[int]) -> np.ndarray:
    """Index permutation that orders interchangeable arcs by time constant (fastest first)."""
    perm = np.arange(values.size)
    for group in _arc_groups(circuit):
        size = 3 if any(circuit.parameter_units[s + c] == 'S s^alpha' for s, _, c in group) else 2
        members: list[tuple[float, list[int]]] = []
        for start, r_off, c_off in group:
            idx = list(range(start, start + size))
            if locked.intersection(idx):
                members = []
                break
            r = values[start + r_off]
            if size == 3:
                q, alpha = values[start + c_off], values[start + c_off + 1]
                tau = math.log(r * q) / alpha if alpha > 0 and r * q > 0 else math.inf  # ln tau
            else:
                tau = math.log(r * values[start + c_off]) if r * values[start + c_off] > 0 else math.inf
            members.append((tau, idx))
        if len(members) < 2:
            continue
        slots = [idx for _, idx in members]
        ordered = [idx for _, idx in sorted(members, key=lambda t: t[0])]
        for slot, source in zip(slots, ordered):
            perm[slot] = source
    return perm


@dataclasses.dataclass
class _Problem:
    """The weighted least-squares problem of one fit, in the optimised coordinates ``x`` (logarithms of the
    free scale parameters, linear exponents)."""

    circuit: Circuit
    omega: np.ndarray
    z: np.ndarray
    w_re: np.ndarray
    w_im: np.ndarray
    full: np.ndarray  # every parameter's value; the fixed ones stay
    free_idx: np.ndarray
    log_free: np.ndarray
    lb: np.ndarray
    ub: np.ndarray

    @property
    def margin(self) -> np.ndarray:
        span = self.ub - self.lb
        return np.where(np.isfinite(span), 1e-6 * span, 0.0)

    def to_x(self, values: np.ndarray) -> np.ndarray:
        v = values[self.free_idx]
        x = np.where(self.log_free, np.log(np.where(self.log_free, v, 1.0)), v)
        span = self.ub - self.lb
        margin = np.where(np.isfinite(span), 1e-9 * span, 0.0)
        return np.clip(x, self.lb + margin, self.ub - margin)

    def to_values(self, x: np.ndarray) -> np.ndarray:
        out = np.array(self.full, copy=True)
        out[self.free_idx] = np.where(self.log_free, np.exp(x), x)
        return out

    def residuals(self, x: np.ndarray) -> np.ndarray:
        zm, _ = self.circuit.tree.evaluate(self.omega, self.to_values(x), False)
        d = zm - self.z
        return np.concatenate([self.w_re * d.real, self.w_im * d.imag])

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        values = self.to_values(x)
        _, jc = self.circuit.tree.evaluate(self.omega, values, True)
        assert jc is not None  # asked for
        jf = jc[:, self.free_idx] * np.where(self.log_free, values[self.free_idx], 1.0)
        n = self.omega.size
        out = np.empty((2 * n, self.free_idx.size))
        out[:n] = jf.real * self.w_re[:, None]
        out[n:] = jf.imag * self.w_im[:, None]
        return out

    def touches_bound(self, x: np.ndarray) -> bool:
        """A free scale parameter at its resolvability bound (a CPE exponent at 1 is an ideal capacitor, a
        legitimate answer; a scale parameter at its bound usually means a collapsed, degenerate solution)."""
        span = self.ub - self.lb
        unit = np.where(np.isfinite(span), span, 1.0)
        near_low = np.isfinite(self.lb) & (x - self.lb <= 1e-6 * unit)
        near_high = np.isfinite(self.ub) & (self.ub - x <= 1e-6 * unit)
        return bool(np.any((near_low | near_high) & self.log_free))


def _check_inputs(circuit: Circuit, s: FitSettings) -> tuple[dict[str, float], dict[str, Any], dict[str, str]]:
    """``fixed``, ``bounds`` (by display name) and ``roles`` of the settings, checked against the circuit."""
    fixed_map = {k: float(v) for k, v in _resolve_mapping(circuit, s.fixed, 'fixed').items()}
    bounds_map = _resolve_mapping(circuit, s.bounds, 'bounds')
    element_names = {e.name for e in circuit.elements}
    roles_map: dict[str, str] = {}
    for element, role in s.roles.items():
        if element not in element_names:
            raise EisFitError(
                f'roles: {element!r} is not an element of {circuit.spec!r} '
                f'(elements: {", ".join(sorted(element_names))})'
            )
        roles_map[element] = str(role)
    for name, value in fixed_map.items():
        i = circuit.index(name)
        if not math.isfinite(value) or (circuit.log_mask[i] and value <= 0):
            raise EisFitError(
                f'fixed[{name!r}] = {value} is invalid ({name} must be finite'
                f'{" and > 0" if circuit.log_mask[i] else ""})'
            )
    if len(fixed_map) == circuit.n_parameters:
        raise EisFitError('every parameter is fixed: nothing to fit')
    return fixed_map, bounds_map, roles_map


def _linear_bounds(
    circuit: Circuit, f: np.ndarray, zd: np.ndarray, bounds_map: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds in linear units: physical limits narrowed to the window the data resolve, then the user's."""
    lower, upper = data_bounds(circuit, f, zd)
    for name, pair in bounds_map.items():
        i = circuit.index(name)
        try:
            lo, hi = pair
        except (TypeError, ValueError):
            raise EisFitError(f'bounds[{name!r}] must be a (low, high) pair, got {pair!r}') from None
        lo = lower[i] if lo is None else float(lo)
        hi = upper[i] if hi is None else float(hi)
        if not lo < hi:
            raise EisFitError(f'bounds[{name!r}]: low {lo} must be < high {hi}')
        if circuit.log_mask[i] and hi <= 0:
            raise EisFitError(f'bounds[{name!r}]: {name} is positive, so the upper bound must be > 0')
        lower[i], upper[i] = lo, hi
    return lower, upper


def _start(
    circuit: Circuit,
    f: np.ndarray,
    zd: np.ndarray,
    initial: Mapping[str, float] | Sequence[float] | np.ndarray | None,
    fixed_map: Mapping[str, float],
) -> tuple[np.ndarray, str, GuessResult | None]:
    """``(start values, source, guess)``: the user's start, completed by (or replaced with) the automatic one."""
    guess = None
    if initial is None or isinstance(initial, Mapping):
        guess = initial_guess(circuit, f, zd)
    if initial is None:
        assert guess is not None
        start = np.array([guess.values[n] for n in circuit.parameter_names])
        source = 'automatic'
    elif isinstance(initial, Mapping):
        assert guess is not None
        given = _resolve_mapping(circuit, initial, 'initial')
        start = np.array([float(given.get(n, guess.values[n])) for n in circuit.parameter_names])
        source = 'user' if len(given) == circuit.n_parameters else 'user+automatic'
    else:
        try:
            start = circuit.values_array(initial)
        except ParameterError as exc:
            raise EisFitError(f'initial: {exc}') from None
        source = 'user'
    for name, value in fixed_map.items():
        start[circuit.index(name)] = value
    bad = [n for i, n in enumerate(circuit.parameter_names) if circuit.log_mask[i] and not start[i] > 0]
    if bad:
        raise EisFitError(f'initial values must be > 0 for {", ".join(bad)}')
    return start, source, guess


def _problem(
    circuit: Circuit,
    f: np.ndarray,
    zd: np.ndarray,
    start: np.ndarray,
    fixed_map: Mapping[str, float],
    lower: np.ndarray,
    upper: np.ndarray,
    weighting: str,
) -> _Problem:
    free_idx = np.array([i for i, n in enumerate(circuit.parameter_names) if n not in fixed_map], dtype=int)
    log_free = circuit.log_mask[free_idx]
    lb = np.where(log_free, np.log(np.where(lower[free_idx] > 0, lower[free_idx], 1.0)), lower[free_idx])
    lb = np.where(log_free & ~(lower[free_idx] > 0), -np.inf, lb)
    with np.errstate(divide='ignore'):
        ub = np.where(log_free, np.log(upper[free_idx]), upper[free_idx])
    w_re, w_im = _weights(zd, weighting)
    return _Problem(circuit, 2.0 * np.pi * f, zd, w_re, w_im, np.array(start, copy=True), free_idx, log_free, lb, ub)


def _planned_starts(
    problem: _Problem, start: np.ndarray, source: str, guess: GuessResult | None, fixed_map: Mapping[str, float]
) -> list[np.ndarray]:
    planned = [problem.to_x(start)]
    if source == 'automatic' and guess is not None:
        for alternative in guess.alternatives:
            alt = np.array([alternative[n] for n in problem.circuit.parameter_names])
            for name, value in fixed_map.items():
                alt[problem.circuit.index(name)] = value
            planned.append(problem.to_x(alt))
    return planned


def _multistart(
    problem: _Problem, planned: list[np.ndarray], s: FitSettings
) -> tuple[OptimizeResult, np.ndarray, int, int, int]:
    """The local fits (see :func:`fit_circuit`'s ``n_starts``); returns ``(best, its start, runs, nfev, njev)``."""

    n_starts, seed, max_nfev = s.n_starts, s.seed, s.max_nfev
    n_free = problem.free_idx.size
    nfev_cap = max_nfev if max_nfev is not None else max(200, 40 * n_free)
    x_start = planned[0]
    margin = problem.margin
    lb, ub, log_free = problem.lb, problem.ub, problem.log_free
    rng = np.random.default_rng(seed)
    best, best_x0 = None, x_start
    costs: list[float] = []
    nfev = njev = runs = 0
    for k in range(n_starts):
        if k < len(planned):
            x0 = planned[k]
        elif k == len(planned) and best is not None and not problem.touches_bound(best.x):
            # confirmation: restart from a small perturbation of the first solution
            step = np.where(log_free, rng.uniform(-np.log(1.5), np.log(1.5), n_free), rng.uniform(-0.03, 0.03, n_free))
            x0 = np.clip(best.x + step, lb + margin, ub - margin)
        else:
            factor = 3.0 if k <= len(planned) + 1 else 10.0
            step = np.where(
                log_free, rng.uniform(-np.log(factor), np.log(factor), n_free), rng.uniform(-0.1, 0.1, n_free)
            )
            x0 = np.clip(x_start + step, lb + margin, ub - margin)
        try:
            with np.errstate(over='ignore', invalid='ignore', divide='ignore'):
                res = least_squares(
                    problem.residuals,
                    x0,
                    jac=problem.jacobian,
                    bounds=(lb, ub),
                    method='trf',
                    x_scale='jac',
                    ftol=s.tolerance,
                    xtol=s.tolerance,
                    gtol=s.tolerance,
                    max_nfev=nfev_cap,
                )
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        runs += 1
        nfev += int(res.nfev)
        njev += int(res.njev or 0)
        if not np.isfinite(res.cost):
            continue
        costs.append(float(res.cost))
        if best is None or res.cost < best.cost:
            best, best_x0 = res, x0
        tol = 1e-6 * best.cost + 1e-300
        if (
            k + 1 >= len(planned)
            and sum(c <= best.cost + tol for c in costs) >= 2
            and not problem.touches_bound(best.x)
        ):
            break
    if best is None:
        raise NotConvergedError(
            f'the fit of {problem.circuit.spec!r} failed from every start (non-finite model values)'
        )
    return best, best_x0, runs, nfev, njev


def _covariance(
    problem: _Problem, x: np.ndarray, values: np.ndarray, wrss: float, dof: int
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """``(covariance, correlation, stderr)`` of the free parameters in linear units (delta method)."""
    n_free = problem.free_idx.size
    stderr = np.full(n_free, np.nan)
    if dof <= 0:
        return None, None, stderr
    _, sv, vt = np.linalg.svd(problem.jacobian(x), full_matrices=False)
    if not (sv.size and sv[-1] > sv[0] * 1e-12):
        return None, None, stderr
    cov_x = (vt.T / sv**2) @ vt * (wrss / dof)
    scale = np.where(problem.log_free, values[problem.free_idx], 1.0)
    covariance = cov_x * np.outer(scale, scale)
    stderr = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    with np.errstate(invalid='ignore', divide='ignore'):
        correlation = covariance / np.outer(stderr, stderr)
    return covariance, correlation, stderr


def _at_bounds(problem: _Problem, values: np.ndarray) -> list[str]:
    names = problem.circuit.parameter_names
    found = []
    for k, i in enumerate(problem.free_idx):
        x = np.log(values[i]) if problem.log_free[k] else values[i]
        lb, ub = problem.lb[k], problem.ub[k]
        span = (ub - lb) if np.isfinite(ub - lb) else 1.0
        if (np.isfinite(lb) and x - lb <= 1e-6 * span) or (np.isfinite(ub) and ub - x <= 1e-6 * span):
            found.append(names[i])
    return found


def fit_circuit(
    circuit: Circuit | str,
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
    *,
    settings: FitSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> EisFitResult:
    """Fit ``circuit`` to the spectrum ``(frequency_hz, z)``.

    :param circuit: a :class:`Circuit` or its string, e.g. ``'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3'``.
    :param frequency_hz: frequencies in Hz (any order).
    :param z: complex impedance in ohm (``Im Z < 0`` for capacitive arcs), or a
        ``(z_real_ohm, z_imag_ohm)`` tuple.
    :param settings: a :class:`FitSettings` (or a mapping of its fields); ``overrides`` replace single fields,
        e.g. ``fit_circuit(c, f, z, weighting='unit', n_starts=1)``.

    The settings (see :class:`FitSettings`): ``initial`` start values as a mapping (display names or storage
    keys; missing parameters from the automatic guess) or a sequence in :attr:`Circuit.parameter_names`
    order, ``None`` for the automatic data-driven guess; ``fixed`` parameters held at values; ``bounds``
    ``{name: (low, high)}`` in linear units (``None`` for an open side; defaults ``(0, inf)`` narrowed to the
    resolvable window, ``(0, 1)`` for CPE exponents); ``weighting``; ``n_starts``, the most local fits: they
    start, in turn, at ``initial`` (or the automatic guess), at the guess's alternative placements of arcs
    without a visible maximum (automatic starts only), at a small perturbation of the best solution so far
    (scale parameters x/÷ up to 1.5, exponents ±0.03) to confirm it, then at seeded random perturbations of
    the start (x/÷ up to 3, then up to 10; exponents ±0.1); the search stops once two local fits agree on
    the lowest cost (relative 1e-6) and no scale parameter of that solution sits at a bound; ``seed`` of the
    perturbations; ``frequency_range_hz``; ``roles`` of elements, stored in the result; ``order_arcs``:
    interchangeable series arcs (``p(R,CPE)``/``p(R,C)`` siblings, none of their parameters fixed or bounded)
    reordered so that their time constants increase from left to right; ``max_nfev`` per local fit.
    """
    s = FitSettings.resolve(settings, **overrides)
    if isinstance(circuit, str):
        circuit = Circuit(circuit)
    elif not isinstance(circuit, Circuit):
        raise EisFitError(f'circuit must be a Circuit or a circuit string, not {type(circuit).__name__}')
    fixed_map, bounds_map, roles_map = _check_inputs(circuit, s)
    n_free = circuit.n_parameters - len(fixed_map)
    f, zd = prepare_spectrum(frequency_hz, z, s.frequency_range_hz, min_points=max(1, (n_free + 2) // 2))
    order = np.argsort(-f)
    f, zd = f[order], zd[order]
    lower, upper = _linear_bounds(circuit, f, zd, bounds_map)
    start, source, guess = _start(circuit, f, zd, s.initial, fixed_map)
    problem = _problem(circuit, f, zd, start, fixed_map, lower, upper, s.weighting)
    planned = _planned_starts(problem, start, source, guess, fixed_map)
    best, best_x0, runs, nfev, njev = _multistart(problem, planned, s)

    values = problem.to_values(best.x)
    wrss = float(2.0 * best.cost)
    dof = 2 * f.size - problem.free_idx.size
    covariance, correlation, stderr_free = _covariance(problem, best.x, values, wrss, dof)
    reordered = False
    if s.order_arcs:
        locked = {circuit.index(n) for n in fixed_map} | {circuit.index(n) for n in bounds_map}
        perm = _arc_permutation(circuit, values, locked)
        if np.any(perm != np.arange(circuit.n_parameters)):
            reordered = True
            values = values[perm]
            pos = {int(i): k for k, i in enumerate(problem.free_idx)}
            fperm = np.array([pos[int(perm[i])] for i in problem.free_idx])
            stderr_free = stderr_free[fperm]
            if covariance is not None and correlation is not None:  # both or neither
                covariance = covariance[np.ix_(fperm, fperm)]
                correlation = correlation[np.ix_(fperm, fperm)]
    found = _Found(
        values=values,
        start_used=problem.to_values(best_x0),
        source=source,
        guess=guess,
        covariance=covariance,
        correlation=correlation,
        stderr_free=stderr_free,
        wrss=wrss,
        dof=dof,
        runs=runs,
        nfev=nfev,
        njev=njev,
        reordered=reordered,
        fixed_map=fixed_map,
        roles_map=roles_map,
        lower=lower,
        upper=upper,
    )
    return _result(circuit, problem, s, best, found)


@dataclasses.dataclass
class _Found:
    """What a finished fit found, before it becomes an :class:`EisFitResult`."""

    values: np.ndarray
    start_used: np.ndarray
    source: str
    guess: Any
    covariance: np.ndarray | None
    correlation: np.ndarray | None
    stderr_free: np.ndarray
    wrss: float
    dof: int
    runs: int
    nfev: int
    njev: int
    reordered: bool
    fixed_map: dict[str, float]
    roles_map: dict[str, str]
    lower: np.ndarray
    upper: np.ndarray


def _result(circuit: Circuit, problem: _Problem, s: FitSettings, best: OptimizeResult, found: _Found) -> EisFitResult:
    """The :class:`EisFitResult` of a finished fit."""
    names = circuit.parameter_names
    values = found.values
    f, zd = problem.omega / (2.0 * np.pi), problem.z
    zfit, _ = circuit.tree.evaluate(problem.omega, values, False)
    stderr: dict[str, float | None] = dict.fromkeys(names)
    for k, i in enumerate(problem.free_idx):
        if np.isfinite(found.stderr_free[k]):
            stderr[names[i]] = float(found.stderr_free[k])
    mod = np.abs(zd)
    diff = zd - zfit
    fixed_map = found.fixed_map
    lower, upper = found.lower, found.upper
    guess = found.guess
    rng_hz: tuple[float | None, float | None] | None = None
    if s.frequency_range_hz is not None:
        low, high = s.frequency_range_hz
        rng_hz = (None if low is None else float(low), None if high is None else float(high))
    wrss, dof = found.wrss, found.dof
    return EisFitResult(
        circuit=circuit.spec,
        parameter_names=names,
        parameter_units=circuit.parameter_units,
        parameter_keys=circuit.parameter_keys,
        stderr_keys=circuit.stderr_keys,
        values=circuit.values_dict(values),
        stderr=stderr,
        fixed=fixed_map,
        free=tuple(names[i] for i in problem.free_idx),
        covariance=found.covariance,
        correlation=found.correlation,
        weighting=s.weighting,
        chi2_ohm=float(np.sum(np.abs(diff) ** 2 / mod)),
        chi2_over_z=float(np.sum(np.abs(diff) ** 2 / mod) / np.sum(mod)),
        chi2_modulus=float(np.sum(np.abs(diff) ** 2 / mod**2)),
        weighted_rss=wrss,
        reduced_chi2=wrss / dof if dof > 0 else None,
        dof=int(dof),
        success=bool(best.success),
        status=int(best.status),
        nfev=found.nfev,
        njev=found.njev,
        message=str(best.message),
        initial=circuit.values_dict(found.start_used),
        initial_source=found.source,
        guess_rules=dict(guess.rules) if guess is not None else {},
        n_starts=s.n_starts,
        n_starts_run=found.runs,
        seed=int(s.seed),
        at_bounds=tuple(_at_bounds(problem, values)),
        frequency_hz=f,
        z=zd,
        z_fit=zfit,
        residual_real_rel=diff.real / mod,
        residual_imag_rel=diff.imag / mod,
        roles=found.roles_map,
        bounds={n: (float(lower[i]), float(upper[i])) for i, n in enumerate(names) if n not in fixed_map},
        frequency_range_hz=rng_hz,
        arcs_reordered=found.reordered,
        parameters=s.parameters(),
    )
