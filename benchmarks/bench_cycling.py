"""Benchmark of the cycling summary (:mod:`aiida_ssb.analysis.cycling`).

1. A synthetic, seeded 800-cycle record of about one million rows (C/10 formation, then C/5 with capacity
   fade, CC charge with a CV hold, rests, noise) is summarised by ``summarise_cycling`` and by a
   straightforward pandas group-by implementation written here; both are timed in this run (median of
   >= 11 runs after a warm-up) and checked against the generator's truth (the accuracy gate).
2. The real 46,102-row EC-Lab file ``jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr`` (from
   ``../shared/data`` or ``$AIIDA_SSB_SHARED_DATA``) is read with ``aiida_ssb.parsers.read`` and summarised.
   navani's ``cycle_summary`` is timed on the same file only when navani is importable, or when
   ``$NAVANI_PYTHON`` names an interpreter that has it (navani pins numpy<2, so it cannot live in this
   venv); otherwise the script says so.

Run: ``.venv/bin/python benchmarks/bench_cycling.py``
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

from aiida_ssb.analysis.cycling import summarise_cycling

REPO = pathlib.Path(__file__).resolve().parent.parent
JDB = 'biologic/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr'
TIME_BUDGET_S = 0.5


def make_record(n_cycles: int = 800, rows_per_half: int = 600, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded synthetic record: CC charge (+ CV hold), rest, CC discharge, rest; ~1250 rows per cycle."""
    rng = np.random.default_rng(seed)
    mass_mg = 1.4
    one_c = 0.130 * mass_mg
    rates = np.where(np.arange(n_cycles) < 2, 0.1, 0.2)
    q_dis = 1e-3 * mass_mg * np.where(np.arange(n_cycles) < 2, 104.0, np.linspace(99.0, 78.0, n_cycles))
    q_ch = q_dis / 0.998
    q_cv = 0.05 * q_ch
    n_cc = rows_per_half - 100
    n_cv = 100
    n_rest = 25
    blocks_t, blocks_v, blocks_i, blocks_mode, blocks_half, blocks_cycle = [], [], [], [], [], []
    t0 = 0.0
    truth_dis = np.empty(n_cycles)
    for k in range(n_cycles):
        current = rates[k] * one_c
        # CC charge
        cc = q_ch[k] - q_cv[k]
        t_cc = np.linspace(0.0, cc / current * 3600.0, n_cc)
        v_cc = 3.4 + 0.6 * (t_cc / t_cc[-1]) + 0.02
        # CV hold, exponential decay with the remaining charge q_cv
        tau = q_cv[k] * 3600.0 / (current * (1.0 - np.exp(-3.0)))
        total = 3.0 * tau
        s = np.linspace(0.0, total, n_cv)
        i_cv = current * np.exp(-s / tau)
        # rests and discharge
        t_rest = np.linspace(0.0, 600.0, n_rest)
        t_dis = np.linspace(0.0, q_dis[k] / current * 3600.0, rows_per_half)
        v_dis = 4.0 - 0.6 * (t_dis / t_dis[-1]) - 0.02
        segments = [
            (t_cc, v_cc, np.full(n_cc, current), 1, 2 * k + 1),
            (s, np.full(n_cv, v_cc[-1]), i_cv, 2, 2 * k + 1),
            (t_rest, np.full(n_rest, 3.9), np.zeros(n_rest), 3, 2 * k + 1),
            (t_dis, v_dis, np.full(rows_per_half, -current), 1, 2 * k + 2),
            (t_rest, np.full(n_rest, 3.4), np.zeros(n_rest), 3, 2 * k + 2),
        ]
        for times, volts, amps, mode, half in segments:
            blocks_t.append(t0 + 1e-3 + times)
            blocks_v.append(volts)
            blocks_i.append(amps)
            blocks_mode.append(np.full(times.size, mode, dtype=float))
            blocks_half.append(np.full(times.size, half, dtype=float))
            blocks_cycle.append(np.full(times.size, k + 1, dtype=float))
            t0 = blocks_t[-1][-1]
        truth_dis[k] = q_dis[k]
    current = np.concatenate(blocks_i)
    noisy = current != 0
    current[noisy] *= 1.0 + 1e-4 * rng.standard_normal(int(noisy.sum()))
    voltage = np.concatenate(blocks_v) + 2e-4 * rng.standard_normal(current.size)
    return {
        'time_s': np.concatenate(blocks_t),
        'voltage_v': voltage,
        'current_ma': current,
        'control_mode': np.concatenate(blocks_mode),
        'half_cycle_index': np.concatenate(blocks_half),
        'cycle_index': np.concatenate(blocks_cycle),
        'truth_discharge_mah': truth_dis,
        'one_c_ma': one_c,
        'mass_mg': mass_mg,
    }


