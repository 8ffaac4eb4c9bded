"""Protocol blocks (formation, rate test, long-term cycling, stepwise cut-off), the retention reference and the
rate-capability table, detected on the complete cycles of a cycle table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from aiida_ssb.analysis.cycling.inputs import CyclingError
from aiida_ssb.analysis.cycling.tables import per_mass, ratio_percent, relative_change

__all__ = ['add_retention', 'choose_reference', 'cycles_below', 'describe_rule', 'detect_blocks', 'rate_table']


def _runs_of_rate(rates: np.ndarray, tolerance: float, forced_breaks: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of consecutive entries with the same rate (relative tolerance)."""
    m = rates.size
    if m == 0:
        return []
    brk = np.zeros(m, dtype=bool)
    brk[0] = True
    if m > 1:
        change = relative_change(rates)
        brk[1:] = ~(change <= tolerance)
    for position in forced_breaks:
        if 0 < position < m:
            brk[position] = True
    starts = np.flatnonzero(brk)
    stops = np.r_[starts[1:], m]
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _rate_entry(rate: float, rate_is_c: bool) -> dict[str, float]:
    return {'c_rate': float(rate)} if rate_is_c else {'current_ma': float(rate)}


def detect_blocks(
    cycles: dict[str, np.ndarray],
    rate_values: np.ndarray,
    *,
    rate_is_c: bool,
    formation_cycles: int | None,
    rate_tolerance: float,
    max_formation_cycles: int,
    rate_step_cycles: tuple[int, int],
    long_term_min_cycles: int,
    cutoff_tolerance_v: float,
    forced_rate_test: tuple[int, int] | None,
) -> tuple[list[dict[str, Any]], list[tuple[int, int]], dict[str, Any]]:
    complete = cycles['complete']
    numbers = cycles['cycle'][complete]
    rates = rate_values[complete]
    m = numbers.size
    blocks: list[dict[str, Any]] = []
    formation: dict[str, Any] = {'source': 'none', 'n_cycles': 0}
    if m == 0:
        return blocks, [], formation

    def median_rate(a: int, b: int) -> float:
        return float(np.nanmedian(rates[a:b]))

    breaks: list[int] = []
    n_form_given = None
    if formation_cycles is not None:
        n_form_given = min(int(formation_cycles), m)
        breaks.append(n_form_given)
    if forced_rate_test is not None:
        first, last = forced_rate_test
        in_test = (numbers >= first) & (numbers <= last)
        if not in_test.any():
            raise CyclingError(f'rate_test: no complete cycle between {first} and {last}')
        breaks += [int(np.flatnonzero(in_test)[0]), int(np.flatnonzero(in_test)[-1]) + 1]
    runs = _runs_of_rate(rates, rate_tolerance, breaks)

    labels = ['constant_rate'] * len(runs)
    if n_form_given:
        for k, (_, b) in enumerate(runs):
            if b <= n_form_given:
                labels[k] = 'formation'

    # rate tests: consecutive short runs with >= 3 distinct rates
    lo, hi = rate_step_cycles
    rate_tests: list[list[int]] = []
    if forced_rate_test is not None:
        first, last = forced_rate_test
        members = [k for k, (a, b) in enumerate(runs) if numbers[a] >= first and numbers[b - 1] <= last]
        rate_tests.append(members)
    else:
        current: list[int] = []

        def close(group: list[int]) -> None:
            if len(group) >= 3:
                distinct = _distinct([median_rate(*runs[k]) for k in group], rate_tolerance)
                if distinct >= 3:
                    rate_tests.append(list(group))

        for k, (a, b) in enumerate(runs):
            if labels[k] == 'formation':
                continue
            if lo <= b - a <= hi:
                current.append(k)
            else:
                close(current)
                current = []
        close(current)
    in_rate_test = {k for group in rate_tests for k in group}

    # formation detection (when not given)
    if n_form_given is not None:
        formation = {'source': 'given', 'n_cycles': n_form_given}
    elif len(runs) >= 2 and 0 not in in_rate_test:
        a, b = runs[0]
        if b - a <= max_formation_cycles and median_rate(*runs[1]) > median_rate(a, b) * (1 + rate_tolerance):
            labels[0] = 'formation'
            formation = {'source': 'detected', 'n_cycles': b - a}

    for k, (a, b) in enumerate(runs):
        if k in in_rate_test or labels[k] == 'formation':
            continue
        labels[k] = 'long_term' if b - a >= long_term_min_cycles else 'constant_rate'

    # assemble blocks in cycle order
    emitted_tests: set[int] = set()
    for k, (a, b) in enumerate(runs):
        if k in in_rate_test:
            group_id = next(g for g, group in enumerate(rate_tests) if k in group)
            if group_id in emitted_tests:
                continue
            emitted_tests.add(group_id)
            group = rate_tests[group_id]
            steps = []
            for member in group:
                sa, sb = runs[member]
                step: dict[str, Any] = {
                    'first_cycle': int(numbers[sa]),
                    'last_cycle': int(numbers[sb - 1]),
                    'n_cycles': sb - sa,
                }
                step.update(_rate_entry(median_rate(sa, sb), rate_is_c))
                steps.append(step)
            ga, gb = runs[group[0]][0], runs[group[-1]][1]
            blocks.append(
                {
                    'kind': 'rate_test',
                    'first_cycle': int(numbers[ga]),
                    'last_cycle': int(numbers[gb - 1]),
                    'n_cycles': gb - ga,
                    'steps': steps,
                    'source': 'given' if forced_rate_test is not None else 'detected',
                }
            )
            continue
        block = {
            'kind': labels[k],
            'first_cycle': int(numbers[a]),
            'last_cycle': int(numbers[b - 1]),
            'n_cycles': b - a,
        }
        block.update(_rate_entry(median_rate(a, b), rate_is_c))
        if labels[k] == 'formation':
            block['source'] = formation['source']
        blocks.append(block)

    # merge consecutive formation runs (given formation may span two rates)
    merged: list[dict[str, Any]] = []
    for block in blocks:
        if merged and block['kind'] == 'formation' and merged[-1]['kind'] == 'formation':
            merged[-1]['last_cycle'] = block['last_cycle']
            merged[-1]['n_cycles'] += block['n_cycles']
            continue
        merged.append(block)
    blocks = merged
    stepwise = _stepwise_cutoff(numbers, cycles['charge_upper_voltage_v'][complete], cutoff_tolerance_v)
    if stepwise is not None:
        blocks.append(stepwise)
    blocks.sort(key=lambda blk: (blk['first_cycle'], blk['kind'] == 'stepwise_upper_cutoff'))
    formation['cycles'] = [int(x) for x in numbers[: formation['n_cycles']]]
    return blocks, runs, formation


