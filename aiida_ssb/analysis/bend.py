"""Is a series of points a straight line? The F-test of a quadratic term added to the (weighted) straight line:
the bend test of the Arrhenius regimes (:mod:`aiida_ssb.analysis.arrhenius`), where a smooth crossover between two
conduction mechanisms is no pair of straight lines.

.. math::

    F = \\frac{\\mathrm{RSS}_\\text{line} - \\mathrm{RSS}_\\text{parabola}}{\\mathrm{RSS}_\\text{parabola} / (n - 3)},
    \\qquad p = P(F_{1,\\,n-3} > F)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import f as f_dist

__all__ = ['curvature_p_value']


def _polynomial_sse(x: np.ndarray, y: np.ndarray, se: np.ndarray | None, degree: int) -> float:
    """Weighted residual sum of squares of a polynomial in ``x`` (centred and scaled, for the conditioning); the
    weights are ``1/se**2`` (1 without errors), as in :func:`aiida_ssb.analysis.arrhenius.linear_fit`."""
    w = np.ones(x.size) if se is None else 1.0 / se**2
    u = (x - x.mean()) / np.ptp(x)
    design = np.vstack([u**k for k in range(degree + 1)]).T
    root = np.sqrt(w)
    coef = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
    return float(np.sum(w * (y - design @ coef) ** 2))


def curvature_p_value(x: ArrayLike, y: ArrayLike, sigma: ArrayLike | None = None) -> float | None:
    """F-test p-value of a quadratic term added to the (weighted) straight line through ``(x, y)``: small when the
    points bend. The scatter comes from the parabola's residuals, so stated errors only weigh the points. None
    with fewer than 4 points (nothing to test); 1 for points exactly on a line."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    se = None if sigma is None else np.asarray(sigma, dtype=float)
    n = x.size
    if n < 4 or np.unique(x).size < 3:
        return None
    line = _polynomial_sse(x, y, se, degree=1)
    w = np.ones(n) if se is None else 1.0 / se**2
    spread = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    if line <= 1e-20 * max(spread, 1e-300):
        return 1.0
    parabola = _polynomial_sse(x, y, se, degree=2)
    if parabola <= 0:
        return 0.0
    statistic = max(line - parabola, 0.0) / (parabola / (n - 3))
    return float(f_dist.sf(statistic, 1, n - 3))
