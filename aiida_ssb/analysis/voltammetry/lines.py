"""Straight lines over windows of one sweep, in O(1) per window from prefix sums: least-squares lines, their
quality (R2, the F statistic of a quadratic term), the best kink (hinge) in a part of the sweep, and local
(tangent) lines at every point.

Everything works in the *oriented frame* of a sweep: ``x`` grows along the sweep and ``y`` grows with the
reaction (``x = E, y = I`` for an anodic sweep, ``x = -E, y = -I`` for a cathodic one). Potential and current
are scaled to [-1, 1] about the sweep's centre before summing, which keeps the rounding error of the central
moments small for windows of at least 1/500 of the sweep (the fewest points of a line is raised to
``n // 500`` for very long sweeps)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np

from aiida_ssb.analysis.voltammetry.common import clean

__all__ = ['Fitter', 'Line', 'LineFit', 'intersection']


@dataclasses.dataclass(frozen=True)
class LineFit:
    """A straight line ``current_ma = intercept_ma + slope_ma_v * potential_v`` fitted to a window (real frame).

    :param v_min: lower potential bound of the window.
    :param v_max: upper potential bound of the window.
    :param r2: coefficient of determination (absent when the current is constant).
    :param rms_ma: root-mean-square residual.
    :param curvature_f: F statistic of a quadratic term added to the line (1 and n-3 degrees of
        freedom): large when the window is curved.
    :param criterion: how the line meets the thesis' quality rule: ``'r2'`` (``r2 >= r2_min``),
        ``'no_curvature'`` (R2 below the limit, as for a flat noisy background where R2 measures nothing,
        but no significant curvature: ``curvature_f <= curvature_f_max``) or ``'failed'`` (neither).
    """

    v_min: float
    v_max: float
    intercept_ma: float
    slope_ma_v: float
    r2: float | None
    rms_ma: float
    n_points: int
    criterion: str
    curvature_f: float | None = None

    def current_ma(self, potential_v: Any) -> np.ndarray:
        return self.intercept_ma + self.slope_ma_v * np.asarray(potential_v, dtype=float)

    @property
    def ok(self) -> bool:
        return self.criterion != 'failed'

    def to_dict(self, prefix: str) -> dict[str, Any]:
        return clean(
            {
                f'{prefix}_v_min': self.v_min,
                f'{prefix}_v_max': self.v_max,
                f'{prefix}_intercept_ma': self.intercept_ma,
                f'{prefix}_slope_ma_v': self.slope_ma_v,
                f'{prefix}_r2': self.r2,
                f'{prefix}_rms_ma': self.rms_ma,
                f'{prefix}_n_points': self.n_points,
                f'{prefix}_curvature_f': self.curvature_f,
                f'{prefix}_fit_criterion': self.criterion,
            }
        )


@dataclasses.dataclass(frozen=True)
class Line:
    """A line ``y = a + b x`` fitted over rows ``start..end`` (inclusive) of a sweep, in the oriented frame, with
    what its uncertainty needs: the residual variance, the mean abscissa and the spread of the abscissae."""

    start: int
    end: int
    a: float
    b: float
    r2: float | None
    rms: float
    n: int
    x_start: float
    x_end: float
    x_mean: float
    sxx: float
    variance: float
    curvature_f: float | None = None
    criterion: str = 'r2'
    tangent: bool = False  # a local (tangent) line rather than a fit over a straight part

    def y(self, x: Any) -> Any:
        return self.a + self.b * x

    @property
    def span(self) -> float:
        return self.x_end - self.x_start

    @property
    def slope_se(self) -> float:
        return math.sqrt(self.variance / self.sxx) if self.sxx > 0 else 0.0

    def y_variance(self, x: float) -> float:
        """Variance of the line's value at ``x`` (extrapolation included)."""
        if self.sxx <= 0 or self.n <= 0:
            return self.variance
        return self.variance * (1.0 / self.n + (x - self.x_mean) ** 2 / self.sxx)