def _distinct(values: Sequence[float], tolerance: float) -> int:
    ordered = sorted(v for v in values if math.isfinite(v))
    count = 0
    last = None
    for value in ordered:
        if last is None or abs(value / last - 1.0) > tolerance:
            count += 1
            last = value
    return count


def _stepwise_cutoff(numbers: np.ndarray, upper: np.ndarray, tolerance: float) -> dict[str, Any] | None:
    """Longest sequence of >= 3 groups of cycles whose upper cut-off rises by the same step every N cycles."""
    m = upper.size
    if m < 3 or not np.isfinite(upper).all():
        return None
    brk = np.zeros(m, dtype=bool)
    brk[0] = True
    brk[1:] = np.abs(np.diff(upper)) > tolerance
    starts = np.flatnonzero(brk)
    stops = np.r_[starts[1:], m]
    levels = np.array([np.median(upper[a:b]) for a, b in zip(starts, stops, strict=True)])
    sizes = stops - starts
    best: tuple[int, int] | None = None
    g = 0
    while g < levels.size - 1:
        h = g
        while (
            h + 1 < levels.size
            and levels[h + 1] - levels[h] >= 2 * tolerance
            and (h + 1 == levels.size - 1 or sizes[h + 1] == sizes[g])
            and (h == g or abs((levels[h + 1] - levels[h]) - (levels[g + 1] - levels[g])) <= tolerance)
        ):
            h += 1
        if h - g + 1 >= 3 and (best is None or h - g > best[1] - best[0]):
            best = (g, h)
        g = max(h, g + 1)
    if best is None:
        return None
    g, h = best
    steps = np.diff(levels[g : h + 1])
    return {
        'kind': 'stepwise_upper_cutoff',
        'first_cycle': int(numbers[starts[g]]),
        'last_cycle': int(numbers[stops[h] - 1]),
        'n_cycles': int(stops[h] - starts[g]),
        'cycles_per_step': int(sizes[g]),
        'step_v': float(np.median(steps)),
        'upper_cutoffs_v': [float(x) for x in levels[g : h + 1]],
    }


def describe_rule(reference: Any) -> str:
    if isinstance(reference, str):
        return reference
    return ':'.join(str(x) for x in reference)


