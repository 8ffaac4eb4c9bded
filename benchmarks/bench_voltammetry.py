"""Benchmark: stability-onset detection (aiida_ssb.analysis.voltammetry).

There is no peer library for onset detection: no maintained package (cellpy, navani, beep, yadg, the EIS
libraries...) finds voltammetric stability onsets (anchors-analysis 5.1). The comparison row is
therefore the naive approach everyone writes by hand, a one-line numpy threshold
(``E[argmax(I > threshold)]``), timed on the same input in the same run.

Prints: median wall and CPU times (11 runs after a warm-up; the CPU time is the fairer number on a shared
machine) on the real cv.mpt (5103 points, 4 sweeps) and lsv.mpt when the shared data are present, and on synthetic
LSVs; then the onset accuracy of the two-line method on the issue-16 family of generated sweeps
(``tests/analysis/voltammetry_family.py``: every feature above the headline significance found, within 0.02 V of
the generating model's two-line intersection or inside its reported band) and on the earlier synthetic cases.

Run: ``.venv/bin/python benchmarks/bench_voltammetry.py``
"""

from __future__ import annotations

import os
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # the test family lives in tests/

from aiida_ssb.analysis import voltammetry as vm

REPEATS = 11
TARGET_MS = 5.0
GATE_V = 0.02


def shared_data() -> pathlib.Path:
    configured = os.environ.get('AIIDA_SSB_SHARED_DATA')
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(__file__).resolve().parent.parent.parent / 'shared' / 'data'


CPU = {}


def timed(function, *args, **kwargs) -> float:
    """Median wall time in ms over REPEATS runs after one warm-up (the median CPU time goes to ``CPU``)."""
    function(*args, **kwargs)
    times, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        function(*args, **kwargs)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    wall = 1000.0 * statistics.median(times)
    CPU[wall] = 1000.0 * statistics.median(cpu)
    return wall


def family():
    """The issue-16 family: per case, the largest distance of a significant feature to the model's intersection,
    whether every significant feature is within the gate or inside its band, and whether an onset is flagged."""
    from aiida_ssb.analysis.voltammetry import OnsetSettings
    from tests.analysis.voltammetry_family import generate

    level = OnsetSettings().headline_significance_sigma
    rows = []
    for case in generate():
        potential, current, _ = case.sweep()
        onsets = vm.find_onsets(potential, current).onsets
        errors, honest, found = [], True, True
        for truth, sigma in zip(case.truth(), case.significance()):
            if sigma < level:
                continue
            near = [o for o in onsets if abs(o.onset_v - truth) <= 0.3]
            if not near:
                found = False
                continue
            best = min(near, key=lambda o: abs(o.onset_v - truth))
            errors.append(abs(best.onset_v - truth))
            honest &= errors[-1] <= GATE_V or best.band_low_v <= truth <= best.band_high_v
        flagged = any(o.quality != 'ok' for o in onsets)
        rows.append((case.name, max(errors) if errors else float('nan'), found and honest, flagged, potential.size))
    return rows


def naive_threshold(potential, current, threshold_ma):
    """The hand-written approach: first potential where the current exceeds the threshold."""
    above = current > threshold_ma
    return float(potential[np.argmax(above)]) if above.any() else None


def softplus_sweep(e_start, e_end, rises, *, n=2001, background=(5e-5, 2e-5, 5e-6), noise_ma=3e-6, seed=0):
    """Synthetic LSV (mA): capacitive background with small curvature plus rises
    k * w * log(1 + exp((E - E0)/w)) whose asymptotes meet exactly at E0."""
    rng = np.random.default_rng(seed)
    potential = np.linspace(e_start, e_end, n)
    sign = 1.0 if e_end > e_start else -1.0
    distance = sign * (potential - e_start)
    i0, b1, c2 = background
    current = sign * (i0 + b1 * distance + c2 * distance**2)
    for e0, slope, width in rises:
        z = sign * (potential - e0)
        rise = slope * width * np.logaddexp(0.0, z / width) if width > 0 else slope * np.maximum(z, 0)
        current = current + sign * rise
    return potential, current + rng.normal(0.0, noise_ma, n)


