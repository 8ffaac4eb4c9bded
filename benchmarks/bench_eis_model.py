"""Benchmark of the automatic impedance path: model choice, DRT, and a batch of known-answer spectra.

Run: ``.venv/bin/python benchmarks/bench_eis_model.py [--quick] [--n N]``

* Model choice for one 70-point spectrum (a blocking pellet with bulk and grain-boundary arcs at 25 C, 0.5 %
  noise): :func:`~aiida_ssb.analysis.eis.model.fit_spectrum` over the 13-circuit pellet family, against the single
  fit of the generating circuit (:func:`~aiida_ssb.analysis.eis.fit_circuit`); median of the runs after a warm-up.
* DRT of the same spectrum (:func:`~aiida_ssb.analysis.eis.drt.compute_drt`, lambda by GCV) against the single fit
  and against pyDRTtools' ``simple_run`` (ridge regression on Gaussian RBFs, cvxopt, GCV) when it is installed
  (``pip install pydrttools cvxopt scikit-learn``; it cannot be imported headless, so its ``runs`` module is
  loaded without the package's GUI ``__init__``), with the peaks each finds.
* A batch of known-answer spectra with model choice (default 1,000): pellets with 1, 2 or 3 arcs at random
  temperatures between -20 and 100 C (the bulk arc leaves the window when hot), full cells before and after
  cycling, noise 0.2-1 %. Reported: how often the generating circuit (or what the window shows of it) is chosen,
  with the DRT weighed in and by the criterion alone on the same spectra, the spectra whose choice the DRT changed
  (right and wrong) or flagged, the errors of R_bulk and sigma where the bulk arc's apex is inside the window, the
  time per spectrum.

BLAS threads are limited to one (``OPENBLAS_NUM_THREADS=1``) unless set: the matrices are small and threads only
contend on the shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import types

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np

from aiida_ssb.analysis.conductivity import conductivity_of_spectrum
from aiida_ssb.analysis.eis import fit_circuit
from aiida_ssb.analysis.eis.drt import compute_drt
from aiida_ssb.analysis.eis.model import fit_spectrum
from aiida_ssb.analysis.eis.synthetic import full_cell_series, pellet_series, visible_circuit


def median_time(fn, runs: int):
    out = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def pydrttools_runs():
    """pyDRTtools' ``runs`` module, or None (its package ``__init__`` imports the Qt GUI)."""
    spec = importlib.util.find_spec('pyDRTtools')
    if spec is None or not spec.submodule_search_locations:
        return None
    package = types.ModuleType('pyDRTtools')
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules['pyDRTtools'] = package
    try:
        import matplotlib

        matplotlib.use('Agg')
        from cvxopt import solvers

        solvers.options['show_progress'] = False
        import io
        from contextlib import redirect_stdout

        with redirect_stdout(io.StringIO()):  # it prints sys.path and cvxopt iterations
            from pyDRTtools import runs
    except Exception as exc:  # missing cvxopt, scikit-learn...: reported, not fatal
        print(f'pyDRTtools not usable: {type(exc).__name__}: {exc}')
        return None
    return runs


