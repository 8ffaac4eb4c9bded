"""Linear Kramers-Kronig test (Boukamp 1995; Schönleber et al. 2014, the mu criterion).

The spectrum is fitted, by *linear* least squares on the complex data with modulus weighting, to a
chain of ``M`` Voigt elements with fixed time constants plus a series resistance (and optionally a
series inductance and a series capacitance)::

    Z(w) = R_s + sum_k R_k / (1 + j w tau_k) [+ j w L] [+ 1 / (j w C)]

with ``tau_k`` log-spaced from ``1/w_max`` to ``1/w_min`` (a single element sits at their geometric
mean). Every such model satisfies the Kramers-Kronig relations, so data it cannot reproduce violate
them (drift, non-linearity, instrument artefacts). ``M`` grows from 1 until Schönleber's

    mu = 1 - sum_{R_k < 0} |R_k| / sum_{R_k >= 0} R_k

drops below ``c`` (default 0.85): negative resistances mean the chain has begun to fit noise.

The series capacitance is what a blocking-electrode pellet needs: its capacitive low-frequency
spike has time constants far beyond ``1/w_min``, which no Voigt element in the grid can represent.
``capacitance='auto'`` adds it when the lowest-frequency point is more capacitive than 45 degrees
(``-Im Z > Re Z - R_s`` estimate, i.e. phase below -45 deg); ``inductance='auto'`` adds ``L`` when
``Im Z > 0`` at the highest frequency. Both can be forced with ``True``/``False``.

Verdict (:attr:`KKResult.valid`) -- all three must hold:

1. ``rms`` of the relative residuals ``(Z - Z_KK)/|Z|`` (real and imaginary together)
   ``<= rms_threshold`` (default 1 %);
2. ``max |residual| <= max_threshold`` (default 5 %);
3. no systematic trend: the residuals, smoothed with a running mean over 5 neighbouring frequencies,
   stay within ``trend_threshold`` (default 0.5 %) everywhere. Random noise averages out in the
   running mean (0.5 % noise gives about 0.2 %); drift during the sweep gives a smooth residual
   curve that does not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from aiida_ssb.analysis.eis.fit import prepare_spectrum

__all__ = ['KKResult', 'lin_kk']


@dataclasses.dataclass
class KKResult:
    """Outcome of :func:`lin_kk`."""

    valid: bool
    mu: float
    m: int
    mu_criterion_met: bool
    c: float
    series_resistance_ohm: float
    series_inductance_h: float | None
    series_capacitance_f: float | None
    capacitance_used: bool
    inductance_used: bool
    rms_residual_rel: float
    max_abs_residual_rel: float
    max_trend_rel: float
    trend_z: float
    rms_threshold: float
    max_threshold: float
    trend_threshold: float
    trend_z_threshold: float
    min_per_decade: float
    extend_decades: float
    reasons: tuple[str, ...]
    frequency_hz: np.ndarray
    z_kk: np.ndarray
    residual_real_rel: np.ndarray
    residual_imag_rel: np.ndarray
    tau_s: np.ndarray
    resistance_ohm: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-serialisable summary."""
        return {
            'method': 'linear_kramers_kronig',
            'valid': bool(self.valid),
            'mu': float(self.mu),
            'mu_threshold_c': float(self.c),
            'mu_criterion_met': bool(self.mu_criterion_met),
            'n_voigt_elements': int(self.m),
            'n_points': int(self.frequency_hz.size),
            'series_resistance_ohm': float(self.series_resistance_ohm),
            'series_inductance_h': self.series_inductance_h,
            'series_capacitance_f': self.series_capacitance_f,
            'capacitance_used': bool(self.capacitance_used),
            'inductance_used': bool(self.inductance_used),
            'rms_residual_rel': float(self.rms_residual_rel),
            'max_abs_residual_rel': float(self.max_abs_residual_rel),
            'max_trend_rel': float(self.max_trend_rel),
            'rms_threshold_rel': float(self.rms_threshold),
            'max_threshold_rel': float(self.max_threshold),
            'trend_threshold_rel': float(self.trend_threshold),
            'trend_z': _finite(self.trend_z),
            'trend_z_threshold': float(self.trend_z_threshold),
            'min_elements_per_decade': float(self.min_per_decade),
            'tau_extension_decades': float(self.extend_decades),
            'reasons': '; '.join(self.reasons),
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            'frequency_hz': self.frequency_hz.copy(),
            'z_kk_real_ohm': self.z_kk.real.copy(),
            'z_kk_imag_ohm': self.z_kk.imag.copy(),
            'residual_real_rel': self.residual_real_rel.copy(),
            'residual_imag_rel': self.residual_imag_rel.copy(),
        }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _running_mean(x: np.ndarray, width: int) -> np.ndarray:
    if x.size < width:
        return np.full(1, x.mean())
    kernel = np.ones(width) / width
    return np.convolve(x, kernel, mode='valid')


