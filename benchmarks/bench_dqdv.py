"""Benchmark: incremental capacity (dQ/dV) over a 1,000,000-row galvanostatic record.

Ours: :func:`aiida_ssb.analysis.dqdv.incremental_capacity` (half-cycle split, voltage-grid binning,
Savitzky-Golay smoothing, peak finding and tracking, dV/dQ). Peers, timed on the same record in the same run:

* navani's ``dqdv_single_cycle`` (per half cycle: spline interpolation, Savitzky-Golay) when navani is
  importable, or through the Python named by ``AIIDA_SSB_PEER_PYTHON`` (navani pins numpy < 2, so it lives in
  a separate environment: ``python -m venv peer && peer/bin/pip install navani``);
* the hand-written baseline everyone starts with: ``np.gradient(Q, V)`` per half cycle after a
  Savitzky-Golay smoothing of V (the noise makes the raw derivative useless, which the accuracy rows show).

Accuracy gate: the main peaks of the first charge within 5 mV of the model's (3.60 and 4.00 V).

Run: ``.venv/bin/python benchmarks/bench_dqdv.py``
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from aiida_ssb.analysis.dqdv import incremental_capacity, peak_positions

REPEATS = 3
ROWS = 1_000_000
PEAKS = [(3.6, 0.02, 0.5), (4.0, 0.03, 0.4)]
GATE_V = 0.005


def record(rows: int = ROWS, cycles: int = 10, noise_v: float = 0.0005, seed: int = 0):
    """Constant-current cycling whose dQ/dV is a known sum of Gaussians, sampled to ``rows`` rows."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(3.0, 4.2, 20001)
    density = 0.02 + sum(a * np.exp(-0.5 * ((grid - c) / s) ** 2) / (s * math.sqrt(2 * math.pi)) for c, s, a in PEAKS)
    charge = np.concatenate(([0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))))
    per_half = rows // (2 * cycles)
    current = 1.0
    duration = charge[-1] / current * 3600.0
    steps = np.linspace(duration / per_half, duration, per_half)
    passed = current * steps / 3600.0
    up = np.interp(passed, charge, grid)
    down = np.interp(charge[-1] - passed, charge, grid)
    t = np.concatenate([k * duration + steps for k in range(2 * cycles)])
    v = np.concatenate([up if k % 2 == 0 else down for k in range(2 * cycles)]) + rng.normal(0, noise_v, t.size)
    i = np.concatenate([np.full(per_half, current if k % 2 == 0 else -current) for k in range(2 * cycles)])
    return t, v, i


def naive(t, v, i):
    """dQ/dV per half cycle as np.gradient of the charge against a smoothed voltage; peaks by find_peaks."""
    edges = np.flatnonzero(np.diff(np.sign(i))) + 1
    found = []
    for a, b in zip(np.r_[0, edges], np.r_[edges, t.size]):
        q = np.cumsum(np.abs(i[a:b]) * np.diff(t[a:b], prepend=t[a])) / 3600.0
        smooth_v = savgol_filter(v[a:b], 101, 2)
        with np.errstate(divide='ignore', invalid='ignore'):
            dqdv = np.gradient(q, smooth_v)
        dqdv = np.nan_to_num(np.abs(dqdv), posinf=0.0)
        peaks, _ = find_peaks(savgol_filter(dqdv, 101, 2), prominence=0.05 * np.percentile(dqdv, 99))
        found.append(sorted(smooth_v[peaks][:4]))
    return found


def timed(function, *args, **kwargs):
    function(*args, **kwargs)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times), result


NAVANI_SCRIPT = r"""
import json, sys, time, statistics
import numpy as np, pandas as pd
import navani.echem as ec
data = np.load(sys.argv[1])
t, v, i = data['t'], data['v'], data['i']
edges = np.flatnonzero(np.diff(np.sign(i))) + 1
halves = list(zip(np.r_[0, edges], np.r_[edges, t.size]))
def run():
    out = []
    for a, b in halves:
        q = np.cumsum(np.abs(i[a:b]) * np.diff(t[a:b], prepend=t[a])) / 3600.0
        frame = pd.DataFrame({'Capacity': q, 'Voltage': v[a:b]})
        voltage, dqdv, capacity = ec.dqdv_single_cycle(frame['Capacity'], frame['Voltage'])
        out.append(float(np.asarray(voltage)[np.argmax(np.abs(np.nan_to_num(np.asarray(dqdv))))]))
    return out
run()
times = []
for _ in range(3):
    start = time.perf_counter(); result = run(); times.append(time.perf_counter() - start)
print(json.dumps({'ms': 1000 * statistics.median(times), 'first_peak_v': result[0], 'version': __import__('navani').__version__ if hasattr(__import__('navani'), '__version__') else '?'}))
"""


def navani_row(t, v, i) -> str:
    python = os.environ.get('AIIDA_SSB_PEER_PYTHON')
    try:
        import navani  # noqa: F401

        python = sys.executable
    except ImportError:
        pass
    if not python:
        return 'navani: not importable here (it pins numpy < 2); set AIIDA_SSB_PEER_PYTHON to a Python that has it'
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / 'record.npz'
        np.savez(path, t=t, v=v, i=i)
        script = pathlib.Path(folder) / 'peer.py'
        script.write_text(NAVANI_SCRIPT)
        done = subprocess.run(
            [python, str(script), str(path)], capture_output=True, text=True, timeout=1800, check=False
        )
    if done.returncode:
        return f'navani: failed ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})'
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return (
        f'navani dqdv_single_cycle (per half cycle, {python}): {found["ms"]:9.1f} ms; '
        f'largest |dQ/dV| of the first half cycle at {found["first_peak_v"]:.4f} V'
    )


def main() -> int:
    t, v, i = record()
    print(f'record: {t.size:,} rows, 20 half cycles, 0.5 mV voltage noise; model peaks 3.600 and 4.000 V')
    ours_ms, result = timed(incremental_capacity, t, v, i)
    ours = peak_positions(result, 'charge')
    print(f'aiida_ssb incremental_capacity (savgol):           {ours_ms:9.1f} ms; first-charge peaks {ours}')
    spline_ms, spline = timed(incremental_capacity, t, v, i, method='spline')
    print(
        f'aiida_ssb incremental_capacity (spline):           {spline_ms:9.1f} ms; '
        f'first-charge peaks {peak_positions(spline, "charge")}'
    )
    naive_ms, found = timed(naive, t, v, i)
    print(
        f'naive np.gradient + savgol + find_peaks:           {naive_ms:9.1f} ms; first-half peaks '
        f'{[round(x, 4) for x in found[0]]}'
    )
    print(navani_row(t, v, i))
    ok = len(ours) == 2 and all(abs(a - b) <= GATE_V for a, b in zip(ours, (3.6, 4.0)))
    print(f'gate (both peaks within {GATE_V * 1000:.0f} mV): {"passed" if ok else "FAILED"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
