"""The evidence of the automatic model choice: information criteria on weighted residuals, the residual-structure
test (runs and lag-1 autocorrelation), degenerate fits, the choice among candidates and the DRT's count of arcs
weighed against it. The rules and their parameters are described in :mod:`aiida_ssb.analysis.eis.model`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from aiida_ssb.analysis.eis.circuit import Circuit
from aiida_ssb.analysis.eis.fit import EisFitResult
from aiida_ssb.analysis.eis.roles import arcs_of, circuit_blocks
from aiida_ssb.exceptions import AnalysisError

if TYPE_CHECKING:
    from aiida_ssb.analysis.eis.model import EisFitSettings

__all__ = ['information_criteria', 'residual_structure', 'select_circuit', 'weigh_drt']


#: an arc whose resistance is below this fraction of |Z| at its characteristic frequency is not resolved
SMALL_ARC = 5e-3


#: criterion differences below this do not tell circuits apart: the simplest of them is chosen
PARSIMONY = 2.0


#: arcs within this factor (half a decade) of an end of the DRT's window may or may not show as peaks in it
EDGE = math.sqrt(10.0)


#: defaults of the DRT evidence (measured on the benchmark's batch, see the docs)
DRT_MARGIN = 6.0


DRT_MIN_PROMINENCE = 0.2


DRT_MIN_FRACTION = 0.1


DRT_MAYBE_FRACTION = 0.02


DRT_MIN_SEPARATION_DECADES = 1.0


DRT_TAIL_RATIO = 0.5


def _ndtr(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _runs_z(e: np.ndarray) -> float:
    signs = np.sign(e[e != 0])
    n = signs.size
    n_pos = int(np.sum(signs > 0))
    n_neg = n - n_pos
    if n < 3 or n_pos == 0 or n_neg == 0:
        return -math.inf if n >= 3 else 0.0
    runs = 1 + int(np.sum(signs[1:] != signs[:-1]))
    mu = 2.0 * n_pos * n_neg / n + 1.0
    var = 2.0 * n_pos * n_neg * (2.0 * n_pos * n_neg - n) / (n * n * (n - 1.0))
    return (runs - mu) / math.sqrt(var) if var > 0 else 0.0


def _acf_z(e: np.ndarray) -> float:
    denominator = float(np.sum(e * e))
    if e.size < 3 or denominator == 0:
        return 0.0
    return float(np.sum(e[1:] * e[:-1]) / denominator) * math.sqrt(e.size)


def residual_structure(residual_real: ArrayLike, residual_imag: ArrayLike, alpha: float = 1e-3) -> dict[str, Any]:
    """The runs and lag-1 autocorrelation tests of the residuals (ordered by frequency); see the module
    docstring. Returns the z scores, the one-sided p-values, the combined ``p`` and ``structured``."""
    re_ = np.asarray(residual_real, dtype=float)
    im_ = np.asarray(residual_imag, dtype=float)
    runs = (_runs_z(re_) + _runs_z(im_)) / math.sqrt(2.0)
    acf = (_acf_z(re_) + _acf_z(im_)) / math.sqrt(2.0)
    p_runs = _ndtr(runs) if math.isfinite(runs) else 0.0
    p_acf = 1.0 - _ndtr(acf)
    p = min(1.0, 2.0 * min(p_runs, p_acf))
    return {
        'runs_z': runs if math.isfinite(runs) else -1e3,
        'runs_p': p_runs,
        'autocorrelation_z': acf,
        'autocorrelation_p': p_acf,
        'p': p,
        'structured': bool(p < alpha),
    }


def information_criteria(weighted_rss: float, n_residuals: int, n_free: int) -> dict[str, float]:
    """BIC and AICc of a least-squares fit (see the module docstring)."""
    n, k = n_residuals, n_free
    base = n * math.log(max(weighted_rss, 1e-300) / n)
    aicc = base + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf)
    return {'bic': base + k * math.log(n), 'aicc': aicc}


def _degeneracy(fit: EisFitResult) -> str | None:
    """Why a fit is degenerate (see the module docstring), or None."""
    circuit = Circuit(fit.circuit)
    scale = [n for n in fit.at_bounds if circuit.log_mask[circuit.index(n)]]
    if scale:
        return f'{", ".join(scale)} at the resolvability bound'
    low_alpha = [n for n in fit.free if n.endswith('_alpha') and fit.values[n] < 0.35]
    if low_alpha:
        return f'{", ".join(low_alpha)} below 0.35'
    arcs = arcs_of(circuit)
    frequencies = sorted(a.characteristic_frequency_hz(fit.values) for a in arcs)
    for a, b in itertools.pairwise(frequencies):
        if a > 0 and b / a < 1.5:
            return 'two arcs within a factor 1.5 in characteristic frequency'
    modulus = np.abs(fit.z)
    log_f = np.log(fit.frequency_hz)
    small = []
    for arc in arcs:
        fc = arc.characteristic_frequency_hz(fit.values)
        at = int(np.argmin(np.abs(log_f - math.log(fc)))) if fc > 0 else modulus.size - 1
        if fit.values[arc.resistor] < SMALL_ARC * modulus[at]:
            small.append(arc.resistor)
    if small:
        return f'{", ".join(small)} below {100 * SMALL_ARC:g} % of |Z| at its frequency'
    blocks = [kind for kind, _ in circuit_blocks(circuit)]
    if blocks and blocks[-1] == 'arc' and arcs:
        last = max(arcs, key=lambda a: 1.0 / max(a.characteristic_frequency_hz(fit.values), 1e-300))
        if last.characteristic_frequency_hz(fit.values) < float(np.min(fit.frequency_hz)) / 10.0:
            return (
                f'the {last.resistor} arc lies more than a decade below the lowest frequency: a series CPE in disguise'
            )
    return None


def _count_in(frequencies_hz: Iterable[float], window_hz: tuple[float, float]) -> tuple[int, int]:
    """How many of these arc (or DRT peak) frequencies lie in ``window_hz``: at least those half a decade inside the
    window's ends, at most those within half a decade outside them (an arc and its peak near an end may fall on
    either side of it)."""
    low, high = window_hz
    firm = sum(low * EDGE <= fc <= high / EDGE for fc in frequencies_hz)
    loose = sum(low / EDGE <= fc <= high * EDGE for fc in frequencies_hz)
    return firm, loose


def _score(fit: EisFitResult, s: EisFitSettings) -> dict[str, Any]:
    structure = residual_structure(fit.residual_real_rel, fit.residual_imag_rel, s.residual_alpha)
    ic = information_criteria(fit.weighted_rss, 2 * fit.frequency_hz.size, len(fit.free))
    return {
        'circuit': fit.circuit,
        'n_parameters': len(fit.free),
        'n_arcs': len(arcs_of(Circuit(fit.circuit))),
        'arc_frequencies_hz': sorted(a.characteristic_frequency_hz(fit.values) for a in arcs_of(Circuit(fit.circuit))),
        'bic': ic['bic'],
        'aicc': ic['aicc'],
        'weighted_rss': fit.weighted_rss,
        'chi2_over_z': fit.chi2_over_z,
        'residual_p': structure['p'],
        'runs_z': structure['runs_z'],
        'autocorrelation_z': structure['autocorrelation_z'],
        'structured': structure['structured'],
        'degenerate': _degeneracy(fit),
        'success': fit.success,
    }


def select_circuit(scores: list[dict[str, Any]], criterion: str) -> tuple[int, str, list[str]]:
    """``(index of the chosen score, the reason, flags)``; marks every score's ``status``."""
    ok = [i for i, sc in enumerate(scores) if sc.get('success')]
    if not ok:
        raise AnalysisError('no candidate circuit could be fitted: ' + '; '.join(sc.get('status', '') for sc in scores))
    clean = [i for i in ok if not scores[i]['degenerate'] and not scores[i]['structured']]
    flags: list[str] = []
    if clean:
        pool = clean
    else:
        pool = [i for i in ok if not scores[i]['degenerate']] or ok
        flags.append(
            'residual_structure' if any(not scores[i]['degenerate'] for i in ok) else 'no_admissible_candidate'
        )
    best_value = min(scores[i][criterion] for i in pool)
    # parsimony: within PARSIMONY of the lowest criterion the evidence does not tell the circuits apart (Kass and
    # Raftery 1995); the one with the fewest parameters is chosen
    close = [i for i in pool if scores[i][criterion] <= best_value + PARSIMONY]
    chosen = min(close, key=lambda i: (scores[i]['n_parameters'], scores[i][criterion]))
    _mark(scores, chosen, criterion)
    best = scores[chosen]
    lead = 'lowest' if best[criterion] == best_value else f'simplest within {PARSIMONY:g} of the lowest'
    reason = (
        f'{best["circuit"]}: {lead} {criterion.upper()} ({best[criterion]:.1f}) among '
        f'{len(pool)} of {len(scores)} candidates '
        + ('that converged without degeneracy and with unstructured residuals' if clean else 'not degenerate')
    )
    rivals = sorted((i for i in pool if i != chosen), key=lambda i: scores[i][criterion])
    if rivals:
        r = scores[rivals[0]]
        reason += f'; next {r["circuit"]} ({criterion.upper()} +{r[criterion] - best[criterion]:.1f})'
    simpler = [i for i in ok if scores[i]['n_parameters'] < best['n_parameters'] and i not in pool]
    if simpler:
        k = min(simpler, key=lambda i: scores[i][criterion])
        reason += f'; simpler {scores[k]["circuit"]} rejected ({scores[k]["status"]})'
    return chosen, reason, flags