def pandas_summary(time_s: np.ndarray, voltage_v: np.ndarray, current_ma: np.ndarray):
    """A straightforward pandas implementation: sign-change half cycles, group-by sums, charge-first pairing."""
    import pandas as pd

    df = pd.DataFrame({'t': time_s, 'v': voltage_v, 'i': current_ma})
    df['dt'] = df['t'].diff().fillna(0.0)
    df['dq'] = df['i'].abs() * df['dt'] / 3600.0
    df['de'] = df['dq'] * df['v']
    df['sign'] = np.sign(df['i'])
    df = df[df['sign'] != 0].copy()
    df['half'] = (df['sign'] != df['sign'].shift()).cumsum()
    halves = df.groupby('half').agg(
        sign=('sign', 'first'), q=('dq', 'sum'), e=('de', 'sum'), t0=('t', 'first'), t1=('t', 'last')
    )
    halves['cycle'] = (halves['sign'] > 0).cumsum()
    per_cycle = halves.groupby(['cycle', 'sign'])[['q', 'e']].sum().unstack('sign')
    cycles = pd.DataFrame(
        {
            'charge_capacity_mah': per_cycle[('q', 1.0)],
            'discharge_capacity_mah': per_cycle[('q', -1.0)],
            'charge_energy_mwh': per_cycle[('e', 1.0)],
            'discharge_energy_mwh': per_cycle[('e', -1.0)],
        }
    )
    cycles['coulombic_efficiency_percent'] = 100 * cycles['discharge_capacity_mah'] / cycles['charge_capacity_mah']
    cycles['energy_efficiency_percent'] = 100 * cycles['discharge_energy_mwh'] / cycles['charge_energy_mwh']
    cycles['average_discharge_voltage_v'] = cycles['discharge_energy_mwh'] / cycles['discharge_capacity_mah']
    cycles['capacity_retention_percent'] = (
        100 * cycles['discharge_capacity_mah'] / cycles['discharge_capacity_mah'].iloc[0]
    )
    return cycles


def median_time(function, repeats: int = 11) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def shared_data() -> pathlib.Path:
    configured = os.environ.get('AIIDA_SSB_SHARED_DATA')
    return pathlib.Path(configured) if configured else REPO.parent / 'shared' / 'data'


NAVANI_SNIPPET = r"""
import json, statistics, sys, time
import navani.echem as ec
df = ec.echem_file_loader(sys.argv[1])
ec.cycle_summary(df)
times = []
for _ in range(11):
    start = time.perf_counter()
    summary = ec.cycle_summary(df)
    times.append(time.perf_counter() - start)
print(json.dumps({'median_s': statistics.median(times), 'rows': len(df),
                  'discharge_capacity_mah': [float(x) for x in summary['Discharge Capacity']]}))
"""