def intersection(first: Line, second: Line) -> float | None:
    """Abscissa where two lines meet (None when parallel)."""
    denominator = second.b - first.b
    if denominator == 0:
        return None
    return (first.a - second.a) / denominator


class Fitter:
    """Least-squares lines over windows of one sweep from prefix sums (see the module docstring)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, weight: np.ndarray, *, r2_min: float, curvature_f_max: float):
        n = x.size
        valid = weight > 0
        self.x = x
        self.y = y
        self.weight = weight
        self.n = n
        self.u0 = 0.5 * float(x.max() + x.min())
        self.us = 0.5 * float(np.ptp(x)) or 1.0
        self.v0 = 0.5 * float(y[valid].max() + y[valid].min())
        self.vs = 0.5 * float(np.ptp(y[valid])) or 1.0
        u = (x - self.u0) / self.us
        v = (y - self.v0) / self.vs
        w = weight.astype(float)
        wu = w * u
        wuu = wu * u
        columns = np.stack((w, wu, w * v, wuu, wu * v, w * v * v, wuu * u, wuu * u * u, wuu * v))
        self.prefix = np.zeros((columns.shape[0], n + 1))
        np.cumsum(columns, axis=1, out=self.prefix[:, 1:])
        self.u = u
        self.r2_min = r2_min
        self.f_max = curvature_f_max
        self.x_envelope = np.maximum.accumulate(x)
        self._local: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    # ------------------------------------------------------------------------------------------ windows
    def sums(self, starts: Any, ends: Any) -> np.ndarray:
        """The prefix-sum columns over rows ``starts..ends`` (inclusive; broadcast together)."""
        return self.prefix[:, np.asarray(ends) + 1] - self.prefix[:, np.asarray(starts)]

    def lines(self, starts: Any, ends: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Intercept, slope (oriented frame, real units) and point count of many windows at once (NaN where a
        window has fewer than two distinct abscissae)."""
        n, su, sv, suu, suv = self.sums(starts, ends)[:5]
        with np.errstate(divide='ignore', invalid='ignore'):
            mean = su / n
            cuu = suu - su * mean
            slope = (suv - mean * sv) / cuu
            intercept = (sv - slope * su) / n
        slope = np.where(cuu > 0, slope, np.nan)
        b = slope * self.vs / self.us
        a = self.v0 + self.vs * intercept - b * self.u0
        return a, b, n

    def line(self, start: int, end: int, straight: bool = False) -> Line | None:
        """The least-squares line over rows ``start..end`` (None with fewer than 3 points or no spread).

        ``straight``: the window is already known to be straight within its noise (no significant kink: a part
        found by the automatic search), so its criterion is ``'r2'`` or ``'no_curvature'``, never ``'failed'``."""
        n, su, sv, suu, suv, svv, s3, s4, suuv = (float(value) for value in self.sums(start, end))
        if n < 3:
            return None
        mean = su / n
        cuu = suu - su * mean
        if not cuu > 1e-300:
            return None
        cuv = suv - mean * sv
        cvv = svv - sv * sv / n
        slope = cuv / cuu
        rss = max(cvv - slope * cuv, 0.0)
        r2 = 1.0 - rss / cvv if cvv > 0 else None
        curvature = None
        if n >= 4:
            mean2 = mean * mean
            c3 = s3 - 3 * mean * suu + 3 * mean2 * su - n * mean2 * mean
            c4 = s4 - 4 * mean * s3 + 6 * mean2 * suu - 4 * mean2 * mean * su + n * mean2 * mean2
            c2v = suuv - 2 * mean * suv + mean2 * sv
            ratio = c3 / cuu
            qq = c4 - cuu * cuu / n - c3 * ratio
            qv = c2v - (cuu / n) * sv - ratio * cuv
            gain = min(qv * qv / qq, rss) if qq > 0 else 0.0
            residual = rss - gain
            curvature = gain * (n - 3) / residual if residual > 0 else (0.0 if gain <= 0 else math.inf)
        if r2 is not None and r2 >= self.r2_min:
            criterion = 'r2'
        elif straight or (curvature is not None and curvature <= self.f_max):
            criterion = 'no_curvature'
        else:
            criterion = 'failed'
        b = slope * self.vs / self.us
        a = self.v0 + self.vs * (sv - slope * su) / n - b * self.u0
        return Line(
            start=int(start),
            end=int(end),
            a=a,
            b=b,
            r2=r2 if r2 is not None and math.isfinite(r2) else None,
            rms=math.sqrt(rss / n) * self.vs,
            n=round(n),
            x_start=float(self.x[start]),
            x_end=float(self.x[end]),
            x_mean=self.u0 + self.us * mean,
            sxx=cuu * self.us * self.us,
            variance=rss / max(n - 2.0, 1.0) * self.vs * self.vs,
            curvature_f=curvature if curvature is not None and math.isfinite(curvature) else None,
            criterion=criterion,
        )

    def r2(self, start: int, end: int) -> float:
        """R2 of the line over rows ``start..end`` (0 when the current does not vary)."""
        n, su, sv, suu, suv, svv = (self.prefix[:6, end + 1] - self.prefix[:6, start]).tolist()
        cuu, cvv = suu - su * su / n, svv - sv * sv / n
        if cuu <= 0 or cvv <= 0:
            return 0.0
        cuv = suv - su * sv / n
        return float(cuv * cuv / (cuu * cvv))

    def row_at(self, x_value: float, side: Literal['left', 'right'] = 'left') -> int:
        """The first row whose running-maximum abscissa reaches ``x_value`` (``side='right'``: passes it)."""
        return int(np.searchsorted(self.x_envelope, x_value, side=side))

    # ------------------------------------------------------------------------------------------ kinks
    def best_hinge(self, start: int, end: int, min_side: int) -> tuple[int, float, float]:
        """The most significant kink inside rows ``start..end``: a continuous broken line
        ``y = a + b x + g max(0, x - x_k)`` fitted for every candidate row ``k`` with at least ``min_side`` rows
        on each side. Returns ``(k, F, g)``: the row, the F statistic of the kink (1 and n-4 degrees of freedom;
        the residual variance is at least the floor of :meth:`set_floor`) and the change of slope (scaled units;
        > 0 for a convex kink). ``(-1, 0, 0)`` when the window is too short."""
        k, f, g = self.best_hinges(np.array([start]), np.array([end]), min_side)
        return int(k[0]), float(f[0]), float(g[0])

    def best_hinges(
        self, starts: np.ndarray, ends: np.ndarray, min_side: int, refine_above: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`best_hinge` of several windows at once (arrays of rows, statistics and slope changes). At most
        about 128 evenly spaced candidates per window are tried first, then every row around the best of them
        where its statistic is at least ``refine_above`` (the statistic changes little between neighbouring
        candidates, so a window far below a threshold is not refined)."""
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        first, last = starts + min_side, ends - min_side + 1
        rows = np.full(starts.size, -1, dtype=np.int64)
        statistics = np.zeros(starts.size)
        changes = np.zeros(starts.size)
        valid = np.flatnonzero(last > first)
        if valid.size == 0:
            return rows, statistics, changes
        strides = np.maximum(1, (last - first) // 128)
        owner, candidates = _candidates(valid, first[valid], last[valid], strides[valid])
        self._scan(starts, ends, owner, candidates, rows, statistics, changes)
        refine = valid[(strides[valid] > 1) & (rows[valid] >= 0) & (statistics[valid] >= refine_above)]
        if refine.size:
            low = np.maximum(first[refine], rows[refine] - strides[refine])
            high = np.minimum(last[refine], rows[refine] + strides[refine])
            owner, candidates = _candidates(refine, low, high, np.ones(refine.size, dtype=np.int64))
            self._scan(starts, ends, owner, candidates, rows, statistics, changes)
        return rows, statistics, changes

    def _scan(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        owner: np.ndarray,
        candidates: np.ndarray,
        rows: np.ndarray,
        statistics: np.ndarray,
        changes: np.ndarray,
    ) -> None:
        """Evaluate the kink at each candidate row (of window ``owner``) and keep each window's best."""
        prefix = self.prefix
        n, su, sv, suu, suv, svv = prefix[:6, ends + 1] - prefix[:6, starts]
        mean_u, mean_v = su / n, sv / n
        cuu = suu - su * mean_u
        cuv = suv - su * mean_v
        rss = svv - sv * mean_v - cuv * cuv / np.where(cuu > 0, cuu, 1.0)
        dof = np.maximum(n - 4.0, 1.0)
        bad = (cuu <= 0) | (n < 5)
        r1, ru, rv, ruu, ruv = prefix[:5, ends[owner] + 1] - prefix[:5, candidates]
        t = self.u[candidates]
        mean_u, mean_v, cuu, slope, rss, dof = (
            mean_u[owner],
            mean_v[owner],
            cuu[owner],
            (cuv / np.where(cuu > 0, cuu, 1.0))[owner],
            np.maximum(rss, 0.0)[owner],
            dof[owner],
        )
        sh = ru - t * r1
        suh = ruu - t * ru
        cuh = suh - mean_u * sh
        hh = (suh - t * ru + t * t * r1) - sh * sh / n[owner] - cuh * cuh / np.where(cuu > 0, cuu, 1.0)
        hv = (ruv - t * rv) - mean_v * sh - cuh * slope
        good = (hh > 1e-14 * cuu) & ~bad[owner]
        hh = np.where(good, hh, 1.0)
        gain = np.minimum(np.where(good, hv * hv / hh, 0.0), rss)
        statistic = np.where(good, gain / np.maximum((rss - gain) / dof, self._floor), -1.0)
        if owner[0] == owner[-1]:  # one window
            best = np.array([int(np.argmax(statistic))])
        else:  # the best candidate of each window: the last of each window after sorting by statistic
            order = np.lexsort((statistic, owner))
            best = order[np.flatnonzero(np.r_[owner[order][1:] != owner[order][:-1], True])]
        keep = best[(statistic[best] >= 0) & (statistic[best] > statistics[owner[best]])]
        windows = owner[keep]
        rows[windows] = candidates[keep]
        statistics[windows] = statistic[keep]
        changes[windows] = hv[keep] / hh[keep]

    _floor = 0.0

    def set_floor(self, noise_y: float) -> None:
        """The least residual variance (scaled units) the kink test assumes: a quarter of the noise's, and never
        below the rounding of the sums."""
        self._floor = max((0.5 * noise_y / self.vs) ** 2, 1e-13)

    # ------------------------------------------------------------------------------------------ local lines
    def local_lines(self, half: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The least-squares line over rows ``i - half .. i + half`` (clipped at the ends) for every row ``i``:
        slope, mean abscissa and mean ordinate (oriented frame, real units)."""
        if half not in self._local:
            self._local[half] = self._local_lines(half)
        return self._local[half]

    def _local_lines(self, half: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = np.arange(self.n)
        low = np.clip(index - half, 0, self.n - 1)
        high = np.clip(index + half, 0, self.n - 1)
        n, su, sv, suu, suv = self.sums(low, high)[:5]
        with np.errstate(divide='ignore', invalid='ignore'):
            mean_u = su / n
            mean_v = sv / n
            slope = (suv - mean_u * sv) / (suu - su * mean_u)
        slope = slope * self.vs / self.us
        return slope, self.u0 + self.us * mean_u, self.v0 + self.vs * mean_v


def _candidates(
    windows: np.ndarray, low: np.ndarray, high: np.ndarray, strides: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The candidate rows ``low, low + stride, ... <= high`` of each window, and the window each belongs to."""
    if windows.size == 1:
        candidates = np.arange(low[0], high[0] + 1, strides[0])
        return np.full(candidates.size, windows[0]), candidates
    counts = (high - low) // strides + 1
    owner = np.repeat(windows, counts)
    position = np.repeat(np.arange(windows.size), counts)
    offsets = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, low[position] + offsets * strides[position]
