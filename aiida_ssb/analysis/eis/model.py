"""Which circuit fits a spectrum: the automatic choice among candidate circuits, explained and stored.

For every spectrum :func:`fit_spectrum` fits each circuit of a candidate family suited to the cell's format
(:func:`candidate_circuits`), scores the fits and chooses one:

* **information criterion** on the weighted residuals (``N = 2n`` real residuals of ``n`` frequencies, ``k``
  free parameters, ``RSS`` the weighted residual sum of squares; modulus weighting makes the residuals of
  proportional noise identically distributed):

  .. math::

     \\mathrm{BIC} = N \\ln(\\mathrm{RSS}/N) + k \\ln N, \\qquad
     \\mathrm{AICc} = N \\ln(\\mathrm{RSS}/N) + 2k + \\frac{2k(k+1)}{N-k-1};

* **residual structure**: a circuit that misses an arc leaves residuals that keep their sign over a range of
  frequencies, even when chi2 is small. Two one-sided tests on the relative residuals ordered by frequency,
  each on the real and imaginary parts combined by Stouffer's rule ``z = (z' + z'')/sqrt(2)``: the
  Wald-Wolfowitz runs test (``R`` runs of equal sign among ``n+`` positive and ``n-`` negative residuals,
  ``mu = 2 n+ n- / n + 1``, ``var = 2 n+ n- (2 n+ n- - n) / (n^2 (n - 1))``, ``z = (R - mu)/sqrt(var)``, too few
  runs is structure) and the lag-1 autocorrelation (``r1 = sum e_i e_(i+1) / sum e_i^2``, ``z = r1 sqrt(n)``,
  positive correlation is structure). The residuals are *structured* when the smaller one-sided p-value,
  doubled (Bonferroni), is below ``residual_alpha``;
* **degenerate fits** are not candidates: a free scale parameter at its resolvability bound, a CPE exponent
  below 0.35, two arcs within a factor 1.5 in characteristic frequency, or an arc whose resistance is below 0.5 % of
  ``|Z|`` at its characteristic frequency (clamped to the measured range): an arc the data do not contain; or a
  final arc whose apex lies more than a decade below the lowest frequency (a series CPE in disguise).

The chosen circuit is the one with the lowest criterion among the candidates that converged, are not
degenerate and whose residuals are not structured (the one with the fewest parameters among those within 2 of
the lowest: such differences are not evidence); when none qualifies the best non-degenerate one is chosen
and flagged.

**The DRT as evidence for the number of arcs** (:func:`weigh_drt`). The distribution of relaxation times
(:mod:`~aiida_ssb.analysis.eis.drt`) of the spectrum is computed before the choice. Its peaks are compared with
the candidates' arcs in a window of frequencies ``[f_lo, f_hi]``: the measured window widened by half a decade on
each side, starting above the onset of the blocking element when the DRT models one (``f_lo`` at least the
highest frequency of the run of lowest frequencies where ``-Im Z > drt_tail_ratio (Re Z - min Re Z)``: there the
DRT places the misfit of that element in peaks that are not arcs). A local maximum of ``gamma`` in that window
counts as an arc when it holds at least ``drt_min_fraction`` of the resistance of the maxima there and its
prominence (height above the higher flanking minimum over height) is at least ``drt_min_prominence``; taken by
decreasing resistance, a peak within ``drt_min_separation_decades`` of one already counted is part of it (the
satellite lobes of a depressed arc). Peaks and arcs (at their characteristic frequencies) are counted as a range:
at least those half a decade inside the window's ends, at most those within half a decade outside them; the DRT's
range reaches up to the count with ``drt_maybe_fraction`` in place of ``drt_min_fraction`` (small peaks may be
arcs). When the
DRT's range and the chosen circuit's overlap, they **agree**. Otherwise the DRT's number of arcs is the end of its
range nearest the circuit's, and among the admissible candidates (converged, not degenerate, unstructured
residuals) with another number of arcs in all whose range holds it the best is taken (the simplest within 2 of
its lowest criterion): when its
criterion exceeds the chosen one's by at most ``drt_margin`` (the criterion cannot tell them apart) it is chosen
instead and the reason says so (**changed**; with ``drt_decides`` false it is only flagged); when it exceeds it by
more, the criterion's choice is kept and flagged ``drt_disagrees`` (**disagrees**); with no such candidate the
difference is noted (**no_candidate**).

A circuit can be **pinned**: ``circuit`` for every spectrum, or ``circuits`` by selector for some spectra
(``'cycle_index=0'``, ``'upper_cutoff_v>=4.2'``, ``'temperature_c<0'``, ``'label=FC-01 PEIS 3'``,
``'state=initial OCV'``; the first matching selector wins). A pinned circuit is fitted as given; the family
is fitted beside it, and the pinned fit is flagged ``pinned_circuit_rejected`` when its residuals are
structured while a candidate's are not, or when a candidate's criterion is lower by more than
``evidence_margin`` (10 is "very strong" evidence for BIC, Kass and Raftery 1995).

Roles come from :func:`~aiida_ssb.analysis.eis.roles.assign_roles` (given roles win). A fit is **rejected**
(``accepted`` false) when the optimiser failed or ``chi2/|Z|`` exceeds ``max_chi2_over_z``; it is
**flagged** when it is accepted but carries a flag.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeGuard

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, field_validator

from aiida_ssb.analysis.eis.circuit import Circuit
from aiida_ssb.analysis.eis.drt import WINDOW_WIDENING, DrtResult, compute_drt, tail_onset_hz
from aiida_ssb.analysis.eis.evidence import (
    DRT_MARGIN,
    DRT_MAYBE_FRACTION,
    DRT_MIN_FRACTION,
    DRT_MIN_PROMINENCE,
    DRT_MIN_SEPARATION_DECADES,
    DRT_TAIL_RATIO,
    _count_in,
    _score,
    information_criteria,
    residual_structure,
    select_circuit,
    weigh_drt,
)
from aiida_ssb.analysis.eis.fit import EisFitResult, FitSettings, fit_circuit, prepare_spectrum
from aiida_ssb.analysis.eis.roles import RoleAssignment, assign_roles
from aiida_ssb.exceptions import AnalysisError, SettingsError

__all__ = [
    'CELL_FAMILY',
    'PELLET_FAMILY',
    'EisFitSettings',
    'SpectrumFit',
    'candidate_circuits',
    'fit_spectrum',
    'information_criteria',
    'residual_structure',
    'select_circuit',
    'weigh_drt',
]

#: blocking pellet: 0-3 arcs, with or without a series resistance, with or without the electrode element
PELLET_FAMILY: tuple[str, ...] = (
    'R0-CPE1',
    'p(R1,CPE1)',
    'p(R1,CPE1)-CPE2',
    'R0-p(R1,CPE1)',
    'R0-p(R1,CPE1)-CPE2',
    'p(R1,CPE1)-p(R2,CPE2)',
    'p(R1,CPE1)-p(R2,CPE2)-CPE3',
    'R0-p(R1,CPE1)-p(R2,CPE2)',
    'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3',
    'p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)',
    'p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-CPE4',
    'R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)',
    'R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-CPE4',
)
#: symmetric, half, full and three-electrode cells: R0 and 1-3 arcs, with or without a low-frequency CPE
#: (a blocking electrode, or diffusion: alpha = 0.5 is a semi-infinite Warburg element)
CELL_FAMILY: tuple[str, ...] = (
    'R0-p(R1,CPE1)',
    'R0-p(R1,CPE1)-CPE2',
    'R0-p(R1,CPE1)-p(R2,CPE2)',
    'R0-p(R1,CPE1)-p(R2,CPE2)-CPE3',
    'R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)',
    'R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-CPE4',
)


#: most circuits pinned by selector (a manifest is a list of choices, not a program)
MAX_PINNED = 50


#: how many candidates (the best after screening) are fitted again with the full settings
REFINED = 3


_FLAG_TEXT = {
    'residual_structure': 'the residuals keep their sign over ranges of frequency: an arc or element is missing',
    'no_admissible_candidate': 'no candidate circuit converged without degeneracy and structure',
    'pinned_circuit_rejected': 'the evidence rejects the pinned circuit',
    'parameters_at_bounds': 'parameters at their resolvability bounds: the data do not determine them',
    'drt_disagrees': 'the DRT shows another number of arcs than the chosen circuit',
}


def candidate_circuits(cell_format: str | None) -> tuple[str, ...]:
    """The candidate family of a cell format (a blocking pellet's when the format is unknown)."""
    return PELLET_FAMILY if cell_format in (None, 'blocking_pellet') else CELL_FAMILY


class EisFitSettings(FitSettings):
    """Settings of the impedance analysis ``eis_fit``: which circuit (chosen per spectrum, or pinned), how the
    choice is made and when a fit is accepted, plus the fit settings of :class:`FitSettings`."""

    circuit: str = Field(
        'auto',
        description='auto: chosen per spectrum from the candidate family; or a circuit pinned for every spectrum',
    )
    circuits: dict[str, str] = Field(
        {},
        description='circuits pinned for some spectra by selector, e.g. {"cycle_index=0": "R0-p(R1,CPE1)-CPE2", '
        '"label=...": ...}; the first matching selector wins over circuit',
    )
    candidates: tuple[str, ...] | None = Field(
        None, description='the candidate family (default: by the cell format, see the docs)'
    )
    criterion: Literal['bic', 'aicc'] = Field('bic', description='information criterion of the choice')
    residual_alpha: float = Field(
        1e-3, gt=0, lt=0.5, description='residuals are structured below this p-value (runs and autocorrelation)'
    )
    evidence_margin: float = Field(
        10.0, ge=0, description='criterion difference by which a candidate must beat a pinned circuit to reject it'
    )
    compare_pinned: bool = Field(True, description='fit the candidate family beside a pinned circuit, as evidence')
    drt_evidence: bool = Field(True, description='compute the DRT of each spectrum as evidence for the number of arcs')
    drt_decides: bool = Field(
        True,
        description='choose the candidate with the number of arcs the DRT shows when its criterion is within '
        'drt_margin of the chosen one (false: only flag the disagreement)',
    )
    drt_margin: float = Field(
        DRT_MARGIN,
        ge=0,
        description='criterion difference within which the DRT decides the number of arcs; beyond it a disagreement '
        'is flagged drt_disagrees',
    )
    drt_min_fraction: float = Field(
        DRT_MIN_FRACTION,
        gt=0,
        lt=1,
        description='a DRT peak counts as an arc when it holds this fraction of the resistance of the peaks compared',
    )
    drt_maybe_fraction: float = Field(
        DRT_MAYBE_FRACTION,
        gt=0,
        lt=1,
        description='DRT peaks holding between this fraction and drt_min_fraction may or may not be arcs',
    )
    drt_min_prominence: float = Field(
        DRT_MIN_PROMINENCE,
        gt=0,
        le=1,
        description='a DRT peak counts as an arc when it rises above the higher of its flanking minima by this '
        'fraction of its height',
    )
    drt_tail_ratio: float = Field(
        DRT_TAIL_RATIO,
        gt=0,
        description='below the frequency where -Im Z exceeds this times Re Z - R_s (the blocking element takes over) '
        'DRT peaks and arcs are not compared',
    )
    drt_min_separation_decades: float = Field(
        DRT_MIN_SEPARATION_DECADES,
        ge=0,
        le=3,
        description='DRT peaks closer than this in log10(tau) to a larger counted peak are one arc',
    )
    max_chi2_over_z: float = Field(0.02, gt=0, description='fits above this chi2/|Z| are rejected (not accepted)')

    @field_validator('circuit')
    @classmethod
    def _circuit(cls, value: str) -> str:
        if value != 'auto':
            Circuit(value)  # raises a CircuitSyntaxError naming the column
        return value

    @field_validator('circuits')
    @classmethod
    def _circuits(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_PINNED:
            raise ValueError(f'at most {MAX_PINNED} pinned circuits')
        for selector, circuit in value.items():
            parse_selector(selector)
            if len(circuit) > 500 or len(selector) > 200:
                raise ValueError('a circuit has at most 500 characters, a selector 200')
            Circuit(circuit)
        return value

    @field_validator('candidates')
    @classmethod
    def _candidates(cls, value: Any) -> Any:
        if value is not None:
            if not value:
                raise ValueError('candidates must list at least one circuit')
            for circuit in value:
                Circuit(circuit)
        return value

    def fit_settings(self) -> FitSettings:
        """The settings of each single fit (the fields of :class:`FitSettings`)."""
        return FitSettings.resolve({name: getattr(self, name) for name in FitSettings.model_fields})


# ------------------------------------------------------------------------------------------------ selectors

_SELECTOR = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|=|<|>)\s*(.+?)\s*$')


def parse_selector(selector: str) -> tuple[str, str, Any]:
    """``'cycle_index>=1'`` -> ``('cycle_index', '>=', 1.0)``; text values stay text."""
    match = _SELECTOR.match(selector)
    if not match:
        raise SettingsError(
            f'cannot read the selector {selector!r}: write LABEL OP VALUE, e.g. cycle_index=0 or upper_cutoff_v>=4.2'
        )
    key, op, raw = match.groups()
    try:
        value: Any = float(raw)
    except ValueError:
        value = raw.strip('"\'')
        if op not in ('=', '==', '!='):
            raise SettingsError(f'selector {selector!r}: {op} needs a number') from None
    return key, '==' if op == '=' else op, value


def selector_matches(selector: str, state: Mapping[str, Any]) -> bool:
    key, op, value = parse_selector(selector)
    actual = state.get(key)
    if actual is None:
        return False
    if isinstance(value, float):
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            return False
        return {
            '==': math.isclose(actual, value, rel_tol=1e-9, abs_tol=1e-9),
            '!=': not math.isclose(actual, value, rel_tol=1e-9, abs_tol=1e-9),
            '<': actual < value,
            '<=': actual <= value,
            '>': actual > value,
            '>=': actual >= value,
        }[op]
    equal: bool = str(actual) == value
    return equal == (op == '==')


# ----------------------------------------------------------------------------------------------- evidence


# ------------------------------------------------------------------------------------------------- result


@dataclasses.dataclass
class SpectrumFit:
    """The fit of one spectrum with the chosen (or pinned) circuit, why, the candidates, roles and flags."""

    fit: EisFitResult
    choice: str  # 'automatic', 'pinned', 'pinned_by_selector'
    selector: str | None
    reason: str
    candidates: list[dict[str, Any]]
    criterion: str
    residual: dict[str, Any]
    roles: RoleAssignment
    drt: DrtResult | None
    flags: list[dict[str, str]]
    accepted: bool
    rejection_reason: str | None
    parameters: dict[str, Any]
    notes: list[str] = dataclasses.field(default_factory=list)
    #: the DRT's number of arcs weighed against the choice (:func:`weigh_drt`), or None without the DRT
    drt_comparison: dict[str, Any] | None = None

    @property
    def quality(self) -> str:
        """``rejected``, ``flagged`` or ``good``."""
        if not self.accepted:
            return 'rejected'
        return 'flagged' if self.flags else 'good'

    @property
    def quality_reason(self) -> str:
        if not self.accepted:
            return self.rejection_reason or 'not accepted'
        return '; '.join(flag['reason'] for flag in self.flags)

    def to_dict(self) -> dict[str, Any]:
        out = self.fit.to_dict()
        out['parameters'] = dict(self.parameters)
        for key in [k for k in out if k.startswith('role_')]:
            del out[key]
        out.update(self.roles.to_dict())
        out.update(
            {
                'circuit_choice': self.choice,
                'choice_reason': self.reason,
                'criterion': self.criterion,
                'candidates': self.candidates,
                'residual_p': self.residual['p'],
                'residual_runs_z': self.residual['runs_z'],
                'residual_autocorrelation_z': self.residual['autocorrelation_z'],
                'residual_structured': self.residual['structured'],
                'flags': list(self.flags),
                'accepted': self.accepted,
                'quality': self.quality,
                'quality_reason': self.quality_reason,
                'n_arcs': len(self.roles.arcs),
            }
        )
        if self.notes:
            out['notes'] = list(self.notes)
        if self.selector is not None:
            out['circuit_selector'] = self.selector
        if self.drt is not None:
            out['drt_n_peaks'] = self.drt.n_peaks
            out['drt_peak_tau_s'] = [p.tau_s for p in self.drt.peaks if p.in_window]
            out['drt_lambda'] = self.drt.lambda_value
        if self.drt_comparison is not None:
            out['drt_comparison'] = dict(self.drt_comparison)
        if self.fit.covariance is not None:
            out['covariance_parameters'] = list(self.fit.free)
            out['covariance'] = [[float(v) for v in row] for row in self.fit.covariance]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        return self.fit.arrays()


# ------------------------------------------------------------------------------------------------- the path


def _pinned(s: EisFitSettings, state: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(circuit, selector)`` pinned for this spectrum, or ``(None, None)`` for the automatic choice."""
    for selector, circuit in s.circuits.items():
        if selector_matches(selector, state):
            return circuit, selector
    if s.circuit != 'auto':
        return s.circuit, None
    return None, None


def _fit_one(
    spec: str, f: np.ndarray, z: np.ndarray, fit_settings: FitSettings, s: EisFitSettings
) -> tuple[EisFitResult | None, dict[str, Any]]:
    try:
        fit = fit_circuit(spec, f, z, settings=fit_settings)
    except AnalysisError as exc:
        return None, {'circuit': spec, 'success': False, 'status': f'failed: {exc}', 'n_parameters': 0}
    return fit, _score(fit, s)


def _neighbours(spec: str, circuits: Iterable[str]) -> list[str]:
    """Candidates that differ from ``spec`` by the series resistance ``R0`` or by the final series element only:
    their shared element names mean the same elements, so one's values start the other."""
    blocks = spec.split('-')
    found = []
    for other in circuits:
        if other == spec:
            continue
        theirs = other.split('-')
        a, b = [x for x in blocks if x != 'R0'], [x for x in theirs if x != 'R0']
        if a == b or (a[:-1] == b and not a[-1].startswith('p(')) or (b[:-1] == a and not b[-1].startswith('p(')):
            found.append(other)
    return found


def _better(fit: EisFitResult | None, than: EisFitResult | None) -> TypeGuard[EisFitResult]:
    return fit is not None and (than is None or fit.weighted_rss < than.weighted_rss * (1 - 1e-9))


def _fit_many(
    circuits: Sequence[str], f: np.ndarray, z: np.ndarray, fit_settings: FitSettings, s: EisFitSettings
) -> tuple[dict[str, EisFitResult], list[dict[str, Any]]]:
    """Fit every candidate: a quick screening (one start, tolerance 1e-6, at most 100 evaluations or 10 per
    parameter), a warm pass (each candidate started again from its best better neighbour's solution: the same
    circuit with or without ``R0`` or the final element), then the :data:`REFINED` best by the criterion again with the
    full settings; the others keep their earlier scores."""
    fits: dict[str, EisFitResult] = {}
    scores: dict[str, dict[str, Any]] = {}
    for spec in circuits:
        cap = max(100, 10 * Circuit(spec).n_parameters)
        quick = fit_settings.model_copy(update={'n_starts': 1, 'tolerance': 1e-6, 'max_nfev': cap})
        fit, score = _fit_one(spec, f, z, quick, s)
        score['stage'] = 'screening'
        scores[spec] = score
        if fit is not None:
            fits[spec] = fit
    for spec in sorted(fits, key=lambda c: Circuit(c).n_parameters):
        better = [o for o in _neighbours(spec, list(fits)) if fits[o].weighted_rss < fits[spec].weighted_rss]
        for other in sorted(better, key=lambda o: fits[o].weighted_rss)[:1]:
            names = {e.name for e in Circuit(spec).elements}
            start = {k: v for k, v in fits[other].values.items() if k.split('_')[0] in names}
            warm = fit_settings.model_copy(update={'n_starts': 1, 'tolerance': 1e-6, 'initial': start})
            fit, score = _fit_one(spec, f, z, warm, s)
            if _better(fit, fits.get(spec)):
                score['stage'] = f'warm start from {other}'
                fits[spec], scores[spec] = fit, score
    ranked = sorted(fits, key=lambda spec: (scores[spec]['degenerate'] is not None, scores[spec][s.criterion]))
    for spec in ranked[:REFINED]:
        start = dict(fits[spec].values)
        full = fit_settings if fit_settings.initial is not None else fit_settings.model_copy(update={'initial': start})
        fit, score = _fit_one(spec, f, z, full, s)
        if _better(fit, fits[spec]) or (fit is not None and not fits[spec].success):
            score['stage'] = 'refined'
            fits[spec], scores[spec] = fit, score
        else:
            scores[spec]['stage'] += ', refined'
    return fits, [scores[spec] for spec in circuits]


def _roles_for(circuit: str, given: Mapping[str, str], pinned: bool) -> dict[str, str]:
    """User roles that apply to this circuit: all of them for a pinned circuit (checked by the fit), those naming
    its elements for a chosen one."""
    if pinned:
        return dict(given)
    names = {e.name for e in Circuit(circuit).elements}
    return {k: v for k, v in given.items() if k in names}


def fit_spectrum(
    frequency_hz: ArrayLike,
    z: ArrayLike | tuple[ArrayLike, ArrayLike],
    *,
    cell_format: str | None = None,
    state: Mapping[str, Any] | None = None,
    thickness_cm: float | None = None,
    area_cm2: float | None = None,
    settings: EisFitSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> SpectrumFit:
    """Fit a spectrum with the circuit chosen from the evidence, or pinned (see the module docstring).

    :param frequency_hz: frequencies in Hz.
    :param z: complex impedance (``Im Z < 0`` for arcs) or a ``(z_real_ohm, z_imag_ohm)`` tuple.
    :param cell_format: the cell's format: the candidate family and the role rules.
    :param state: the spectrum's conditions and labels (``temperature_c``, ``cycle_index``, ``label``...), for
        the ``circuits`` selectors.
    :param thickness_cm: electrolyte thickness, for the roles by capacitance.
    :param area_cm2: electrode area, for the roles by capacitance.
    :param settings: an :class:`EisFitSettings` or a mapping of its fields; ``overrides`` replace single fields.
    """
    s = EisFitSettings.resolve(settings, **overrides)
    fit_settings = s.fit_settings().model_copy(update={'roles': {}})
    f, zc = prepare_spectrum(frequency_hz, z, s.frequency_range_hz, min_points=4)
    pinned, selector = _pinned(s, state or {})
    family = tuple(s.candidates) if s.candidates else candidate_circuits(cell_format)
    flags: list[str] = []
    notes: list[str] = []
    drt, peak_hz, maybe_hz, window = None, None, [], (0.0, 0.0)
    if s.drt_evidence:
        try:
            drt = compute_drt(f, zc)
        except AnalysisError as exc:
            notes.append(f'no DRT: {exc}')
        else:
            window = _evidence_window(drt, f, zc, s)
            peak_hz, maybe_hz = (
                [
                    p.frequency_hz
                    for p in drt.resolved_peaks(fraction, s.drt_min_prominence, s.drt_min_separation_decades, window[0])
                ]
                for fraction in (s.drt_min_fraction, s.drt_maybe_fraction)
            )
    comparison = None
    if pinned is None:
        fits, scores = _fit_many(family, f, zc, fit_settings, s)
        index, reason, flags = select_circuit(scores, s.criterion)
        if peak_hz is not None:
            index, comparison = weigh_drt(
                scores, index, s.criterion, peak_hz, window, maybe_hz, margin=s.drt_margin, decides=s.drt_decides
            )
            if comparison['decision'] == 'changed':
                reason = f'{scores[index]["circuit"]}: {comparison["reason"]}'
            elif comparison['decision'] == 'disagrees':
                flags.append('drt_disagrees')
                notes.append(f'DRT disagrees: {comparison["reason"]}')
            elif comparison['decision'] == 'no_candidate':
                notes.append(comparison['reason'])
        chosen = fits[scores[index]['circuit']]
        choice = 'automatic'
    else:
        pinned_fit = fit_circuit(pinned, f, zc, settings=fit_settings.model_copy(update={'roles': dict(s.roles)}))
        pinned_score = _score(pinned_fit, s)
        pinned_score['status'] = 'pinned'
        scores = [pinned_score]
        reason = f'{pinned}: pinned' + (f' by selector {selector!r}' if selector else ' for every spectrum')
        if s.compare_pinned:
            _, others = _fit_many([c for c in family if c != pinned], f, zc, fit_settings, s)
            rejection = _pinned_rejection(pinned_score, others, s)
            if others:
                select_circuit(others, s.criterion)
            scores += others
            if rejection:
                flags.append('pinned_circuit_rejected')
                notes.append(rejection)
                reason += f'; {rejection}'
        if pinned_score['structured']:
            flags.append('residual_structure')
        chosen = pinned_fit
        choice = 'pinned_by_selector' if selector else 'pinned'
        if peak_hz is not None:
            peaks = (_count_in(peak_hz, window)[0], _count_in(maybe_hz, window)[1])
            own = _count_in(pinned_score['arc_frequencies_hz'], window)
            comparison = {'n_arcs_range': list(peaks), 'circuit_n_arcs_range': list(own), 'window_hz': list(window)}
            if max(peaks[0], own[0]) > min(peaks[1], own[1]):
                notes.append(
                    f'the DRT shows {peaks[0]}-{peaks[1]} arc(s) in the window, the pinned circuit {own[0]}-{own[1]}'
                )
    result = _finish(chosen, s, scores, choice, selector, reason, flags, notes, cell_format, thickness_cm, area_cm2)
    result.drt = drt
    result.drt_comparison = comparison
    return result


def _evidence_window(drt: DrtResult, f: np.ndarray, z: np.ndarray, s: EisFitSettings) -> tuple[float, float]:
    """The frequencies where DRT peaks and arcs are compared: the measured window widened by half a decade on each
    side, from above the onset of the blocking element (:func:`~aiida_ssb.analysis.eis.drt.tail_onset_hz`) when the
    DRT models one."""
    low = float(np.min(f)) / WINDOW_WIDENING
    if drt.tail_alpha is not None:
        onset = tail_onset_hz(f, z, s.drt_tail_ratio)
        if onset is not None:
            low = max(low, onset)
    return low, float(np.max(f)) * WINDOW_WIDENING


def _pinned_rejection(pinned: dict[str, Any], others: list[dict[str, Any]], s: EisFitSettings) -> str | None:
    good = [sc for sc in others if sc.get('success') and not sc['degenerate'] and not sc['structured']]
    if not good:
        return None
    best = min(good, key=lambda sc: sc[s.criterion])
    name = s.criterion.upper()
    if pinned['structured']:
        return (
            f'rejected by the evidence: its residuals are structured (p = {pinned["residual_p"]:.2g}) while those '
            f'of {best["circuit"]} are not'
        )
    if best[s.criterion] < pinned[s.criterion] - s.evidence_margin:
        return (
            f'rejected by the evidence: {best["circuit"]} has a {name} lower by '
            f'{pinned[s.criterion] - best[s.criterion]:.1f} (margin {s.evidence_margin:g})'
        )
    return None


def _finish(
    chosen: EisFitResult,
    s: EisFitSettings,
    scores: list[dict[str, Any]],
    choice: str,
    selector: str | None,
    reason: str,
    flags: list[str],
    notes: list[str],
    cell_format: str | None,
    thickness_cm: float | None,
    area_cm2: float | None,
) -> SpectrumFit:
    pinned = choice != 'automatic'
    roles = assign_roles(
        chosen.circuit,
        chosen.values,
        cell_format=cell_format,
        thickness_cm=thickness_cm,
        area_cm2=area_cm2,
        given=_roles_for(chosen.circuit, s.roles, pinned),
    )
    chosen.roles = dict(roles.roles)
    residual = residual_structure(chosen.residual_real_rel, chosen.residual_imag_rel, s.residual_alpha)
    scale_at_bounds = [
        n for n in chosen.at_bounds if Circuit(chosen.circuit).log_mask[Circuit(chosen.circuit).index(n)]
    ]
    if scale_at_bounds:
        flags.append('parameters_at_bounds')
        notes.append(f'{", ".join(scale_at_bounds)} at the resolvability bound')
    detail = {
        'residual_structure': f'residuals structured (runs z = {residual["runs_z"]:.1f}, autocorrelation z = '
        f'{residual["autocorrelation_z"]:.1f}, p = {residual["p"]:.2g})',
    }
    flag_list = []
    for name in dict.fromkeys(flags):
        text = detail.get(name) or next((n for n in notes if _matches(name, n)), _FLAG_TEXT[name])
        flag_list.append({'flag': name, 'reason': text})
    rejection = None
    if not chosen.success:
        rejection = f'the optimiser did not converge ({chosen.message})'
    elif chosen.chi2_over_z > s.max_chi2_over_z:
        rejection = f'chi2/|Z| = {chosen.chi2_over_z:.3g} above {s.max_chi2_over_z:g}'
    return SpectrumFit(
        fit=chosen,
        choice=choice,
        selector=selector,
        reason=reason,
        candidates=scores,
        criterion=s.criterion,
        residual=residual,
        roles=roles,
        drt=None,
        flags=flag_list,
        accepted=rejection is None,
        rejection_reason=rejection,
        parameters=s.parameters(),
        notes=notes,
    )


def _matches(flag: str, note: str) -> bool:
    return {
        'pinned_circuit_rejected': note.startswith('rejected by the evidence'),
        'parameters_at_bounds': note.endswith('resolvability bound'),
        'drt_disagrees': note.startswith('DRT disagrees'),
    }.get(flag, False)
