"""The outcome of one equivalent-circuit fit (:func:`~aiida_ssb.analysis.eis.fit.fit_circuit`)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from aiida_ssb.analysis.eis.circuit import Circuit

__all__ = ['EisFitResult']


def _json_float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------------------------- result


@dataclasses.dataclass
class EisFitResult:
    """Outcome of :func:`fit_circuit`. Values are in the units of :attr:`parameter_units`."""

    circuit: str
    parameter_names: tuple[str, ...]
    parameter_units: tuple[str, ...]
    parameter_keys: tuple[str, ...]
    stderr_keys: tuple[str, ...]
    values: dict[str, float]
    stderr: dict[str, float | None]
    fixed: dict[str, float]
    free: tuple[str, ...]
    covariance: np.ndarray | None
    correlation: np.ndarray | None
    weighting: str
    chi2_ohm: float
    chi2_over_z: float
    chi2_modulus: float
    weighted_rss: float
    reduced_chi2: float | None
    dof: int
    success: bool
    status: int
    nfev: int
    njev: int
    message: str
    initial: dict[str, float]
    initial_source: str
    guess_rules: dict[str, str]
    n_starts: int
    n_starts_run: int
    seed: int
    at_bounds: tuple[str, ...]
    frequency_hz: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    residual_real_rel: np.ndarray
    residual_imag_rel: np.ndarray
    roles: dict[str, str]
    bounds: dict[str, tuple[float, float]]
    frequency_range_hz: tuple[float | None, float | None] | None
    arcs_reordered: bool
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)

    # --------------------------------------------------------------------------- conveniences
    def value(self, name: str) -> float:
        """A fitted value by parameter name or storage key."""
        if name in self.values:
            return self.values[name]
        try:
            return self.values[self.parameter_names[self.parameter_keys.index(name)]]
        except ValueError:
            raise KeyError(f'{name!r} is not a parameter of {self.circuit!r}') from None

    @property
    def max_abs_residual_rel(self) -> float:
        return float(max(np.max(np.abs(self.residual_real_rel)), np.max(np.abs(self.residual_imag_rel))))

    @property
    def rms_residual_rel(self) -> float:
        both = np.concatenate([self.residual_real_rel, self.residual_imag_rel])
        return float(np.sqrt(np.mean(both**2)))

    def impedance(self, frequency_hz: ArrayLike) -> np.ndarray:
        """The fitted circuit evaluated at any frequencies (e.g. a dense grid for plotting)."""
        return Circuit(self.circuit).impedance(frequency_hz, self.values)

    def correlation_pairs(self) -> dict[str, float]:
        """``'A,B' -> correlation`` for every pair of free parameters."""
        out: dict[str, float] = {}
        if self.correlation is None:
            return out
        for i, a in enumerate(self.free):
            for j in range(i + 1, len(self.free)):
                out[f'{a},{self.free[j]}'] = float(self.correlation[i, j])
        return out

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-serialisable summary: parameters by storage key, stderr, quality, options."""
        out: dict[str, Any] = {
            'method': 'equivalent_circuit_fit',
            'parameters': dict(self.parameters),
            'circuit': self.circuit,
            'weighting': self.weighting,
            'n_points': int(self.frequency_hz.size),
            'frequency_min_hz': float(np.min(self.frequency_hz)),
            'frequency_max_hz': float(np.max(self.frequency_hz)),
        }
        for name, key, skey in zip(self.parameter_names, self.parameter_keys, self.stderr_keys):
            out[key] = float(self.values[name])
            out[skey] = _json_float(self.stderr.get(name))
        out['fixed_parameters'] = sorted(self.fixed)
        out['parameters_at_bounds'] = list(self.at_bounds)
        for element, role in self.roles.items():
            out[f'role_{element.lower()}'] = role
        out.update(
            {
                'chi2_ohm': float(self.chi2_ohm),
                'chi2_over_z': float(self.chi2_over_z),
                'chi2_modulus': float(self.chi2_modulus),
                'weighted_rss': float(self.weighted_rss),
                'reduced_chi2': _json_float(self.reduced_chi2),
                'dof': int(self.dof),
                'max_abs_residual_rel': self.max_abs_residual_rel,
                'rms_residual_rel': self.rms_residual_rel,
                'success': bool(self.success),
                'status': int(self.status),
                'nfev': int(self.nfev),
                'njev': int(self.njev),
                'message': self.message,
                'initial_source': self.initial_source,
                'n_starts': int(self.n_starts),
                'n_starts_run': int(self.n_starts_run),
                'seed': int(self.seed),
                'arcs_reordered': bool(self.arcs_reordered),
            }
        )
        pairs = self.correlation_pairs()
        if pairs:
            worst = max(pairs, key=lambda k: abs(pairs[k]))
            out['correlation_max_abs'] = abs(pairs[worst])
            out['correlation_max_pair'] = worst
        for name, key in zip(self.parameter_names, self.parameter_keys):
            out[f'initial_{key}'] = float(self.initial[name])
        for name, (lo, hi) in self.bounds.items():
            key = self.parameter_keys[self.parameter_names.index(name)]
            out[f'bound_lower_{key}'] = _json_float(lo)
            out[f'bound_upper_{key}'] = _json_float(hi)
        if self.frequency_range_hz is not None:
            out['frequency_range_min_hz'] = _json_float(self.frequency_range_hz[0])
            out['frequency_range_max_hz'] = _json_float(self.frequency_range_hz[1])
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """1-D arrays over the fitted points: the fitted curve and the relative residuals."""
        return {
            'frequency_hz': self.frequency_hz.copy(),
            'z_fit_real_ohm': self.z_fit.real.copy(),
            'z_fit_imag_ohm': self.z_fit.imag.copy(),
            'residual_real_rel': self.residual_real_rel.copy(),
            'residual_imag_rel': self.residual_imag_rel.copy(),
        }