def lin_kk(
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
    *,
    c: float = 0.85,
    max_m: int | None = None,
    capacitance: bool | str = 'auto',
    inductance: bool | str = 'auto',
    rms_threshold: float = 0.01,
    max_threshold: float = 0.05,
    trend_threshold: float = 0.005,
    trend_window: int = 5,
    trend_z_threshold: float = 4.0,
    min_per_decade: float = 2.0,
    extend_decades: float = 0.0,
    frequency_range_hz: tuple[float | None, float | None] | None = None,
) -> KKResult:
    """Linear Kramers-Kronig test of a spectrum (see the module docstring for the rule).

    :param frequency_hz: frequencies (Hz), any order.
    :param z: complex impedance (ohm), or a ``(z_real_ohm, z_imag_ohm)`` tuple.
    :param c: mu threshold (Schönleber: 0.85).
    :param max_m: largest number of Voigt elements tried (default ``min(50, n_points)``).
    :param capacitance: add a series capacitance (``'auto'``, ``True``, ``False``).
    :param inductance: add a series inductance (``'auto'``, ``True``, ``False``).
    :param rms_threshold: largest accepted rms relative residual.
    :param max_threshold: largest accepted single relative residual.
    :param trend_threshold: largest accepted running-mean relative residual.
    :param trend_window: width (points) of that running mean.
    """
    if not 0.0 < c < 1.0:
        raise ValueError(f'c must lie in (0, 1), got {c}')
    f, zc = prepare_spectrum(frequency_hz, z, frequency_range_hz, min_points=4)
    order = np.argsort(-f)
    f, zc = f[order], zc[order]
    n = f.size
    omega = 2.0 * np.pi * f
    mod = np.abs(zc)
    if max_m is None:
        max_m = min(50, n)
    max_m = int(max_m)
    if max_m < 1:
        raise ValueError(f'max_m must be >= 1, got {max_m}')

    if capacitance == 'auto':
        use_c = bool(-zc.imag[-1] > abs(zc.real[-1] - zc.real[0]))
    else:
        use_c = bool(capacitance)
    if inductance == 'auto':
        use_l = bool(zc.imag[0] > 0)
    else:
        use_l = bool(inductance)

    # fixed columns: R_s, [L], [1/C]; weighted by 1/|Z|
    w = 1.0 / mod
    fixed_re = [w]
    fixed_im = [np.zeros(n)]
    if use_l:
        fixed_re.append(np.zeros(n))
        fixed_im.append(omega * w)
    if use_c:
        fixed_re.append(np.zeros(n))
        fixed_im.append(-w / omega)
    n_fixed = len(fixed_re)
    b = np.concatenate([zc.real * w, zc.imag * w])

    log_tmin = np.log10(1.0 / omega[0]) - extend_decades
    log_tmax = np.log10(1.0 / omega[-1]) + extend_decades
    decades = float(log_tmax - log_tmin)
    m_start = min(max_m, max(1, int(np.ceil(min_per_decade * decades))))
    best, met = _voigt_search(omega, w, fixed_re, fixed_im, b, range(m_start, max_m + 1), (log_tmin, log_tmax), c)
    if best is None:
        raise ValueError(f'too few points ({n}) for a linear Kramers-Kronig test')
    m, mu, sol, tau = best

    r_s = float(sol[0])
    k = 1
    l_h = c_f = None
    z_fit = np.full(n, complex(r_s))
    if use_l:
        l_h = float(sol[k])
        z_fit = z_fit + 1j * omega * l_h
        k += 1
    if use_c:
        inv_c = float(sol[k])
        c_f = float(1.0 / inv_c) if inv_c != 0 else None
        z_fit = z_fit - 1j * inv_c / omega
        k += 1
    r_k = sol[n_fixed:]
    z_fit = z_fit + (r_k[None, :] / (1.0 + 1j * omega[:, None] * tau[None, :])).sum(axis=1)

    res_re = (zc.real - z_fit.real) / mod
    res_im = (zc.imag - z_fit.imag) / mod
    both = np.concatenate([res_re, res_im])
    rms = float(np.sqrt(np.mean(both**2)))
    max_abs = float(np.max(np.abs(both)))
    width = max(2, min(int(trend_window), n))
    trend, trend_z = _trend(res_re, res_im, width)
    reasons = []
    if rms > rms_threshold:
        reasons.append(f'rms residual {rms:.3%} > {rms_threshold:.3%}')
    if max_abs > max_threshold:
        reasons.append(f'max residual {max_abs:.3%} > {max_threshold:.3%}')
    if trend > trend_threshold and trend_z > trend_z_threshold:
        reasons.append(
            f'systematic residual trend: running mean over {width} points reaches {trend:.3%} '
            f'(> {trend_threshold:.3%}), {trend_z:.1f} x its noise level (> {trend_z_threshold})'
        )
    if not met:
        reasons.append(f'mu stayed >= c={c} up to M={m}; the result uses M={m}')
    valid = not any(r for r in reasons if not r.startswith('mu stayed'))
    return KKResult(
        valid=valid,
        mu=float(mu),
        m=int(m),
        mu_criterion_met=met,
        c=float(c),
        series_resistance_ohm=r_s,
        series_inductance_h=l_h,
        series_capacitance_f=c_f,
        capacitance_used=use_c,
        inductance_used=use_l,
        rms_residual_rel=rms,
        max_abs_residual_rel=max_abs,
        max_trend_rel=trend,
        trend_z=float(trend_z),
        trend_z_threshold=float(trend_z_threshold),
        min_per_decade=float(min_per_decade),
        extend_decades=float(extend_decades),
        rms_threshold=float(rms_threshold),
        max_threshold=float(max_threshold),
        trend_threshold=float(trend_threshold),
        reasons=tuple(reasons),
        frequency_hz=f,
        z_kk=z_fit,
        residual_real_rel=res_re,
        residual_imag_rel=res_im,
        tau_s=tau,
        resistance_ohm=r_k.copy(),
    )