def _mark(scores: list[dict[str, Any]], chosen: int, criterion: str) -> None:
    """Every score's ``status`` relative to the chosen one."""
    for i, sc in enumerate(scores):
        if i == chosen:
            sc['status'] = 'chosen'
        elif not sc.get('success'):
            sc.setdefault('status', 'failed')
        elif sc['degenerate']:
            sc['status'] = f'degenerate: {sc["degenerate"]}'
        elif sc['structured']:
            sc['status'] = f'structured residuals (p = {sc["residual_p"]:.2g})'
        else:
            difference = sc[criterion] - scores[chosen][criterion]
            sc['status'] = f'{criterion.upper()} {"higher" if difference >= 0 else "lower"} by {abs(difference):.1f}'


def weigh_drt(
    scores: list[dict[str, Any]],
    chosen: int,
    criterion: str,
    peak_frequencies_hz: Iterable[float],
    window_hz: tuple[float, float],
    maybe_frequencies_hz: Iterable[float] = (),
    *,
    margin: float = DRT_MARGIN,
    decides: bool = True,
) -> tuple[int, dict[str, Any]]:
    """The DRT as evidence for the number of arcs (see the module docstring): ``(index of the chosen score, the
    comparison)``. ``peak_frequencies_hz`` are the DRT's resolved peaks in ``window_hz`` and
    ``maybe_frequencies_hz`` those resolved with the lower fraction ``drt_maybe_fraction`` (peaks that may or may
    not be arcs); the peaks and the arcs of each candidate are counted in the window as a range (:func:`_count_in`:
    near an end an arc or peak may count or not; the DRT's range reaches up to its count of maybe-peaks). The DRT
    agrees with a candidate when the ranges overlap; otherwise the DRT's number of arcs is the end of its range
    nearest the chosen circuit's. The comparison's ``decision`` is ``agrees``; ``changed`` (the
    admissible candidate with the DRT's number of arcs, its criterion within ``margin`` of the criterion's choice,
    is chosen instead); ``disagrees`` (it is worse by more than ``margin``, or ``decides`` is false: the caller
    flags ``drt_disagrees``); or ``no_candidate`` (no candidate with that number of arcs converged without
    degeneracy and with unstructured residuals). Re-marks the statuses when the choice changes."""
    best = scores[chosen]
    name = criterion.upper()
    peaks = (
        _count_in(peak_frequencies_hz, window_hz)[0],
        max(_count_in(peak_frequencies_hz, window_hz)[1], _count_in(maybe_frequencies_hz, window_hz)[1]),
    )
    own = _count_in(best.get('arc_frequencies_hz', ()), window_hz)
    drt_n = peaks[1] if peaks[1] < own[0] else peaks[0]
    comparison: dict[str, Any] = {
        'n_arcs': drt_n,
        'n_arcs_range': list(peaks),
        'circuit_n_arcs_range': list(own),
        'window_hz': [float(window_hz[0]), float(window_hz[1])],
        'criterion_choice': best['circuit'],
    }

    def text(r: tuple[int, int]) -> str:
        return f'{r[0]}' if r[0] == r[1] else f'{r[0]}-{r[1]}'

    shows = f'the DRT shows {text(peaks)} arc(s) in the window'
    if max(peaks[0], own[0]) <= min(peaks[1], own[1]):
        comparison['decision'] = 'agrees'
        comparison['reason'] = f'{shows}, as {best["circuit"]}'
        return chosen, comparison
    admissible = []
    n_arcs = len(best.get('arc_frequencies_hz', ()))
    for i, sc in enumerate(scores):
        # a candidate with as many arcs in all differs in where an arc lies (e.g. above the window, as R0), not in
        # the number of arcs: the DRT is no evidence for that
        if (
            sc.get('success')
            and not sc['degenerate']
            and not sc['structured']
            and len(sc.get('arc_frequencies_hz', ())) != n_arcs
        ):
            theirs = _count_in(sc.get('arc_frequencies_hz', ()), window_hz)
            if theirs[0] <= drt_n <= theirs[1]:
                admissible.append(i)
    if not admissible:
        comparison['decision'] = 'no_candidate'
        comparison['reason'] = (
            f'{shows}, {best["circuit"]} has {text(own)}; no candidate with {drt_n} converged without degeneracy '
            f'and with unstructured residuals'
        )
        return chosen, comparison
    lowest = min(scores[i][criterion] for i in admissible)
    close = [i for i in admissible if scores[i][criterion] <= lowest + PARSIMONY]
    other = min(close, key=lambda i: (scores[i]['n_parameters'], scores[i][criterion]))
    difference = scores[other][criterion] - best[criterion]
    comparison.update({'candidate': scores[other]['circuit'], 'criterion_difference': difference})
    if decides and difference <= margin:
        comparison['decision'] = 'changed'
        comparison['reason'] = (
            f'chosen by the DRT: {shows}; its {name} is within {margin:g} of {best["circuit"]} '
            f'({difference:+.1f}; {text(own)} arc(s) in the window), which the criterion alone would choose'
        )
        _mark(scores, other, criterion)
        best['status'] += f'; {text(own)} arc(s) where the DRT shows {text(peaks)}'
        return other, comparison
    comparison['decision'] = 'disagrees'
    comparison['reason'] = (
        f'{shows}, {best["circuit"]} has {text(own)}; {scores[other]["circuit"]} with {drt_n} has a {name} higher '
        f'by {difference:.1f}'
        + (f" (margin {margin:g}): the criterion's choice is kept" if decides else ' (the DRT does not decide)')
    )
    return chosen, comparison