ACCURACY_CASES = {
    'LiBH4-like, 2.04 V': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(2.04, 2e-3, 0.02)]},
    'linear rise, 2.50 V': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(2.5, 1e-3, 0.0)]},
    'weak 2.93 V + strong 4.07 V': {'e_start': 2.5, 'e_end': 4.5, 'rises': [(2.93, 5e-4, 0.015), (4.07, 8e-3, 0.02)]},
    'same, noisier': {
        'e_start': 2.5,
        'e_end': 4.5,
        'rises': [(2.93, 5e-4, 0.015), (4.07, 8e-3, 0.02)],
        'noise_ma': 2e-5,
    },
    'Na3(BH4)(B12H12) 1.90/2.41 V': {'e_start': 1.5, 'e_end': 3.0, 'rises': [(1.90, 1e-3, 0.015), (2.41, 6e-3, 0.015)]},
    'cathodic, 0.80 V': {'e_start': 3.0, 'e_end': 0.0, 'rises': [(0.8, 3e-3, 0.02)]},
    'SNR ~ 20, 3.10 V': {'e_start': 1.5, 'e_end': 4.0, 'rises': [(3.1, 1e-3, 0.03)], 'noise_ma': 5e-5},
}


def accuracy(seeds=range(10)):
    rows = []
    for name, case in ACCURACY_CASES.items():
        expected = [rise[0] for rise in case['rises']]
        errors, missed = [], 0
        for seed in seeds:
            potential, current = softplus_sweep(**case, seed=seed)
            found = [onset.onset_v for onset in vm.find_onsets(potential, current).onsets]
            if len(found) != len(expected):
                missed += 1
                continue
            errors.extend(abs(a - b) for a, b in zip(found, expected))
        rows.append((name, max(errors) if errors else float('nan'), missed, len(seeds)))
    return rows


def robustness(n_cases=400, seed=123):
    """Random single-onset sweeps: onset 2.2-3.3 V (or its mirror, cathodic, 30 %), rise slope
    10^-3.5..10^-1.5 mA/V, knee width 0-0.04 V, background slope -2e-5..8e-5 mA/V and curvature
    0..2e-5 mA/V2, signal-to-noise 10..3000. Returns (within 0.02 V, truth inside the band, no onset, off by
    more); onsets below the headline significance (10 sigma) are not counted."""
    rng = np.random.default_rng(seed)
    within = banded = missed = off = 0
    for case in range(n_cases):
        e0 = rng.uniform(2.2, 3.3)
        slope = 10 ** rng.uniform(-3.5, -1.5)
        width = rng.choice([0.0, 0.01, 0.02, 0.04])
        background = (3e-5, rng.uniform(-2e-5, 8e-5), rng.uniform(0.0, 2e-5))
        noise = slope * (4.0 - e0) / 10 ** rng.uniform(1, 3.5)
        if rng.random() < 0.3:
            truth = 5.0 - e0
            potential, current = softplus_sweep(
                4.0, 1.0, [(truth, slope, width)], background=background, noise_ma=noise, seed=case
            )
        else:
            truth = e0
            potential, current = softplus_sweep(
                1.8, 4.0, [(e0, slope, width)], background=background, noise_ma=noise, seed=case
            )
        onsets = [o for o in vm.find_onsets(potential, current).onsets if o.significance_sigma >= 10]
        if not onsets:
            missed += 1
        elif len(onsets) == 1 and abs(onsets[0].onset_v - truth) <= GATE_V:
            within += 1
        elif len(onsets) == 1 and onsets[0].band_low_v <= truth <= onsets[0].band_high_v:
            banded += 1
        else:
            off += 1
    return within, banded, missed, off


