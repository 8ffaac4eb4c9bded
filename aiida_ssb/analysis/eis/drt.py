"""Distribution of relaxation times (DRT): Tikhonov-regularised, non-negative, with an automatic regularisation.

Model (``omega = 2 pi f``, ``y = ln tau``)::

    Z(omega) = R_inf + j omega L + 1 / (Q (j omega)^alpha_t) + integral gamma(y) / (1 + j omega e^y) dy

``gamma(y) >= 0`` (ohm per unit of ``ln tau``) is written on piecewise-linear hat functions ``phi_k`` centred on
a grid ``y_k`` (``points_per_decade`` per decade, from ``1/(2 pi f_max)`` to ``1/(2 pi f_min)`` widened by
``extend_decades`` on each side): ``gamma = sum_k g_k phi_k``. The integrals ``A_ik = integral phi_k(y) /
(1 + j omega_i e^y) dy`` are evaluated by the trapezoid rule on eight sub-steps per grid step. The series
inductance ``L`` is included when the highest-frequency point is inductive, the series CPE of a blocking
electrode (as ``1/Q``, its exponent ``alpha_t`` from the slope of ``-Im Z`` over the four lowest frequencies,
clipped to [0.5, 1]) when the lowest-frequency point is more capacitive than 45 degrees, each unless forced by
the settings. With the weights ``w_i = 1 / |Z_i|`` (modulus) the estimate is

.. math::

    \\hat x = \\arg\\min_{x \\ge 0} \\; \\| W (A x - Z) \\|^2 + \\lambda \\| D g \\|^2

over ``x = (R_inf, L, 1/Q, g)``, the real and imaginary parts stacked, ``D`` the second-difference matrix of
the interior grid points (``derivative=1``: first differences). It is solved by non-negative least squares on
the stacked system ``[W A; sqrt(lambda) D] x = [W Z; 0]``.

**Choice of lambda.** Without ``lambda_value``, ``lambda`` minimises the generalised cross-validation function
(Golub, Heath and Wahba, Technometrics 21 (1979) 215) of the unconstrained ridge problem,

.. math::

    \\mathrm{GCV}(\\lambda) = \\frac{N \\| (I - H_\\lambda) b \\|^2}{(N - \\mathrm{tr} H_\\lambda)^2},\\qquad
    H_\\lambda = M (M^T M + \\lambda D^T D)^{-1} M^T,

with ``M = W A``, ``b = W Z``, ``N`` twice the number of frequencies, over 49 values of ``lambda`` from 1e-10
to 1e2 (log-spaced; the minimum is refined by a parabola in ``log lambda``). Saccoccio, Wan, Chen and
Ciucci (Electrochim. Acta 147 (2014) 470) found GCV among the reliable rules for DRT ridge regression; DRTtools
(Wan et al., Electrochim. Acta 184 (2015) 483) uses the same formulation with radial basis functions.
``lambda`` at an end of the searched range is flagged.

**Peaks.** Local maxima of ``g`` at interior grid points, refined by a parabola through the logarithms of the
maximum and its neighbours (exact for a Gaussian peak); a peak's resistance is the area of ``gamma`` between the minima that flank it. Peaks holding at
least ``peak_min_fraction`` of the total polarisation resistance ``integral gamma dy`` count; those whose
``tau`` lies within the measured window ``[1/(2 pi f_max), 1/(2 pi f_min)]`` widened by half a decade are
counted (``n_peaks``). A peak's prominence is its height above the higher of its flanking minima over its height.
The evidence for the number of arcs in the model choice is the stricter :meth:`DrtResult.resolved_peaks` (above
the blocking element's onset, :func:`tail_onset_hz`; minimum fraction, prominence and separation).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field
from scipy.linalg import cho_factor, eigh, solve_triangular
from scipy.optimize import nnls

from aiida_ssb.analysis.eis.fit import prepare_spectrum
from aiida_ssb.analysis.settings import Settings

__all__ = ['WINDOW_WIDENING', 'DrtPeak', 'DrtResult', 'DrtSettings', 'compute_drt', 'tail_onset_hz']

LAMBDA_GRID = np.logspace(-10.0, 2.0, 49)
#: the measured window of time constants ``[1/(2 pi f_max), 1/(2 pi f_min)]`` is widened by this factor (half a
#: decade) on each side for a peak to count as inside it
WINDOW_WIDENING = math.sqrt(10.0)
_SUBSTEPS = 8


class DrtSettings(Settings):
    """Settings of the distribution of relaxation times (:func:`compute_drt`)."""

    points_per_decade: int = Field(10, ge=3, le=50, description='grid points of ln(tau) per decade')
    extend_decades: float = Field(1.0, ge=0, le=3, description='grid extension beyond the measured time constants')
    derivative: Literal[1, 2] = Field(2, description='order of the derivative penalised by the regularisation')
    lambda_value: float | None = Field(
        None, gt=0, description='regularisation parameter (chosen by generalised cross-validation when absent)'
    )
    inductance: bool | None = Field(None, description='series inductance (automatic when absent)')
    capacitance: bool | None = Field(None, description='series CPE of a blocking electrode (automatic when absent)')
    gcv_rho: float = Field(
        2.0, ge=1.0, le=3.0, description='modified GCV: the trace of the influence matrix counted rho times (1: GCV)'
    )
    weighting: Literal['modulus', 'unit'] = Field('modulus', description='residual weighting')
    peak_min_fraction: float = Field(
        0.05,
        gt=0,
        lt=1,
        description='a peak counts when it holds this fraction of the resistance of all interior peaks',
    )
    frequency_range_hz: tuple[float | None, float | None] | None = Field(
        None, description='use only this frequency window (null for an open side)'
    )


@dataclasses.dataclass(frozen=True)
class DrtPeak:
    """One peak of the distribution."""

    tau_s: float
    resistance_ohm: float
    fraction: float
    gamma_ohm: float
    in_window: bool
    prominence: float = 1.0

    @property
    def frequency_hz(self) -> float:
        return 1.0 / (2.0 * math.pi * self.tau_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            'tau_s': self.tau_s,
            'frequency_hz': self.frequency_hz,
            'resistance_ohm': self.resistance_ohm,
            'fraction': self.fraction,
            'in_window': self.in_window,
            'prominence': self.prominence,
        }


@dataclasses.dataclass
class DrtResult:
    """Outcome of :func:`compute_drt`."""

    tau_s: np.ndarray
    gamma_ohm: np.ndarray
    r_inf_ohm: float
    inductance_h: float | None
    tail_q_s_sa: float | None
    tail_alpha: float | None
    lambda_value: float
    lambda_rule: str
    gcv: np.ndarray | None
    peaks: list[DrtPeak]
    polarisation_resistance_ohm: float
    frequency_hz: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    parameters: dict[str, Any]
    flags: list[dict[str, str]]
    #: every local maximum of the distribution, significant or not (for :meth:`resolved_peaks`)
    maxima: list[DrtPeak] = dataclasses.field(default_factory=list)

    @property
    def n_peaks(self) -> int:
        """Significant peaks within the measured window (the evidence for the number of arcs)."""
        return sum(p.in_window for p in self.peaks)

    def resolved_peaks(
        self,
        min_fraction: float,
        min_prominence: float,
        min_separation_decades: float,
        lowest_hz: float | None = None,
    ) -> list[DrtPeak]:
        """The peaks that count as arcs (the evidence of the model choice). Among the local maxima in the window
        whose frequency ``1/(2 pi tau)`` is not below ``lowest_hz``: those holding at least ``min_fraction`` of these
        maxima's resistance and whose prominence (height above the higher of the two flanking minima, as a
        fraction of the height) is at least ``min_prominence``; then, by decreasing resistance, a peak closer than
        ``min_separation_decades`` in ``log10 tau`` to one already counted is part of that arc (the satellite lobes
        of a depressed arc).

        :param lowest_hz: e.g. :func:`tail_onset_hz`: below it the blocking element dominates and the distribution
            cannot tell an arc from it.
        """
        pool = [
            p for p in self.maxima or self.peaks if p.in_window and (lowest_hz is None or p.frequency_hz >= lowest_hz)
        ]
        total = sum(p.resistance_ohm for p in pool)
        candidates = sorted(
            (p for p in pool if p.resistance_ohm >= min_fraction * total and p.prominence >= min_prominence),
            key=lambda p: -p.resistance_ohm,
        )
        kept: list[DrtPeak] = []
        for peak in candidates:
            if all(abs(math.log10(peak.tau_s / other.tau_s)) >= min_separation_decades for other in kept):
                kept.append(peak)
        return sorted(kept, key=lambda p: p.tau_s)

    @property
    def rms_residual_rel(self) -> float:
        d = (self.z - self.z_fit) / np.abs(self.z)
        return float(np.sqrt(np.mean(np.concatenate([d.real, d.imag]) ** 2)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            'method': 'drt_tikhonov_nnls',
            'parameters': dict(self.parameters),
            'lambda': self.lambda_value,
            'lambda_rule': self.lambda_rule,
            'r_inf_ohm': self.r_inf_ohm,
            'polarisation_resistance_ohm': self.polarisation_resistance_ohm,
            'n_peaks': self.n_peaks,
            'peaks': [p.to_dict() for p in self.peaks],
            'rms_residual_rel': self.rms_residual_rel,
            'n_points': int(self.frequency_hz.size),
            'tau_min_s': float(self.tau_s[0]),
            'tau_max_s': float(self.tau_s[-1]),
            'flags': list(self.flags),
        }
        if self.inductance_h is not None:
            out['inductance_h'] = self.inductance_h
        if self.tail_alpha is not None:
            out['tail_alpha'] = self.tail_alpha
            if self.tail_q_s_sa is not None:
                out['tail_q_s_sa'] = self.tail_q_s_sa
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            'tau_s': self.tau_s.copy(),
            'gamma_ohm': self.gamma_ohm.copy(),
            'frequency_hz': self.frequency_hz.copy(),
            'z_drt_real_ohm': self.z_fit.real.copy(),
            'z_drt_imag_ohm': self.z_fit.imag.copy(),
        }
        if self.gcv is not None:
            out['lambda_grid'] = LAMBDA_GRID.copy()
            out['gcv'] = self.gcv.copy()
        return out


def _kernel(omega: np.ndarray, y: np.ndarray, step: float) -> np.ndarray:
    """``A_ik``: the hat function of node ``k`` integrated against ``1 / (1 + j omega_i e^y)``."""
    m = y.size
    t = np.linspace(-1.0, 1.0, 2 * _SUBSTEPS + 1)
    weights = (1.0 - np.abs(t)) * step / _SUBSTEPS
    weights[0] *= 0.5
    weights[-1] *= 0.5
    sub = y[:, None] + t[None, :] * step  # (m, 2S+1)
    kernel = 1.0 / (1.0 + 1j * omega[:, None, None] * np.exp(sub)[None, :, :])  # (n, m, 2S+1)
    matrix: np.ndarray = (kernel * weights[None, None, :]).sum(axis=2).reshape(omega.size, m)
    return matrix


def _penalty(m: int, offset: int, width: int, derivative: int) -> np.ndarray:
    rows = m - derivative
    d = np.zeros((rows, width))
    for r in range(rows):
        if derivative == 2:
            d[r, offset + r : offset + r + 3] = (1.0, -2.0, 1.0)
        else:
            d[r, offset + r : offset + r + 2] = (-1.0, 1.0)
    return d


def _gcv(m_mat: np.ndarray, b: np.ndarray, pen: np.ndarray, rho: float) -> np.ndarray:
    """GCV (``rho = 1``) or modified GCV (denominator ``(N - rho tr H)^2``) over :data:`LAMBDA_GRID`, all at once:
    with ``M^T M = L L^T`` and ``L^-1 D^T D L^-T = V diag(mu) V^T``, ``H_lambda`` has the eigenvalues
    ``1 / (1 + lambda mu_i)`` on the columns of ``M L^-T V``."""

    mtm = m_mat.T @ m_mat
    mtm = mtm + 1e-10 * np.trace(mtm) / mtm.shape[0] * np.eye(mtm.shape[0])
    chol, _ = cho_factor(mtm, lower=True)
    lower = np.tril(chol)
    inv_pen = solve_triangular(lower, pen.T, lower=True)  # L^-1 D^T
    mu, v = eigh(inv_pen @ inv_pen.T)
    mu = np.clip(mu, 0.0, None)
    k = m_mat @ solve_triangular(lower, v, lower=True, trans='T')  # M L^-T V, orthonormal columns
    u = k.T @ b
    outside = float(b @ b - u @ u)  # the part of b outside the column space
    n = b.size
    out = np.empty(LAMBDA_GRID.size)
    for i, lam in enumerate(LAMBDA_GRID):
        keep = 1.0 / (1.0 + lam * mu)
        resid2 = outside + float(np.sum(((1.0 - keep) * u) ** 2))
        trace = float(np.sum(keep))
        out[i] = n * resid2 / max(n - rho * trace, 1e-12) ** 2
    return out


def _choose_lambda(gcv: np.ndarray) -> tuple[float, bool]:
    """The GCV minimum, refined by a parabola in log lambda; True when it lies at an end of the grid."""
    i = int(np.argmin(gcv))
    logs = np.log(LAMBDA_GRID)
    if 0 < i < gcv.size - 1 and np.all(np.isfinite(gcv[i - 1 : i + 2])):
        a, b, c = np.log(gcv[i - 1 : i + 2])
        denominator = a - 2.0 * b + c
        shift = 0.5 * (a - c) / denominator if denominator > 0 else 0.0
        return float(np.exp(logs[i] + np.clip(shift, -0.5, 0.5) * (logs[1] - logs[0]))), False
    return float(LAMBDA_GRID[i]), True


def _peaks(
    y: np.ndarray, g: np.ndarray, step: float, window: tuple[float, float], min_fraction: float
) -> tuple[list[DrtPeak], list[DrtPeak], float]:
    """Significant interior peaks, every interior maximum, and the total polarisation resistance
    ``integral gamma dy``."""
    total = float(np.sum(g) * step)
    found = []
    for k in range(1, g.size - 1):
        if not (g[k] > g[k - 1] and g[k] >= g[k + 1] and g[k] > 0):
            continue
        left = k
        while left > 0 and g[left - 1] <= g[left]:
            left -= 1
        right = k
        while right < g.size - 1 and g[right + 1] <= g[right]:
            right += 1
        area = float(np.sum(g[left : right + 1]) - 0.5 * g[left] * (left > 0) - 0.5 * g[right] * (right < g.size - 1))
        prominence = float((g[k] - max(g[left], g[right])) / g[k])
        # a parabola through log gamma (exact for a Gaussian peak), or through gamma where a neighbour is 0
        h = np.log(g[k - 1 : k + 2]) if np.all(g[k - 1 : k + 2] > 0) else g[k - 1 : k + 2]
        denominator = h[0] - 2.0 * h[1] + h[2]
        shift = 0.5 * (h[0] - h[2]) / denominator if denominator < 0 else 0.0
        found.append((y[k] + float(np.clip(shift, -0.5, 0.5)) * step, area * step, float(g[k]), prominence))
    interior = sum(item[1] for item in found)
    maxima: list[DrtPeak] = []
    for y_peak, area, height, prominence in found:
        fraction = area / interior if interior > 0 else 0.0
        tau = math.exp(y_peak)
        in_window = window[0] / WINDOW_WIDENING <= tau <= window[1] * WINDOW_WIDENING
        maxima.append(DrtPeak(tau, area, fraction, height, bool(in_window), prominence))
    return [p for p in maxima if p.fraction >= min_fraction], maxima, total


def tail_onset_hz(frequency_hz: ArrayLike, z: ArrayLike, ratio: float) -> float | None:
    """Where the low-frequency element (a blocking electrode's CPE) takes over: the highest frequency of the run of
    lowest frequencies where ``-Im Z > ratio (Re Z - min Re Z)``; None when the lowest frequency is not in such a
    run. Below it the DRT places the misfit of that element in peaks that are not arcs."""
    f = np.asarray(frequency_hz, dtype=float)
    zc = np.asarray(z, dtype=complex)
    order = np.argsort(f)
    f, zc = f[order], zc[order]
    dominated = -zc.imag > ratio * (zc.real - float(np.min(zc.real)))
    run = 0
    while run < f.size and dominated[run]:
        run += 1
    return float(f[run - 1]) if run else None


def compute_drt(
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
    *,
    settings: DrtSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> DrtResult:
    """The distribution of relaxation times of a spectrum (see the module docstring).

    :param frequency_hz: frequencies in Hz.
    :param z: complex impedance in ohm (``Im Z < 0`` for arcs) or a ``(z_real_ohm, z_imag_ohm)`` tuple.
    :param settings: a :class:`DrtSettings` or a mapping of its fields; ``overrides`` replace single fields.
    """

    s = DrtSettings.resolve(settings, **overrides)
    f, zd = prepare_spectrum(frequency_hz, z, s.frequency_range_hz, min_points=6)
    order = np.argsort(-f)
    f, zd = f[order], zd[order]
    omega = 2.0 * np.pi * f
    step = math.log(10.0) / s.points_per_decade
    y_lo = -math.log(omega[0]) - s.extend_decades * math.log(10.0)
    y_hi = -math.log(omega[-1]) + s.extend_decades * math.log(10.0)
    m = math.ceil((y_hi - y_lo) / step) + 1
    y = y_lo + step * np.arange(m)
    inductance = zd.imag[0] > 0 if s.inductance is None else s.inductance
    r_s = float(np.min(zd.real))
    capacitance = (-zd.imag[-1] > zd.real[-1] - r_s) if s.capacitance is None else s.capacitance
    columns = [np.ones(f.size, dtype=complex)]
    names = ['r_inf']
    if inductance:
        columns.append(1j * omega)
        names.append('l')
    tail_alpha = None
    if capacitance:
        # the blocking electrode as a CPE, 1/(Q (j omega)^alpha): alpha from the slope of -Im Z over the lowest
        # four frequencies, 1/Q a non-negative unknown like the others
        tail = slice(max(f.size - 4, 0), f.size)
        slope = np.polyfit(np.log(omega[tail]), np.log(np.clip(-zd.imag[tail], 1e-300, None)), 1)[0]
        tail_alpha = float(np.clip(-slope, 0.5, 1.0))
        columns.append((1j * omega) ** (-tail_alpha))
        names.append('inv_q')
    extra = len(columns)
    a = np.concatenate([np.stack(columns, axis=1), _kernel(omega, y, step)], axis=1)
    w = 1.0 / np.abs(zd) if s.weighting == 'modulus' else np.ones(f.size)
    m_mat = np.concatenate([a.real * w[:, None], a.imag * w[:, None]], axis=0)
    b = np.concatenate([zd.real * w, zd.imag * w])
    # column scaling: each column to unit norm, so one lambda grid fits every spectrum
    scale = np.linalg.norm(m_mat, axis=0)
    scale[scale == 0] = 1.0
    m_scaled = m_mat / scale
    pen = _penalty(m, extra, extra + m, s.derivative) / scale[None, :] * scale[extra:].mean()
    flags: list[dict[str, str]] = []
    gcv = None
    if s.lambda_value is None:
        gcv = _gcv(m_scaled, b, pen, s.gcv_rho)
        lam, at_edge = _choose_lambda(gcv)
        rule = 'gcv'
        if at_edge:
            flags.append(
                {
                    'flag': 'lambda_at_grid_edge',
                    'reason': f'the GCV minimum lies at the end of the searched range ({lam:.3g})',
                }
            )
    else:
        lam, rule = float(s.lambda_value), 'given'
    x_scaled, _ = nnls(
        np.concatenate([m_scaled, math.sqrt(lam) * pen], axis=0),
        np.concatenate([b, np.zeros(pen.shape[0])]),
        maxiter=50 * (extra + m),
    )
    x = x_scaled / scale
    g = x[extra:]
    z_fit = a @ x
    window = (1.0 / omega[0], 1.0 / omega[-1])
    peaks, maxima, total = _peaks(y, g, step, window, s.peak_min_fraction)
    values = dict(zip(names, x[:extra]))
    return DrtResult(
        tau_s=np.exp(y),
        gamma_ohm=g,
        r_inf_ohm=float(values['r_inf']),
        inductance_h=float(values['l']) if 'l' in values else None,
        tail_q_s_sa=1.0 / values['inv_q'] if values.get('inv_q', 0) > 0 else None,
        tail_alpha=tail_alpha,
        lambda_value=lam,
        lambda_rule=rule,
        gcv=gcv,
        peaks=peaks,
        maxima=maxima,
        polarisation_resistance_ohm=total,
        frequency_hz=f,
        z=zd,
        z_fit=z_fit,
        parameters=s.parameters(),
        flags=flags,
    )