def time_navani(path: pathlib.Path) -> tuple[str, dict | None]:
    """(how, result) for navani's cycle_summary on ``path``; result None when navani is unavailable."""
    interpreter = os.environ.get('NAVANI_PYTHON')
    try:
        import navani  # noqa: F401

        interpreter = sys.executable
    except ImportError:
        pass
    if not interpreter:
        return (
            'navani not importable here (it pins numpy<2: installing it would downgrade numpy 2.4 -> 1.26 and '
            'pandas 3 -> 2.3); set NAVANI_PYTHON to an interpreter that has it to time it in this run',
            None,
        )
    try:
        completed = subprocess.run(
            [interpreter, '-c', NAVANI_SNIPPET, str(path)], capture_output=True, text=True, timeout=600, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f'navani could not run with {interpreter}: {exc}', None
    return f'navani via {interpreter}', json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    print('Cycling summary benchmark (median of 11 runs after a warm-up)')
    record = make_record()
    n_rows = record['time_s'].size
    columns = {k: record[k] for k in ('control_mode', 'half_cycle_index', 'cycle_index')}
    t, v, i = record['time_s'], record['voltage_v'], record['current_ma']

    def ours():
        return summarise_cycling(
            t,
            v,
            i,
            one_c_ma=record['one_c_ma'],
            masses_mg={'active': record['mass_mg']},
            reference='first_after_formation',
            **columns,
        )

    ours_s = median_time(ours)
    summary = ours()
    try:
        pandas_s = median_time(lambda: pandas_summary(t, v, i))
        baseline = pandas_summary(t, v, i)
    except ImportError:
        pandas_s, baseline = None, None

    truth = record['truth_discharge_mah']
    ours_q = summary.cycles['discharge_capacity_mah']
    ours_err = float(np.max(np.abs(ours_q / truth - 1)))
    print()
    print(f'synthetic record: {n_rows:,} rows, {summary.n_cycles} cycles, {summary.n_half_cycles} half cycles')
    print(f'{"implementation":<34}{"median time":>14}{"max |Q_dis/truth - 1|":>26}')
    print(f'{"aiida_ssb summarise_cycling":<34}{1e3 * ours_s:>11.1f} ms{ours_err:>26.2e}')
    if baseline is not None:
        base_err = float(np.max(np.abs(baseline['discharge_capacity_mah'].to_numpy() / truth - 1)))
        print(f'{"pandas group-by (this script)":<34}{1e3 * pandas_s:>11.1f} ms{base_err:>26.2e}')
        print(f'ratio pandas / ours: {pandas_s / ours_s:.1f}x')
    else:
        print('pandas not importable: baseline not timed')
    out = summary.to_dict()
    print(
        f'headline: reference cycle {out["reference_cycle"]} ({out["reference_reason"]}), retention at end '
        f'{out["capacity_retention_percent_at_end"]:.2f} % (truth {100 * truth[-1] / truth[2]:.2f} %), '
        f'CV part detected in {int((summary.half_cycles["cv_capacity_mah"] > 0).sum())} half cycles'
    )
    gate_time = ours_s < TIME_BUDGET_S
    gate_accuracy = (
        ours_err < 1e-4 and abs(out['capacity_retention_percent_at_end'] - 100 * truth[-1] / truth[2]) < 1e-2
    )
    print(
        f'gate: time < {TIME_BUDGET_S} s: {"PASS" if gate_time else "FAIL"}; '
        f'accuracy (|Q/truth - 1| < 1e-4, retention within 0.01 %): {"PASS" if gate_accuracy else "FAIL"}'
    )

    # real file
    path = shared_data() / JDB
    print()
    if not path.is_file():
        print(f'real file not available: {path}')
        return 0 if gate_time and gate_accuracy else 1
    try:
        from aiida_ssb.parsers import read
    except ImportError as exc:
        print(f'aiida_ssb.parsers.read not available ({exc}): real file not timed')
        return 0 if gate_time and gate_accuracy else 1
    measurement = read(path)
    cols = measurement.columns
    options = {
        k: cols[k]
        for k in ('half_cycle_index', 'cycle_index', 'control_mode', 'charge_capacity_mah', 'discharge_capacity_mah')
        if k in cols
    }
    real_s = median_time(
        lambda: summarise_cycling(cols['time_s'], cols['voltage_v'], cols['current_ma'], **options), repeats=21
    )
    real = summarise_cycling(cols['time_s'], cols['voltage_v'], cols['current_ma'], **options)
    half = real.half_cycles
    deviation = float(np.max(np.abs(half['capacity_mah'] / half['capacity_instrument_mah'] - 1)))
    print(f'real file {path.name}: {cols["time_s"].size:,} rows, {real.n_half_cycles} half cycles')
    print(f'{"implementation":<34}{"median time":>14}{"max |Q/Q_instrument - 1|":>26}')
    print(f'{"aiida_ssb summarise_cycling":<34}{1e3 * real_s:>11.2f} ms{deviation:>26.2e}')
    how, navani = time_navani(path)
    if navani is None:
        print(f'{"navani cycle_summary":<34}{"--":>14}   {how}')
        print('  (anchor measured earlier, anchors-analysis.md section 3.4: navani 35 ms on this file)')
    else:
        print(f'{"navani cycle_summary":<34}{1e3 * navani["median_s"]:>11.2f} ms{"":>26}   ({how})')
        print(f'ratio navani / ours: {navani["median_s"] / real_s:.1f}x')
        ours_dis = half['capacity_mah'][half['direction'] < 0]
        print(f'  navani discharge capacities (mAh): {np.round(navani["discharge_capacity_mah"], 4).tolist()}')
        print(f'  ours   discharge capacities (mAh): {np.round(ours_dis, 4).tolist()}')
    return 0 if gate_time and gate_accuracy else 1


if __name__ == '__main__':
    sys.exit(main())