def main() -> None:
    print('aiida_ssb.analysis.voltammetry benchmark')
    print(
        'peer library: none exists for stability-onset detection (anchors-analysis 5.1); '
        'the comparison is the naive numpy threshold E[argmax(I > 1 uA)] on the same input.'
    )
    print()
    rows = []
    folder = shared_data() / 'biologic'
    for name in ('cv.mpt', 'lsv.mpt'):
        path = folder / name
        if not path.is_file():
            print(f'{name}: not available ({path}); skipped')
            continue
        from aiida_ssb.parsers import read

        columns = read(path).columns
        potential, current = columns['voltage_v'], columns['current_ma']
        kwargs = {'time_s': columns.get('time_s'), 'cycle_index': columns.get('cycle_index')}
        threshold = 1e-3 if name == 'cv.mpt' else 1.0
        result = vm.find_onsets(potential, current, **kwargs)
        first = result.onsets[0].onset_v if result.onsets else None
        rows.append(
            (
                f'{name} two-line, whole record ({potential.size} pts, {len(result.sweeps)} sweeps)',
                timed(vm.find_onsets, potential, current, **kwargs),
                first,
            )
        )
        rows.append(
            (
                f'{name} threshold method, whole record',
                timed(vm.find_onsets, potential, current, method='threshold', threshold_ma=threshold, **kwargs),
                None,
            )
        )
        rows.append((f'{name} naive numpy threshold', timed(naive_threshold, potential, current, threshold), None))
        for sweep in vm.segment_sweeps(potential)[:4]:
            part = sweep.slice
            rows.append(
                (
                    f'{name} two-line, sweep {sweep.sweep_index} ({sweep.direction}, {sweep.n_points} pts)',
                    timed(vm.find_onsets, potential[part], current[part]),
                    None,
                )
            )
    for n in (1000, 2001, 5000):
        potential, current = softplus_sweep(1.5, 4.0, [(2.04, 2e-3, 0.02)], n=n)
        rows.append(
            (
                f'synthetic LSV two-line ({n} pts)',
                timed(vm.find_onsets, potential, current),
                vm.find_onsets(potential, current).oxidative_onset_v,
            )
        )
        naive_ms = timed(naive_threshold, potential, current, 1e-3)
        rows.append((f'synthetic LSV naive threshold ({n} pts)', naive_ms, None))
    potential, current = softplus_sweep(2.5, 4.5, [(2.93, 5e-4, 0.015), (4.07, 8e-3, 0.02)])
    rows.append(('synthetic LSV, two onsets (2001 pts)', timed(vm.find_onsets, potential, current), None))

    width = max(len(row[0]) for row in rows) + 2
    print(f'{"case":<{width}}{"median ms":>10}{"CPU ms":>9}  {"first onset V":>14}')
    for label, ms, onset in rows:
        single = 'naive' not in label and 'whole record' not in label
        cpu = CPU.get(ms, float('nan'))
        mark = f'  (> {TARGET_MS:g} ms target)' if single and cpu > TARGET_MS else ''
        onset_text = f'{onset:.4f}' if onset is not None else ''
        print(f'{label:<{width}}{ms:>10.3f}{cpu:>9.3f}  {onset_text:>14}{mark}')
    print()
    print(f'onset accuracy, two-line method (10 seeds each; gate: every onset within {GATE_V} V):')
    worst = 0.0
    all_found = True
    for name, error, missed, total in accuracy():
        worst = max(worst, error)
        all_found &= missed == 0
        print(f'  {name:<32} max |error| {error * 1000:6.1f} mV   missed {missed}/{total}')
    verdict = 'PASS' if worst <= GATE_V and all_found else 'FAIL'
    print(f'accuracy gate: {verdict} (worst {worst * 1000:.1f} mV)')
    within, banded, missed, off = robustness()
    print(
        f'robustness (informational): 400 random single-onset sweeps on curved backgrounds: {within} within '
        f'{GATE_V} V, {banded} more with the truth inside the reported band, {missed} without onset, {off} off by '
        'more (or with an extra significant onset)'
    )
    print()
    print('issue-16 family (every feature above the headline significance found, within 0.02 V or inside its band):')
    rows = family()
    for name, error, ok, flagged, _n in rows:
        print(
            f'  {name:<66} max |error| {error * 1000:6.1f} mV  {"ok  " if ok else "FAIL"}{"  flagged" if flagged else ""}'
        )
    errors = [row[1] for row in rows]
    passed = sum(row[2] for row in rows)
    print(
        f'family: {passed}/{len(rows)} cases pass; |error| median {statistics.median(errors) * 1000:.1f} mV, '
        f'max {max(errors) * 1000:.1f} mV; {sum(row[3] for row in rows)} cases carry a quality flag'
    )


if __name__ == '__main__':
    main()