def one_spectrum(runs: int) -> None:
    (s,) = pellet_series(2, [25.0], noise=0.005, seed=7)  # 70 points, 10 MHz to 0.1 Hz
    geometry = {'cell_format': 'blocking_pellet', 'thickness_cm': s.thickness_cm, 'area_cm2': s.area_cm2}
    t_single, single = median_time(lambda: fit_circuit(s.circuit, s.frequency_hz, s.z), runs)
    t_choice, choice = median_time(lambda: fit_spectrum(s.frequency_hz, s.z, **geometry), runs)
    t_nodrt, _ = median_time(lambda: fit_spectrum(s.frequency_hz, s.z, drt_evidence=False, **geometry), runs)
    print('\nOne 70-point spectrum (pellet: bulk + grain boundary + electrode, 25 C, 0.5 % noise)')
    print(f'  single fit of the generating circuit  {1e3 * t_single:8.1f} ms  R1 = {single.values["R1"]:.1f} ohm')
    print(
        f'  model choice over {len(choice.candidates)} candidates  {1e3 * t_choice:8.1f} ms  '
        f'({t_choice / t_single:.0f}x the single fit; {1e3 * t_nodrt:.1f} ms without the DRT evidence): '
        f'{choice.fit.circuit}, R1 = {choice.fit.values["R1"]:.1f} ohm (truth {s.values["R1"]:.1f})'
    )
    runs_module = pydrttools_runs()
    f = np.logspace(6, -1, 70)
    w = 2j * np.pi * f
    two_zarc = 10 + 500 / (1 + (w * 1e-5) ** 0.95) + 1500 / (1 + (w * 1e-2) ** 0.95)
    rng = np.random.default_rng(0)
    two_zarc = two_zarc * (1 + 0.005 * (rng.standard_normal(70) + 1j * rng.standard_normal(70)) / np.sqrt(2))
    cases = (
        (
            'the pellet above (blocking electrode)',
            s.frequency_hz,
            s.z,
            [1 / (2 * np.pi * s.apex_hz(r)) for r in ('R1', 'R2')],
        ),
        ('two ZARCs, 1e-5 s and 1e-2 s, alpha 0.95', f, two_zarc, [1e-5, 1e-2]),
    )
    for name, freq, z, truth in cases:
        t_drt, drt = median_time(lambda freq=freq, z=z: compute_drt(freq, z), runs)
        taus = ', '.join(f'{p.tau_s:.3g} s ({p.resistance_ohm:.0f} ohm)' for p in drt.peaks)
        print(f'  DRT of {name}; true time constants ' + ', '.join(f'{t:.3g} s' for t in truth))
        print(f'    ours (lambda {drt.lambda_value:.2g} by modified GCV)  {1e3 * t_drt:8.1f} ms  peaks: {taus}')
        if runs_module is None:
            print('    pyDRTtools simple_run: not installed')
            continue
        import io
        from contextlib import redirect_stdout

        def reference(freq=freq, z=z):
            entry = runs_module.EIS_object(freq, z.real, z.imag)
            with redirect_stdout(io.StringIO()):
                return runs_module.simple_run(entry, rbf_type='Gaussian', cv_type='GCV', der_used='2nd order')

        t_ref, entry = median_time(reference, max(3, runs // 2))
        tau, gamma = np.asarray(entry.out_tau_vec), np.asarray(entry.gamma)
        inner = np.flatnonzero((gamma[1:-1] > gamma[:-2]) & (gamma[1:-1] >= gamma[2:])) + 1
        big = inner[gamma[inner] > 0.05 * gamma.max()]
        print(
            f'    pyDRTtools simple_run (GCV)       {1e3 * t_ref:8.1f} ms  peaks: '
            + ', '.join(f'{tau[i]:.3g} s' for i in big)
            + f'  ({t_ref / t_drt:.1f}x our time)'
        )


def family(n: int, seed: int = 0) -> list:
    """``n`` known-answer spectra: pellets with 1-3 arcs at random temperatures, full cells before/after cycling."""
    rng = np.random.default_rng(seed)
    spectra = []
    while len(spectra) < n:
        noise = float(rng.uniform(0.002, 0.01))
        if rng.uniform() < 0.8:
            n_arcs = int(rng.integers(1, 4))
            spectra += pellet_series(
                n_arcs,
                [float(rng.uniform(-20.0, 100.0))],
                noise=noise,
                seed=int(rng.integers(1 << 30)),
                sigma_25c_s_cm=float(10 ** rng.uniform(-5, -3)),
            )
        else:
            spectra += full_cell_series([int(rng.integers(0, 10))], noise=noise, seed=int(rng.integers(1 << 30)))
    return spectra[:n]


def _bulk_error(result, s) -> float:
    bulk = [e for e, r in result.roles.roles.items() if r == 'bulk' and e.startswith('R')]
    fitted = sum(result.fit.values[e] for e in bulk) if bulk else np.nan
    return abs(fitted / s.values['R1'] - 1)


def batch(n: int, criterion: str = 'bic') -> None:
    """The batch with the DRT weighed in (``drt_decides``, the default) and, on the same spectra, the criterion's
    choice alone (before the DRT: ``drt_comparison['criterion_choice']``; where the DRT changed the choice the
    spectrum is fitted again with ``drt_decides=False`` for the bulk resistance of that choice)."""
    spectra = family(n)
    right = right_before = in_window = 0
    r_errors, r_errors_before, s_errors, wrong, changed = [], [], [], [], []
    decisions: dict[str, int] = {}
    flagged = {'right': 0, 'wrong': 0}
    t0 = time.perf_counter()
    for s in spectra:
        pellet = s.thickness_cm is not None
        geometry = {
            'cell_format': 'blocking_pellet' if pellet else 'full',
            'thickness_cm': s.thickness_cm,
            'area_cm2': s.area_cm2,
            'criterion': criterion,
        }
        result = fit_spectrum(s.frequency_hz, s.z, **geometry)
        truth = (s.circuit, visible_circuit(s))
        comparison = result.drt_comparison or {}
        decision = comparison.get('decision', 'no DRT')
        decisions[decision] = decisions.get(decision, 0) + 1
        before = comparison.get('criterion_choice', result.fit.circuit)
        is_right = result.fit.circuit in truth
        right += is_right
        right_before += before in truth
        if decision == 'disagrees':
            flagged['right' if is_right else 'wrong'] += 1
        if not is_right:
            wrong.append((s.circuit, s.temperature_c, result.fit.circuit))
        old = None
        if decision == 'changed':
            old = fit_spectrum(s.frequency_hz, s.z, drt_decides=False, **geometry)
            changed.append((s.circuit, s.temperature_c, before, result.fit.circuit, is_right, comparison))
        if pellet and s.in_window('R1'):
            in_window += 1
            r_errors.append(_bulk_error(result, s))
            r_errors_before.append(_bulk_error(old or result, s))
            sigma = conductivity_of_spectrum(
                s.frequency_hz, s.z, fit=result.to_dict(), thickness_cm=s.thickness_cm, area_cm2=s.area_cm2
            ).conductivity_s_cm
            s_errors.append(abs(sigma / s.conductivity_s_cm - 1))
    dt = time.perf_counter() - t0
    r_errors, r_errors_before, s_errors = np.array(r_errors), np.array(r_errors_before), np.array(s_errors)
    print(
        f'\nBatch of {n} known-answer spectra with model choice ({criterion.upper()}): {dt:.0f} s, '
        f'{1e3 * dt / n:.0f} ms per spectrum'
    )
    print(
        f'  generating circuit (or what the window shows of it) chosen: {right}/{n} = {100 * right / n:.1f} % '
        f'(the criterion alone, before the DRT decides: {right_before}/{n} = {100 * right_before / n:.1f} %)'
    )
    print('  DRT against the criterion: ' + ', '.join(f'{k} {v}' for k, v in sorted(decisions.items())))
    print(
        f'  changed by the DRT: {len(changed)} ({sum(c[4] for c in changed)} to the right circuit, '
        f'{sum(not c[4] for c in changed)} to a wrong one); flagged drt_disagrees: {sum(flagged.values())} '
        f'({flagged["wrong"]} of them with a wrong choice)'
    )
    for circuit, t_c, old_choice, new_choice, ok, comparison in changed:
        print(
            f'    {"right" if ok else "WRONG"}: {circuit} at {t_c} C: {old_choice} -> {new_choice} (DRT '
            f'{comparison["n_arcs"]} arcs, criterion difference {comparison["criterion_difference"]:+.1f})'
        )
    if r_errors.size:
        for label, errors in (('', r_errors), (' (criterion alone)', r_errors_before)):
            print(
                f'  apex of the bulk arc in the window ({in_window} pellets){label}: |R_bulk error| median '
                f'{100 * np.median(errors):.2f} %, 99th percentile {100 * np.percentile(errors, 99):.2f} %, max '
                f'{100 * np.nanmax(errors):.2f} %; within 2 %: {np.mean(errors <= 0.02) * 100:.1f} %'
            )
        print(f'  sigma within 2 %: {np.mean(s_errors <= 0.02) * 100:.1f} %')
    for item in wrong[:20]:
        print(f'  not chosen: {item[0]} at {item[1]} C -> {item[2]}')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='fewer runs and a 100-spectrum batch')
    parser.add_argument('--n', type=int, default=None, help='spectra in the batch (default 1,000; 100 with --quick)')
    parser.add_argument('--no-batch', action='store_true', help='only the one-spectrum timings')
    parser.add_argument('--criterion', choices=('bic', 'aicc'), default='bic', help='criterion of the batch')
    args = parser.parse_args(argv)
    import scipy

    print(
        f'numpy {np.__version__}, scipy {scipy.__version__}, OPENBLAS_NUM_THREADS={os.environ["OPENBLAS_NUM_THREADS"]}'
    )
    one_spectrum(3 if args.quick else 7)
    if not args.no_batch:
        batch(args.n or (100 if args.quick else 1000), args.criterion)


if __name__ == '__main__':
    main()