def _voigt_search(
    omega: np.ndarray,
    w: np.ndarray,
    fixed_re: list[np.ndarray],
    fixed_im: list[np.ndarray],
    b: np.ndarray,
    sizes: range,
    log_tau_range: tuple[float, float],
    c: float,
) -> tuple[tuple[int, float, np.ndarray, np.ndarray] | None, bool]:
    """The linear fits with ``M`` Voigt elements for each ``M`` of ``sizes`` until mu < ``c``: the last fit
    ``(M, mu, solution, tau)`` (None when not one fits) and whether mu < ``c`` was reached."""
    n, n_fixed = omega.size, len(fixed_re)
    log_tmin, log_tmax = log_tau_range
    best = None
    for m in sizes:
        if 2 * n < m + n_fixed:
            break
        tau = np.array([10 ** (0.5 * (log_tmin + log_tmax))]) if m == 1 else np.logspace(log_tmin, log_tmax, m)
        wt = omega[:, None] * tau[None, :]
        den = 1.0 + wt * wt
        a = np.empty((2 * n, n_fixed + m))
        for k in range(n_fixed):
            a[:n, k] = fixed_re[k]
            a[n:, k] = fixed_im[k]
        a[:n, n_fixed:] = (1.0 / den) * w[:, None]
        a[n:, n_fixed:] = (-wt / den) * w[:, None]
        # column scaling keeps lstsq well conditioned whatever the units
        norms = np.linalg.norm(a, axis=0)
        norms[norms == 0] = 1.0
        sol = np.linalg.lstsq(a / norms, b, rcond=None)[0] / norms
        r = sol[n_fixed:]
        pos = r[r >= 0].sum()
        neg = -r[r < 0].sum()
        mu = 1.0 - neg / pos if pos > 0 else 0.0
        best = (m, float(mu), sol, tau)
        if mu < c:
            return best, True
    return best, False


def _trend(res_re: np.ndarray, res_im: np.ndarray, width: int) -> tuple[float, float]:
    """The largest running mean (over ``width`` points) of the relative residuals, and its size in units of the
    noise of such a mean."""
    trend = 0.0
    trend_z = 0.0
    for res in (res_re, res_im):
        smooth = _running_mean(res, width)
        noise = float(np.std(np.diff(res)) / np.sqrt(2.0))
        peak = float(np.max(np.abs(smooth)))
        trend = max(trend, peak)
        if noise > 0:
            trend_z = max(trend_z, peak / (noise / np.sqrt(width)))
        elif peak > 0:
            trend_z = np.inf
    return trend, trend_z
