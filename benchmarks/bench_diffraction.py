"""Benchmark: peak finding in a 10,000-point powder pattern (bcc a = 7.882 A, 20 reflections, Poisson counts).

Rows, timed in the same run on the same pattern:

* ``scipy.signal.find_peaks`` on the raw counts with a prominence threshold (the baseline everyone uses):
  positions only, on the sampling grid, no background, widths or intensities;
* ours, detection only: SNIP background + Savitzky-Golay + ``find_peaks`` (:func:`snip_background` and the
  thresholds of :func:`analyse_pattern`);
* ours, complete: :func:`aiida_ssb.analysis.diffraction.analyse_pattern` (detection, profile fits of every
  peak group, d-spacings, matching against the bcc reference, lattice refinement, Scherrer sizes).

Accuracy: the largest position error of the 20 reflections and the refined lattice parameter (gate: within
0.002 A of 7.882).

Run: ``.venv/bin/python benchmarks/bench_diffraction.py``
"""

from __future__ import annotations

import math
import statistics
import sys
import time

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from aiida_ssb.analysis.diffraction import analyse_pattern, snip_background
from aiida_ssb.analysis.signal import robust_noise

REPEATS = 11


def pattern(a=7.882, points=10000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(10.0, 80.0, points)
    y = 200 + 0.5 * (x - 10) + 60 * np.exp(-0.5 * ((x - 25) / 8) ** 2)
    truth = []
    for h in range(8):
        for k in range(h + 1):
            for l in range(k + 1):  # noqa: E741
                s = h * h + k * k + l * l
                if s == 0 or (h + k + l) % 2 or s in [q for q, _ in truth]:
                    continue
                ratio = 1.5406 * math.sqrt(s) / (2 * a)
                if ratio < 1 and 10.5 < 2 * math.degrees(math.asin(ratio)) < 79.5:
                    truth.append((s, 2 * math.degrees(math.asin(ratio))))
    for _, centre in truth:
        fwhm = math.hypot(math.degrees(0.9 * 1.5406 / (400.0 * math.cos(math.radians(centre / 2)))), 0.06)
        y = y + rng.uniform(300, 3000) * np.exp(-4 * math.log(2) * ((x - centre) / fwhm) ** 2)
    return x, rng.poisson(y).astype(float), np.array(sorted(c for _, c in truth))


def timed(function, *args, **kwargs):
    function(*args, **kwargs)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times), result


def scipy_only(x, y):
    peaks, _ = find_peaks(y, prominence=0.05 * (y.max() - np.median(y)), distance=5)
    return x[peaks]


def ours_detection(x, y):
    """The detection stage of analyse_pattern with its default thresholds (1 % of the strongest, 5 sigma)."""
    step = float(np.median(np.diff(x)))
    net = y - snip_background(y, round(2.0 / step))
    smoothed = savgol_filter(net, 9, 2)
    threshold = max(0.01 * smoothed.max(), 5.0 * robust_noise(net))
    peaks, _ = find_peaks(smoothed, height=threshold, prominence=threshold, distance=2)
    return x[peaks]


def error(found, truth):
    return max(float(np.min(np.abs(found - c))) for c in truth) if len(found) else math.inf


def main() -> int:
    x, y, truth = pattern()
    print(f'pattern: {x.size:,} points, {truth.size} reflections of bcc a = 7.882 A, Poisson counts')
    ms, found = timed(scipy_only, x, y)
    print(
        f'scipy.signal.find_peaks (raw counts):      {ms:8.2f} ms; {found.size} peaks, worst position error '
        f'{error(found, truth):.4f} deg'
    )
    ms, found = timed(ours_detection, x, y)
    print(
        f'aiida_ssb detection (SNIP + SG + peaks):   {ms:8.2f} ms; {found.size} peaks, worst position error '
        f'{error(found, truth):.4f} deg'
    )
    reference = [{'name': 'bcc', 'crystal_system': 'cubic', 'a_angstrom': 7.85, 'centring': 'I'}]
    ms, result = timed(analyse_pattern, x, y, wavelength=1.5406, references=reference, instrument_fwhm_deg=0.06)
    summary = result.to_dict()
    a = summary.get('lattice_a_angstrom', float('nan'))
    print(
        f'aiida_ssb analyse_pattern (fit + refine):  {ms:8.2f} ms; {summary["n_peaks"]} peaks, worst position '
        f'error {error(result.peaks["two_theta_deg"], truth):.4f} deg, a = {a:.5f} A, '
        f'size {summary.get("crystallite_size_nm", float("nan")):.1f} nm (model 40)'
    )
    ok = abs(a - 7.882) <= 0.002
    print(f'gate (a within 0.002 A): {"passed" if ok else "FAILED"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
