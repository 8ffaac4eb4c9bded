"""Data-driven initial values for an equivalent-circuit fit.

The guess reads the spectrum the way a person reads a Nyquist plot. The data are sorted from high to
low frequency; ``Z' = Re Z`` and ``Z'' = -Im Z`` (positive for capacitive arcs).

1. **Top-level blocks.** The circuit's outermost series chain is split into blocks: series
   resistors, series inductors, *arcs* (a parallel block of a capacitive branch ``C``/``CPE`` and a
   branch that starts with a resistor, e.g. ``p(R1,CPE1)`` or ``p(R2-Wo1,C2)``), low-frequency
   *tail* elements (a series ``CPE``/``C`` spike, ``W``, ``Wo``, ``Ws``, or any such element inside
   an arc's resistive branch), and anything else.
2. **High-frequency intercept.** Where ``Z''`` changes sign at the high-frequency end, ``Z'`` is
   interpolated linearly at ``Z'' = 0``. Otherwise the first arc is mirrored about its apex:
   ``R_hf = 2 Z'_apex - Z'_valley`` (clipped to ``[0, min Z']``). The series resistors share ``R_hf``.
3. **Arcs.** Local maxima of ``Z''``, scored by their height above the valley on their
   high-frequency side (their full height when nothing higher precedes them); maxima scoring under
   5 % of the best are noise. The ``n`` best are kept for ``n`` arcs, ordered from high to low
   frequency. Missing arcs go first beyond the end of the range where ``Z''`` is larger and still
   falling towards the high-frequency end (or still rising at the low-frequency end, when the circuit
   has no tail element). Arcs still missing are placed (a) in the widest stretch of frequency without
   an arc and, as an alternative start, (b) under the highest found arc, a factor 3 in frequency
   towards its broader shoulder (overlapping arcs). When a weak maximum (score under 20 % of the
   best) was used, the placements without it are further alternative starts.
   Arc ``k`` spans the real axis between the minima of
   ``Z''`` that flank its apex, so ``R_k = Z'_right - Z'_left`` (the first arc starts at ``R_hf``).
   ``alpha_k = (4/pi) arctan(2 Z''_apex / R_k)`` (the depression of a ZARC), clipped to
   ``[0.5, 1]``; ``Q_k = 1 / (R_k omega_apex^alpha_k)``; a capacitor gets ``C_k = 1/(R_k omega_apex)``.
4. **Low-frequency tail** (the points after the last arc's right-hand minimum):
   a ``CPE`` spike gets ``alpha = -d ln Z'' / d ln omega`` over the last five points (clipped to
   ``[0.3, 1]``) and ``Q = sin(alpha pi/2) / (Z''_last omega_last^alpha)``; a series ``C`` gets
   ``1 / (omega_last Z''_last)``; ``W`` gets ``sigma = median(Z'' sqrt(omega))``; ``Wo`` gets
   ``R = 3 Delta Z'`` and ``tau = R / (omega_last Z''_last)`` when the tail has turned capacitive,
   otherwise ``tau = 2 / omega_min`` and ``R = sigma sqrt(2 tau)``; ``Ws`` gets ``R = Delta Z'`` and
   ``tau = 2.54 / omega`` at the tail's ``Z''`` maximum (``tau = 2 / omega_min`` without one).
5. **Inductors**: ``L = Im Z / omega`` at the highest frequency when it is inductive, else
   ``1e-3 |Z| / omega_max``. **Anything else** gets scale values: ``R = median |Z| / 2``,
   ``C = 1/(omega_mid median|Z|)``, ``Q`` likewise with ``alpha = 0.85``, ``sigma = median|Z| sqrt(omega_mid)/2``,
   ``tau = 1/omega_mid`` (``omega_mid`` is the geometric mean of the measured range).

Every value is finally clipped into the parameter bounds. The result maps parameter names to
values; :func:`initial_guess` also reports which rule produced each value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from aiida_ssb.analysis.eis.circuit import Circuit, Element, Node, Parallel, Series

__all__ = ['GuessResult', 'initial_guess']


@dataclasses.dataclass
class GuessResult:
    """Initial values (by parameter name), the rule behind each one, and alternative starts.

    ``alternatives`` holds complete start vectors for other placements of arcs that show no maximum
    of their own; :func:`~aiida_ssb.analysis.eis.fit_circuit` tries them as extra starts.
    """

    values: dict[str, float]
    rules: dict[str, str]
    alternatives: list[dict[str, float]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Spectrum:
    f: np.ndarray
    omega: np.ndarray
    zr: np.ndarray  # Re Z
    zi: np.ndarray  # -Im Z
    zabs: np.ndarray

    @property
    def n(self) -> int:
        return self.f.size


def _peaks(y: np.ndarray, min_rel_score: float = 0.05) -> list[tuple[int, float]]:
    """Interior local maxima of ``y`` with their height above the valley on the high-frequency side.

    The score of a maximum ``i`` is ``y[i]`` minus the lowest ``y`` between ``i`` and the nearest
    higher point before it: an arc rises above the valley that separates it from the faster
    process. Without a higher point before it the score is ``y[i]`` itself (the arc's high-frequency
    foot lies outside the measured range). Maxima scoring below ``min_rel_score`` x the best score
    are noise and dropped.
    """
    n = y.size
    found = []
    for i in range(1, n - 1):
        if not (y[i] > y[i - 1] and y[i] >= y[i + 1]) or y[i] <= 0:
            continue
        j = i - 1
        low = y[i]
        while j >= 0 and y[j] <= y[i]:
            low = min(low, y[j])
            j -= 1
        if j < 0:
            low = 0.0  # no higher point before it: the arc's foot lies above the measured range
        found.append((i, float(y[i] - max(low, 0.0))))
    if not found:
        return []
    best = max(score for _, score in found)
    return [(i, score) for i, score in found if score >= min_rel_score * best]


_ArcParts = tuple[Element, Element, list[Node]]  # (resistor, capacitor or CPE, what follows the resistor)
_Block = tuple[str, Node, _ArcParts | None]  # (kind, block, the parts of an arc)
_Arc = tuple[str, Node, _ArcParts]


def _classify(circuit: Circuit) -> list[_Block]:
    """Split the outermost series chain into blocks."""
    root = circuit.tree
    blocks = root.children if isinstance(root, Series) else [root]
    classified: list[_Block] = []
    for block in blocks:
        if isinstance(block, Element):
            symbol = block.kind.symbol
            if symbol == 'R':
                classified.append(('series_r', block, None))
            elif symbol == 'L':
                classified.append(('inductor', block, None))
            elif symbol in ('C', 'CPE', 'W', 'Wo', 'Ws'):
                classified.append(('tail', block, None))
            else:  # pragma: no cover - every kind is listed above
                classified.append(('other', block, None))
            continue
        if isinstance(block, Parallel) and len(block.children) == 2:
            cap = [c for c in block.children if isinstance(c, Element) and c.kind.symbol in ('C', 'CPE')]
            rest = [c for c in block.children if c not in cap[:1]] if cap else []
            if cap and rest:
                branch = rest[0]
                head = branch.children[0] if isinstance(branch, Series) else branch
                if isinstance(head, Element) and head.kind.symbol == 'R':
                    extras = list(branch.children[1:]) if isinstance(branch, Series) else []
                    classified.append(('arc', block, (head, cap[0], extras)))
                    continue
        classified.append(('other', block, None))
    return classified


def _hf_crossing(s: _Spectrum) -> tuple[float, int] | None:
    """Re Z where -Im Z turns from <= 0 to > 0, searching from the high-frequency end."""
    if s.zi[0] > 0:
        return None
    for i in range(1, s.n):
        if s.zi[i] > 0:
            a, b = s.zi[i - 1], s.zi[i]
            t = 0.0 if b == a else -a / (b - a)
            return float(s.zr[i - 1] + t * (s.zr[i] - s.zr[i - 1])), i
    return None


def _arc_positions(s: _Spectrum, start: int, n_arcs: int, has_tail: bool) -> list[list[tuple[int | None, float]]]:
    """Candidate apex lists for ``n_arcs`` arcs, highest frequency first.

    Each apex is ``(index or None, omega_apex)``. The first list is the primary guess. Other lists
    are alternative starts: other placements of arcs without a visible maximum, and, when a weak
    maximum (score under 20 % of the best) was used, the placement without it.
    """
    found = [(i, p) for i, p in _peaks(s.zi) if i >= start]
    candidates = _place(s, start, n_arcs, has_tail, found)
    best = max((p for _, p in found), default=0.0)
    strong = [(i, p) for i, p in found if p >= 0.2 * best]
    ranked = sorted(found, key=lambda t: -t[1])[:n_arcs]
    if len(strong) < len(found) and any(p < 0.2 * best for _, p in ranked):
        for option in _place(s, start, n_arcs, has_tail, strong):
            if option not in candidates:
                candidates.append(option)
    return candidates


def _place(
    s: _Spectrum, start: int, n_arcs: int, has_tail: bool, found: list[tuple[int, float]]
) -> list[list[tuple[int | None, float]]]:
    zi = s.zi
    ranked = sorted(found, key=lambda t: -t[1])
    chosen = sorted(i for i, _ in ranked[:n_arcs])
    apexes: list[tuple[int | None, float]] = [(i, float(s.omega[i])) for i in chosen]
    first_apex = chosen[0] if chosen else None  # the visible maxima, before the edges add theirs
    last_apex = chosen[-1] if chosen else None
    # arcs whose apex lies outside the measured range: -Im Z still falling towards the high-frequency
    # end, or (without a tail element) still rising at the low-frequency end; the edge with the
    # larger -Im Z is used first
    first = start if start < s.n else s.n - 1
    edges = []
    if first + 1 < s.n and zi[first] > zi[first + 1] > 0 and (first_apex is None or first_apex > first + 1):
        edges.append((float(zi[first]), 'high'))
    if not has_tail and s.n > 2 and zi[-1] > zi[-2] > 0 and (last_apex is None or last_apex < s.n - 2):
        edges.append((float(zi[-1]), 'low'))
    for _, side in sorted(edges, reverse=True):
        if len(apexes) >= n_arcs:
            break
        if side == 'high':
            apexes.insert(0, (first, float(s.omega[first]) * 3.0))
        else:
            apexes.append((s.n - 1, float(s.omega[-1]) / 3.0))
    if len(apexes) >= n_arcs:
        return [apexes]
    if not apexes:
        grid = np.exp(np.linspace(np.log(s.omega[0]), np.log(s.omega[-1]), n_arcs + 2)[1:-1])
        return [[(None, float(w)) for w in grid]]

    # (a) in the widest stretch of frequency without an arc (e.g. a feature merged into a tail)
    gap_list = list(apexes)
    while len(gap_list) < n_arcs:
        omegas = [float(s.omega[0]) * 3.0] + [w for _, w in gap_list] + [float(s.omega[-1]) / 3.0]
        gaps = [np.log(omegas[k] / omegas[k + 1]) for k in range(len(omegas) - 1)]
        k = int(np.argmax(gaps))
        gap_list.insert(k, (None, float(np.sqrt(omegas[k] * omegas[k + 1]))))
    # (b) under the highest found arc, a factor 3 towards its broader shoulder (overlapping arcs)
    shoulder_list = list(apexes)
    done: set[float] = set()
    while len(shoulder_list) < n_arcs:
        real = [(k, i) for k, (i, w) in enumerate(shoulder_list) if i is not None and w not in done]
        if not real:
            real = [(k, i) for k, (i, _) in enumerate(shoulder_list) if i is not None]
        k, i = max(real, key=lambda t: zi[t[1]])
        w = shoulder_list[k][1]
        done.add(w)
        left = zi[i - 3] if i - 3 >= 0 else 0.0
        right = zi[i + 3] if i + 3 < s.n else 0.0
        if left > right:
            shoulder_list.insert(k, (None, w * 3.0))
        else:
            shoulder_list.insert(k + 1, (None, w / 3.0))
    return [gap_list] if shoulder_list == gap_list else [gap_list, shoulder_list]


def _nearest_index(s: _Spectrum, omega: float) -> int:
    return int(np.argmin(np.abs(np.log(s.omega / omega))))


def initial_guess(circuit: Circuit | str, frequency_hz: ArrayLike, z: ArrayLike) -> GuessResult:
    """Initial parameter values for ``circuit`` read from the spectrum (see the module docstring)."""
    if isinstance(circuit, str):
        circuit = Circuit(circuit)
    f = np.asarray(frequency_hz, dtype=float).ravel()
    zc = np.asarray(z, dtype=complex).ravel()
    order = np.argsort(-f)
    f = f[order]
    zc = zc[order]
    omega = 2.0 * np.pi * f
    s = _Spectrum(f, omega, np.array(zc.real), -zc.imag, np.abs(zc))
    blocks = _classify(circuit)
    arcs: list[_Arc] = [(kind, block, parts) for kind, block, parts in blocks if kind == 'arc' and parts is not None]
    tails: list[Element] = [block for kind, block, _ in blocks if kind == 'tail' and isinstance(block, Element)]
    for _, _, (_, _, extras) in arcs:
        tails.extend(e for e in extras if isinstance(e, Element) and e.kind.symbol in ('W', 'Wo', 'Ws', 'CPE', 'C'))
    crossing = _hf_crossing(s)
    start = crossing[1] if crossing else 0
    candidates = _arc_positions(s, start, len(arcs), bool(tails)) if arcs else [[]]
    results = [_values_for(circuit, s, blocks, arcs, tails, crossing, apexes) for apexes in candidates]
    values, rules = results[0]
    return GuessResult(values, rules, [v for v, _ in results[1:]])


def _tail_values(
    s: _Spectrum, tails: list[Element], tail_start: int, z_scale: float, put: Callable[[str, float, str], None]
) -> None:
    """Start values of the low-frequency tail elements (rule 4 of the module docstring)."""
    tail_idx = np.arange(tail_start, s.n)
    if tail_idx.size < 2:
        tail_idx = np.arange(max(s.n - 3, 0), s.n)
    tail_dre = max(float(s.zr[-1] - s.zr[tail_idx[0]]), 1e-3 * z_scale)
    last = slice(max(tail_idx[0], s.n - 5), s.n)
    w_last = float(s.omega[-1])
    zi_last = float(max(s.zi[-1], 1e-6 * z_scale))
    slope = None
    lw, lz = np.log(s.omega[last]), s.zi[last]
    if lw.size >= 2 and np.all(lz > 0):
        slope = float(np.polyfit(lw, np.log(lz), 1)[0])
    warburg_sigma = float(np.median(np.clip(s.zi[tail_idx], 1e-12, None) * np.sqrt(s.omega[tail_idx])))
    n_tail = max(len(tails), 1)
    for element in tails:
        symbol = element.kind.symbol
        name = element.name
        if symbol == 'CPE':
            alpha = 0.85 if slope is None else float(np.clip(-slope, 0.3, 1.0))
            put(f'{name}_alpha', alpha, 'spike slope: -d ln(-Im Z) / d ln omega over the last points')
            put(
                f'{name}_Q',
                n_tail * np.sin(alpha * np.pi / 2) / (zi_last * w_last**alpha),
                'Q = sin(alpha pi/2) / (-Im Z omega^alpha) at the lowest frequency',
            )
        elif symbol == 'C':
            put(name, n_tail / (w_last * zi_last), 'C = 1 / (omega (-Im Z)) at the lowest frequency')
        elif symbol == 'W':
            put(f'{name}_sigma', warburg_sigma / n_tail, 'sigma = median(-Im Z sqrt(omega)) over the tail')
        elif symbol == 'Wo':
            if slope is not None and slope < -0.7:
                r = 3.0 * tail_dre
                put(f'{name}_R', r, 'R = 3 x real extent of the capacitive tail')
                put(f'{name}_tau', r / (w_last * zi_last), 'tau = R / (omega (-Im Z)) at the lowest frequency')
            else:
                tau = 2.0 / w_last
                put(f'{name}_tau', tau, 'tau = 2 / omega_min (tail still diffusive)')
                put(f'{name}_R', warburg_sigma * np.sqrt(2.0 * tau), 'R = sigma sqrt(2 tau)')
        elif symbol == 'Ws':
            tail_zi = s.zi[tail_idx]
            j = int(np.argmax(tail_zi))
            if 0 < j < tail_idx.size - 1:
                put(f'{name}_tau', 2.54 / float(s.omega[tail_idx[j]]), 'tau = 2.54 / omega at the tail maximum')
                put(f'{name}_R', tail_dre + float(s.zi[-1]), 'R = real extent of the tail')
            else:
                tau = 2.0 / w_last
                put(f'{name}_tau', tau, 'tau = 2 / omega_min (no tail maximum)')
                put(f'{name}_R', max(warburg_sigma * np.sqrt(2.0 * tau), tail_dre), 'R = sigma sqrt(2 tau)')


def _values_for(
    circuit: Circuit,
    s: _Spectrum,
    blocks: list[_Block],
    arcs: list[_Arc],
    tails: list[Element],
    crossing: tuple[float, int] | None,
    apexes: list[tuple[int | None, float]],
) -> tuple[dict[str, float], dict[str, str]]:
    """Start values (and the rule behind each) for one placement of the arc apexes."""
    z_scale = float(np.median(s.zabs)) or 1.0
    w_mid = float(np.sqrt(s.omega[0] * s.omega[-1]))
    values: dict[str, float] = {}
    rules: dict[str, str] = {}

    def put(name: str, value: float, rule: str) -> None:
        values[name] = float(value)
        rules[name] = rule

    # valleys between consecutive apexes, and after the last apex
    valley_idx: list[int] = []
    apex_idx = [i if i is not None else _nearest_index(s, w) for i, w in apexes]
    for k in range(len(apexes)):
        lo = apex_idx[k]
        hi = apex_idx[k + 1] if k + 1 < len(apexes) else s.n - 1
        if hi <= lo:
            valley_idx.append(lo)
            continue
        valley_idx.append(lo + int(np.argmin(s.zi[lo : hi + 1])))

    if crossing is not None:
        r_hf = crossing[0]
        hf_rule = 'Re Z interpolated where -Im Z crosses zero at the high-frequency end'
    elif apexes and apexes[0][0] is not None and apex_idx[0] > 0 and valley_idx[0] > apex_idx[0]:
        r_hf = 2.0 * s.zr[apex_idx[0]] - s.zr[valley_idx[0]]
        hf_rule = 'first arc mirrored about its apex: 2 Re Z(apex) - Re Z(valley)'
    else:
        r_hf = s.zr[0] - max(s.zi[0], 0.0)
        hf_rule = 'Re Z - (-Im Z) at the highest frequency'
    r_hf = float(np.clip(r_hf, 0.0, max(float(np.min(s.zr)), 0.0)))

    series_r = [block for kind, block, _ in blocks if kind == 'series_r' and isinstance(block, Element)]
    for element in series_r:
        value = r_hf / len(series_r) if r_hf > 0 else 1e-3 * z_scale
        put(element.name, value, hf_rule if r_hf > 0 else 'high-frequency intercept ~ 0: 1e-3 median |Z|')

    # 3. arcs
    left_re = r_hf
    tail_start = 0
    for k, (_, block, (r_el, cap_el, _extras)) in enumerate(arcs):
        i_apex, w_apex = apexes[k]
        j_valley = valley_idx[k]
        right_re = float(s.zr[j_valley])
        is_last = k == len(arcs) - 1
        if is_last and not tails:
            # the arc closes on the real axis after the last point: extend by the remaining -Im Z
            right_re = float(s.zr[-1] + max(s.zi[-1], 0.0))
            j_valley = s.n - 1
        r_arc = right_re - left_re
        height = float(s.zi[i_apex]) if i_apex is not None else 0.0
        if r_arc <= 0:
            r_arc = max(2.0 * height, 0.1 * z_scale)
            r_rule = 'arc width not measurable: 2 x apex height'
        else:
            r_rule = 'real-axis span between the -Im Z minima flanking the arc apex'
        put(r_el.name, r_arc, r_rule)
        if cap_el.kind.symbol == 'CPE':
            alpha = 0.85 if height <= 0 else float(np.clip(4.0 / np.pi * np.arctan(2.0 * height / r_arc), 0.5, 1.0))
            put(f'{cap_el.name}_alpha', alpha, 'arc depression: (4/pi) arctan(2 apex height / R)')
            put(f'{cap_el.name}_Q', 1.0 / (r_arc * w_apex**alpha), 'Q = 1 / (R omega_apex^alpha)')
        else:
            put(cap_el.name, 1.0 / (r_arc * w_apex), 'C = 1 / (R omega_apex)')
        left_re = right_re
        tail_start = j_valley

    # 4. low-frequency tail
    _tail_values(s, tails, tail_start, z_scale, put)

    # 5. inductors and everything else
    for kind, block, _ in blocks:
        if kind == 'inductor' and isinstance(block, Element):
            if s.zi[0] < 0:
                put(block.name, -s.zi[0] / s.omega[0], 'L = Im Z / omega at the highest frequency')
            else:
                put(block.name, 1e-3 * s.zabs[0] / s.omega[0], 'no inductive part: L = 1e-3 |Z| / omega_max')
    for name in circuit.parameter_names:
        if name in values:
            continue
        i = circuit.index(name)
        unit = circuit.parameter_units[i]
        rule = 'scale value (element not in a recognised block)'
        if unit == 'ohm':
            put(name, 0.5 * z_scale, rule)
        elif unit == 'F':
            put(name, 1.0 / (w_mid * z_scale), rule)
        elif unit == 'H':
            put(name, 1e-3 * z_scale / s.omega[0], rule)
        elif unit == 'S s^alpha':
            put(name, 1.0 / (z_scale * w_mid**0.85), rule)
        elif unit == '1':
            put(name, 0.85, rule)
        elif unit == 'ohm s^-0.5':
            put(name, 0.5 * z_scale * np.sqrt(w_mid), rule)
        elif unit == 's':
            put(name, 1.0 / w_mid, rule)
        else:  # pragma: no cover - every unit is listed above
            put(name, 1.0, rule)

    # clip into the default bounds (strictly inside for positive parameters)
    for i, name in enumerate(circuit.parameter_names):
        low, high = circuit.default_bounds[i]
        v = values[name]
        if circuit.log_mask[i]:
            if not np.isfinite(v) or v <= 0:
                v = 1e-12 if circuit.parameter_units[i] != 'ohm' else 1e-3 * z_scale
        else:
            v = float(np.clip(v, low + 1e-3, high))
        values[name] = float(v)
    return {n: values[n] for n in circuit.parameter_names}, {n: rules[n] for n in circuit.parameter_names}
