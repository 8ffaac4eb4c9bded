"""Benchmark of the impedance analysis against impedance.py 1.7.1 (anchors-analysis B1-B4).

Run: ``.venv/bin/python benchmarks/bench_eis.py [--quick]``

* B1 -- one fit of each test spectrum from a start about 2x off (the anchor's p0 for the §0.1
  spectrum), modulus weighting: our time and chi2 against impedance.py's ``CustomCircuit.fit``
  (``weight_by_modulus=True``) on the same data and start; median of 11 runs after a warm-up.
  Accuracy = modulus-weighted chi2 ``sum |dZ/Z|^2`` relative to the best optimum found, and the worst
  relative parameter error against the truth.
* B2 -- robustness: 200 starts drawn log-uniform x/÷10 around the truth (alpha ±0.1); success =
  chi2 <= 1.01 x optimum. impedance.py gets the first ``--peer-starts`` (default 40) of the same
  starts because each of its fits takes ~0.5 s.
* B3 -- Arrhenius batch: 10 spectra 25-100 C with a known Ea, fitted with warm starts, sigma -> Ea.
* B4 -- lin-KK on the §0.1 spectrum (impedance.py's ``linKK`` fails under numpy 2; reported as such).
* Batch -- 1,000 spectra with random parameters, automatic start.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from aiida_ssb.analysis.arrhenius import K_B_EV_PER_K, fit_arrhenius
from aiida_ssb.analysis.conductivity import conductivity_from_resistance
from aiida_ssb.analysis.eis import Circuit, fit_circuit, lin_kk

FREQ = np.logspace(6, -1, 50)
ANCHOR = 'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3'
SPECTRA = {
    # name: (circuit, truth, start ~2x off)
    'anchor 0.1 pellet': (
        ANCHOR,
        [10, 500, 5e-9, 0.92, 1500, 5e-7, 0.85, 1e-5, 0.80],
        [20, 1000, 1e-8, 0.85, 800, 1e-6, 0.90, 2e-5, 0.75],
    ),
    'full cell (seed 000)': (
        'R0-p(R1,CPE1)-p(R2,CPE2)',
        [50, 120, 2e-6, 0.85, 400, 5e-4, 0.75],
        [25, 240, 4e-6, 0.80, 200, 1e-3, 0.80],
    ),
    'blocking pellet': (
        'p(R1,CPE1)-p(R2,CPE2)-CPE3',
        [800, 2e-9, 0.90, 3000, 1e-7, 0.80, 2e-6, 0.85],
        [1600, 1e-9, 0.85, 1500, 2e-7, 0.85, 4e-6, 0.80],
    ),
    'arc + finite diffusion': (
        'R0-p(R1,CPE1)-Wo1',
        [50, 500, 5e-9, 0.92, 1000, 1.0],
        [100, 250, 1e-8, 0.85, 2000, 0.5],
    ),
}


def noisy(circuit: Circuit, truth, seed: int) -> np.ndarray:
    z0 = circuit.impedance(FREQ, truth)
    rng = np.random.default_rng(seed)
    return z0 + 0.005 * np.abs(z0) * (rng.standard_normal(z0.size) + 1j * rng.standard_normal(z0.size))


def chi2_modulus(z: np.ndarray, z_fit: np.ndarray) -> float:
    return float(np.sum(np.abs(z - z_fit) ** 2 / np.abs(z) ** 2))


def median_time(fn, runs: int) -> tuple[float, object]:
    out = fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def peer():
    try:
        import impedance
        from impedance.models.circuits import CustomCircuit  # noqa: F401

        return impedance
    except Exception as exc:
        print(f'impedance.py is not importable ({type(exc).__name__}: {exc}); timing ours only')
        return None


def peer_fit(spec: str, start, z: np.ndarray):
    from impedance.models.circuits import CustomCircuit

    model = CustomCircuit(spec, initial_guess=list(start))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model.fit(FREQ, z, weight_by_modulus=True)
    return np.asarray(model.parameters_), model.predict(FREQ)


def optimum(circuit: Circuit, truth, z: np.ndarray) -> float:
    a = fit_circuit(circuit, FREQ, z, initial=truth, n_starts=10, seed=1).chi2_modulus
    b = fit_circuit(circuit, FREQ, z).chi2_modulus
    return min(a, b)


def b1(imp, runs: int) -> None:
    print(f'\nB1  one fit from a ~2x-off start, modulus weighting (median of {runs} runs)')
    header = (
        f'{"spectrum":24s} {"ours ms":>8s} {"1-start":>8s} {"peer ms":>9s} {"speed-up":>9s} '
        f'{"chi2/opt ours":>13s} {"chi2/opt peer":>13s} {"max err ours":>12s} {"max err peer":>12s}'
    )
    print(header)
    for name, (spec, truth, start) in SPECTRA.items():
        circuit = Circuit(spec)
        z = noisy(circuit, truth, 42)
        best = optimum(circuit, truth, z)
        t_ours, res = median_time(lambda c=circuit, z=z, s=start: fit_circuit(c, FREQ, z, initial=s), runs)
        t_one, _ = median_time(lambda c=circuit, z=z, s=start: fit_circuit(c, FREQ, z, initial=s, n_starts=1), runs)
        err_ours = np.max(np.abs(circuit.values_array(res.values) / np.array(truth) - 1))
        line = f'{name:24s} {1e3 * t_ours:8.1f} {1e3 * t_one:8.1f} '
        if imp is not None:
            t_peer, (p_peer, z_peer) = median_time(lambda sp=spec, s=start, z=z: peer_fit(sp, s, z), runs)
            err_peer = np.max(np.abs(p_peer / np.array(truth) - 1))
            line += (
                f'{1e3 * t_peer:9.1f} {t_peer / t_ours:8.0f}x {res.chi2_modulus / best:13.4f} '
                f'{chi2_modulus(z, z_peer) / best:13.4f} {100 * err_ours:11.1f}% {100 * err_peer:11.1f}%'
            )
        else:
            line += f'{"-":>9s} {"-":>9s} {res.chi2_modulus / best:13.4f} {"-":>13s} {100 * err_ours:11.1f}% {"-":>12s}'
        print(line)
    print(
        '    (chi2/opt = modulus-weighted chi2 over the best optimum found;'
        ' gate: <= 1.01 and every parameter within 5 %)'
    )


def b2(imp, n_starts: int, n_peer: int) -> None:
    spec, truth, _ = SPECTRA['anchor 0.1 pellet']
    circuit = Circuit(spec)
    z = noisy(circuit, truth, 42)
    best = optimum(circuit, truth, z)
    rng = np.random.default_rng(2024)
    log = circuit.log_mask
    starts = []
    for _ in range(n_starts):
        s = np.array(truth, dtype=float)
        s[log] *= 10 ** rng.uniform(-1, 1, log.sum())
        s[~log] = np.clip(s[~log] + rng.uniform(-0.1, 0.1, (~log).sum()), 0.05, 1.0)
        starts.append(s)
    print(f'\nB2  robustness: {n_starts} starts log-uniform x/÷10 around the truth, alpha ±0.1 (anchor spectrum)')
    for label, kwargs in (('ours, 1 local fit', {'n_starts': 1}), ('ours, default multistart', {})):
        t0 = time.perf_counter()
        ok = sum(fit_circuit(circuit, FREQ, z, initial=s, **kwargs).chi2_modulus <= 1.01 * best for s in starts)
        dt = (time.perf_counter() - t0) / n_starts
        print(f'    {label:28s} success {ok}/{n_starts} = {100 * ok / n_starts:5.1f} %   mean {1e3 * dt:7.1f} ms/fit')
    if imp is not None:
        subset = starts[:n_peer]
        t0 = time.perf_counter()
        ok = sum(chi2_modulus(z, peer_fit(spec, s, z)[1]) <= 1.01 * best for s in subset)
        dt = (time.perf_counter() - t0) / n_peer
        ok_ours = sum(fit_circuit(circuit, FREQ, z, initial=s, n_starts=1).chi2_modulus <= 1.01 * best for s in subset)
        label = f'impedance.py (first {n_peer})'
        print(
            f'    {label:28s} success {ok}/{n_peer} = {100 * ok / n_peer:5.1f} %   '
            f'mean {1e3 * dt:7.1f} ms/fit (ours, 1 local fit, same {n_peer} starts: {ok_ours}/{n_peer})'
        )


def b3() -> None:
    # a pellet of sigma(25 C) = 1.3e-5 S/cm: 5 kohm at 25 C, bulk arc at ~20 kHz moving up with T
    ea_true = 0.35
    thickness, area = 0.05, 0.785
    r25 = 5000.0
    t_c = np.linspace(25, 100, 10)
    spec = 'p(R1,CPE1)-CPE2'
    circuit = Circuit(spec)
    spectra = []
    for k, t in enumerate(t_c):
        t_k = t + 273.15
        # sigma T = A exp(-Ea/kT)  ->  R(T) = R25 (T / 298.15) exp(Ea/k (1/T - 1/298.15))
        r_bulk = r25 * (t_k / 298.15) * np.exp(ea_true / K_B_EV_PER_K * (1 / t_k - 1 / 298.15))
        spectra.append(noisy(circuit, [r_bulk, 5e-9, 0.9, 1e-6, 0.85], 100 + k))

    def run():
        previous = None
        sigmas = []
        for z in spectra:
            res = fit_circuit(circuit, FREQ, z, initial=previous) if previous else fit_circuit(circuit, FREQ, z)
            previous = res.values
            sigmas.append(conductivity_from_resistance(res.values['R1'], thickness, area).conductivity_s_cm)
        return fit_arrhenius(t_c, sigmas)

    dt, result = median_time(run, 5)
    print(
        f'\nB3  Arrhenius batch: 10 spectra 25-100 C, warm starts -> sigma -> Ea: {1e3 * dt:.1f} ms total; '
        f'Ea = {result.activation_energy_ev:.4f} eV (truth {ea_true}, '
        f'error {result.activation_energy_ev - ea_true:+.4f};'
        ' gate 0.005 eV)'
    )


def b4(imp, runs: int) -> None:
    spec, truth, _ = SPECTRA['anchor 0.1 pellet']
    z = noisy(Circuit(spec), truth, 42)
    dt, res = median_time(lambda: lin_kk(FREQ, z), runs)
    print(
        f'\nB4  lin-KK on the anchor spectrum: ours {1e3 * dt:.2f} ms (M={res.m}, mu={res.mu:.3f}, '
        f'valid={res.valid}); ours without the series capacitance: ',
        end='',
    )
    dt2, res2 = median_time(lambda: lin_kk(FREQ, z, capacitance=False), runs)
    print(f'{1e3 * dt2:.2f} ms (M={res2.m}, mu={res2.mu:.3f})')
    if imp is not None:
        try:
            from impedance.validation import linKK

            t0 = time.perf_counter()
            linKK(FREQ, z, c=0.85, max_M=50, fit_type='complex')
            print(f'    impedance.py linKK: {1e3 * (time.perf_counter() - t0):.1f} ms')
        except Exception as exc:
            print(f'    impedance.py linKK fails here: {type(exc).__name__}: {exc}')


def batch(n: int) -> None:
    circuit = Circuit(ANCHOR)
    rng = np.random.default_rng(7)
    base = np.array(SPECTRA['anchor 0.1 pellet'][1])
    log = circuit.log_mask
    jobs = []
    for k in range(n):
        truth = base.copy()
        truth[log] *= 10 ** rng.uniform(-0.5, 0.5, log.sum())
        truth[~log] = np.clip(truth[~log] + rng.uniform(-0.05, 0.05, (~log).sum()), 0.6, 1.0)
        jobs.append((truth, noisy(circuit, truth, 1000 + k)))
    t0 = time.perf_counter()
    results = [fit_circuit(circuit, FREQ, z) for _, z in jobs]
    dt = time.perf_counter() - t0
    ok = 0
    for (truth, z), res in zip(jobs, results):
        reference = fit_circuit(circuit, FREQ, z, initial=truth, n_starts=1).chi2_modulus
        ok += res.chi2_modulus <= 1.01 * reference
    print(
        f'\nBatch  {n} spectra (anchor circuit, random parameters x/÷3, automatic start): {dt:.1f} s total, '
        f'{1e3 * dt / n:.1f} ms/spectrum; {ok}/{n} at least as good as a fit started from the truth'
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='fewer runs and a 100-spectrum batch')
    parser.add_argument('--peer-starts', type=int, default=40)
    args = parser.parse_args(argv)
    runs = 5 if args.quick else 11
    imp = peer()
    import numpy as np
    import scipy

    print(
        f'numpy {np.__version__}, scipy {scipy.__version__}, impedance.py '
        f'{getattr(imp, "__version__", "not installed") if imp else "not installed"}'
    )
    b1(imp, runs)
    b2(imp, 50 if args.quick else 200, min(args.peer_starts, 10) if args.quick else args.peer_starts)
    b3()
    b4(imp, runs)
    batch(100 if args.quick else 1000)


if __name__ == '__main__':
    main()