def choose_reference(
    reference: Any,
    cycles: dict[str, np.ndarray],
    blocks: list[dict[str, Any]],
    formation: dict[str, Any],
    one_c: float | None,
    tolerance: float,
    numerator: str,
) -> tuple[int | None, str]:
    complete = cycles['complete']
    numbers = cycles['cycle'][complete]
    if numbers.size == 0:
        return None, 'no complete cycle'
    if reference == 'first':
        return int(numbers[0]), 'first complete cycle'
    if reference == 'first_after_formation':
        n_form = formation['n_cycles']
        if n_form >= numbers.size:
            raise CyclingError(
                f'reference first_after_formation: all {numbers.size} complete cycles are formation cycles'
            )
        if formation['source'] == 'none':
            return int(numbers[0]), 'no formation cycles detected (formation_cycles not given): first complete cycle'
        return int(numbers[n_form]), f'first cycle after {n_form} formation cycle(s) ({formation["source"]})'
    if reference == 'first_after_rate_test':
        tests = [b for b in blocks if b['kind'] == 'rate_test']
        if not tests:
            raise CyclingError('reference first_after_rate_test: no rate test detected (pass rate_test=(first, last))')
        end = tests[0]['last_cycle']
        after = numbers[numbers > end]
        if after.size == 0:
            raise CyclingError(
                f'reference first_after_rate_test: no complete cycle after the rate test (ends at cycle {end})'
            )
        return int(after[0]), f'first complete cycle after the rate test (cycles {tests[0]["first_cycle"]}-{end})'
    if isinstance(reference, (tuple, list)) and len(reference) == 2:
        rule, value = reference
        if rule == 'cycle':
            number = int(value)
            if number not in set(numbers.tolist()):
                raise CyclingError(f'reference (cycle, {number}): cycle {number} is missing or incomplete')
            return number, f'cycle {number} (given)'
        if rule == 'first_at_c_rate':
            if one_c is None:
                raise CyclingError('reference first_at_c_rate: needs one_c_ma to know the C-rate of each cycle')
            wanted = float(value)
            rates = cycles[f'{numerator}_c_rate'][complete]
            with np.errstate(divide='ignore', invalid='ignore'):
                match = np.abs(rates / wanted - 1.0) <= tolerance
            if not match.any():
                raise CyclingError(
                    f'reference first_at_c_rate: no complete cycle at {wanted}C (tolerance {tolerance:.0%})'
                )
            return int(numbers[np.flatnonzero(match)[0]]), f'first complete cycle at {wanted:g}C ({numerator})'
    raise CyclingError(
        f"reference: {reference!r} is not one of 'first', ('cycle', N), 'first_after_formation', "
        "('first_at_c_rate', rate), 'first_after_rate_test'"
    )


def add_retention(cycles: dict[str, np.ndarray], reference_cycle: int | None, numerator: str) -> None:
    q = cycles[f'{numerator}_capacity_mah']
    e = cycles[f'{numerator}_energy_mwh']
    if reference_cycle is None:
        cycles['capacity_retention_percent'] = np.full(q.size, np.nan)
        cycles['energy_retention_percent'] = np.full(q.size, np.nan)
        return
    pos = int(np.flatnonzero(cycles['cycle'] == reference_cycle)[0])
    cycles['capacity_retention_percent'] = ratio_percent(q, np.full(q.size, q[pos]))
    cycles['energy_retention_percent'] = ratio_percent(e, np.full(e.size, e[pos]))
    incomplete = ~cycles['complete']
    cycles['capacity_retention_percent'][incomplete] = np.nan
    cycles['energy_retention_percent'][incomplete] = np.nan


def rate_table(
    cycles: dict[str, np.ndarray],
    blocks: list[dict[str, Any]],
    numerator: str,
    masses: dict[str, float],
    one_c: float | None,
) -> dict[str, np.ndarray]:
    tests = [b for b in blocks if b['kind'] == 'rate_test']
    if not tests:
        return {}
    steps = tests[0]['steps']
    position = {int(c): k for k, c in enumerate(cycles['cycle'])}
    used = []
    for step in steps:
        used.append(step['first_cycle'] + 1 if step['n_cycles'] >= 2 else step['first_cycle'])
    rows = np.array([position[c] for c in used])
    capacity = cycles[f'{numerator}_capacity_mah'][rows]
    table: dict[str, np.ndarray] = {
        'step': np.arange(1, len(steps) + 1),
        'first_cycle': np.array([s['first_cycle'] for s in steps]),
        'n_cycles': np.array([s['n_cycles'] for s in steps]),
        'cycle_used': np.array(used),
        'current_ma': cycles[f'{numerator}_current_ma'][rows],
        f'{numerator}_capacity_mah': capacity,
        f'average_{numerator}_voltage_v': cycles[f'average_{numerator}_voltage_v'][rows],
    }
    if one_c is not None:
        table['c_rate'] = cycles[f'{numerator}_c_rate'][rows]
    rate = table['c_rate'] if one_c is not None else table['current_ma']
    lowest = int(np.nanargmin(rate))
    table['capacity_relative_to_lowest_rate_percent'] = ratio_percent(
        capacity, np.full(capacity.size, capacity[lowest])
    )
    per_mass(table, masses, ((f'{numerator}_capacity_mah', f'{numerator}_capacity', 'mah_g'),))
    return table


def cycles_below(retention: np.ndarray, reference_pos: int, threshold: float) -> int | None:
    """Position of the first cycle after the reference with retention < threshold, confirmed by 2 of 3.

    The cycle itself must be below and at least one of the next two (as aurora-cycler-manager does); near
    the end of the record a cycle with a single follower needs that follower below too; the last cycle
    alone never confirms.
    """
    below = retention < threshold
    below[: reference_pos + 1] = False
    candidates = np.flatnonzero(below)
    m = retention.size
    for pos in candidates:
        following = below[pos + 1 : pos + 3]
        if following.size and following.any():
            return int(pos)
        if following.size == 0 and pos == m - 1:
            return None
    return None
