"""The cycling summary: :func:`summarise_cycling` and its result, :class:`CyclingSummary`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.analysis.cycling import protocol
from aiida_ssb.analysis.cycling.conventions import CellFacts, ResolvedConventions, cell_facts, resolve_conventions
from aiida_ssb.analysis.cycling.flags import plausibility_flags
from aiida_ssb.analysis.cycling.headline import headline_numbers
from aiida_ssb.analysis.cycling.inputs import (
    CyclingError,
    _as_float,
    _check_masses,
    _check_time,
    _optional,
    _positive_or_none,
)
from aiida_ssb.analysis.cycling.quantities import add_capacity_fractions, add_soc_gaps
from aiida_ssb.analysis.cycling.segment import Segmentation, integrate_energy, segment_half_cycles
from aiida_ssb.analysis.cycling.settings import CE_CONVENTIONS, CyclingSettings
from aiida_ssb.analysis.cycling.tables import Counters, cycle_table, half_cycle_table, truncated_last_half_cycle

__all__ = ['CyclingSummary', 'summarise_cycling', 'summarise_measurement']

METHOD = 'aiida_ssb.analysis.cycling.summarise_cycling'


@dataclasses.dataclass
class CyclingSummary:
    """Result of :func:`summarise_cycling`.

    ``half_cycles`` and ``cycles`` are tables (dict of equally long 1-D numpy arrays, unit-suffixed column names;
    unknown entries are NaN). ``blocks`` lists the detected protocol blocks, ``rate_table`` the rate-capability
    table (empty when no rate test was found), ``headline`` the flat numbers returned by :meth:`to_dict`,
    ``conventions`` every choice that changes a number and where it came from, ``warnings`` anything the user
    should know (e.g. data in one direction only), ``flags`` the plausibility flags (see
    :mod:`aiida_ssb.analysis.cycling.flags`), ``parameters`` the settings used, and ``electrodes`` the
    summaries of the positive and the negative electrode of a three-electrode record (each against the
    reference electrode; empty otherwise).
    """

    half_cycles: dict[str, np.ndarray]
    cycles: dict[str, np.ndarray]
    blocks: list[dict[str, Any]]
    rate_table: dict[str, np.ndarray]
    headline: dict[str, Any]
    conventions: dict[str, Any]
    warnings: list[str]
    flags: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    electrodes: dict[str, CyclingSummary] = dataclasses.field(default_factory=dict)

    @property
    def n_cycles(self) -> int:
        return int(self.cycles['cycle'].size)

    @property
    def n_half_cycles(self) -> int:
        return int(self.half_cycles['half_cycle'].size)

    def to_dict(self) -> dict[str, Any]:
        """Flat, JSON-serialisable headline numbers (unit-suffixed keys; unknown values are absent), with
        ``conventions``, ``blocks``, ``flags``, ``parameters``, ``warnings`` and, for a three-electrode record,
        ``electrodes`` (the headline numbers of each electrode)."""
        out = dict(self.headline)
        out['conventions'] = dict(self.conventions)
        out['blocks'] = [dict(block) for block in self.blocks]
        out['flags'] = [dict(item) for item in self.flags]
        if self.parameters:
            out['parameters'] = dict(self.parameters)
        if self.warnings:
            out['warnings'] = list(self.warnings)
        if self.electrodes:
            out['electrodes'] = {
                name: dict(summary.headline, conventions=dict(summary.conventions))
                for name, summary in self.electrodes.items()
            }
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """All tables as one flat dict: ``half_cycle__<column>``, ``cycle__<column>``, ``rate__<column>``, and for
        each electrode of a three-electrode record ``<electrode>__half_cycle__<column>`` and
        ``<electrode>__cycle__<column>``."""
        out: dict[str, np.ndarray] = {}
        for prefix, table in (('half_cycle', self.half_cycles), ('cycle', self.cycles), ('rate', self.rate_table)):
            for name, values in table.items():
                out[f'{prefix}__{name}'] = values
        for electrode, summary in self.electrodes.items():
            for name, values in summary.arrays().items():
                if not name.startswith('rate__'):
                    out[f'{electrode}__{name}'] = values
        return out


@dataclasses.dataclass
class _Record:
    """The validated columns of a record, in the cell's sign convention."""

    t: np.ndarray
    v: np.ndarray
    i: np.ndarray
    counters: Counters
    step_index: np.ndarray | None
    control_mode: np.ndarray | None
    potentials: dict[str, np.ndarray]
    three_electrode: dict[str, Any]


def _read_record(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    optional: Mapping[str, Any],
    counter_voltage_v: Any,
    cell_voltage_v: Any,
    working_electrode: str,
) -> _Record:
    t = _as_float('time_s', time_s, None)
    n = t.size
    if n < 2:
        raise CyclingError(f'time_s: at least 2 rows are needed, got {n}')
    v = _as_float('voltage_v', voltage_v, n)
    i = _as_float('current_ma', current_ma, n)
    _check_time(t)
    columns = {name: _optional(name, values, n) for name, values in optional.items()}
    counters = Counters(**{k: v for k, v in columns.items() if k not in ('step_index', 'control_mode')})
    potentials: dict[str, np.ndarray] = {}
    three: dict[str, Any] = {}
    if counter_voltage_v is not None:
        ece = _as_float('counter_voltage_v', counter_voltage_v, n)
        measured = None if cell_voltage_v is None else _as_float('cell_voltage_v', cell_voltage_v, n)
        if working_electrode == 'positive':
            potentials = {'positive': v, 'negative': ece}
            cell = measured if measured is not None else v - ece
        else:
            potentials = {'positive': ece, 'negative': v}
            cell = -measured if measured is not None else ece - v
            i = -i  # oxidation at the working (negative) electrode is a discharge of the cell
        three = {
            'working_electrode': working_electrode,
            'full_cell_voltage': 'cell_voltage_v column' if measured is not None else 'Ewe - Ece',
            'positive_potential': 'Ewe' if working_electrode == 'positive' else 'Ece',
            'negative_potential': 'Ece' if working_electrode == 'positive' else 'Ewe',
        }
        v = cell
    return _Record(t, v, i, counters, columns.get('step_index'), columns.get('control_mode'), potentials, three)


@dataclasses.dataclass
class _Parts:
    half: dict[str, np.ndarray]
    cycles: dict[str, np.ndarray]
    blocks: list[dict[str, Any]]
    rate_table: dict[str, np.ndarray]
    reference_cycle: int | None
    reference_reason: str
    pairing: float | None
    warnings: list[str]
    instrument_deviation: float | None


def _instrument_check(half: dict[str, np.ndarray], warnings: list[str]) -> float | None:
    """The largest deviation (%) of the integrated capacity from the instrument's counter, with a warning > 1 %."""
    if 'capacity_instrument_mah' not in half:
        return None
    with np.errstate(divide='ignore', invalid='ignore'):
        deviation = np.abs(half['capacity_mah'] / half['capacity_instrument_mah'] - 1.0)
    deviation[~np.isfinite(deviation)] = 0.0
    worst = int(np.argmax(deviation))
    if deviation[worst] > 0.01:
        warnings.append(
            f'the integrated capacity differs from the instrument counter by up to {100 * deviation[worst]:.1f} % '
            f'(half cycle {worst + 1}): the sampling is too coarse for how fast the current changes; '
            'capacity_instrument_mah is likely the better number there'
        )
    return 100.0 * float(deviation[worst])


def _no_complete_cycle(half: dict[str, np.ndarray]) -> str:
    directions = {int(x) for x in half['direction']}
    if directions == {1}:
        return 'only charge half cycles: no complete cycle, so no CE, efficiency or retention'
    if directions == {-1}:
        return 'only discharge half cycles: no complete cycle, so no CE, efficiency or retention'
    return 'no complete cycle (a cycle needs one charge and one discharge half cycle)'


def _summarise_main(
    seg: Segmentation,
    rec: _Record,
    masses: dict[str, float],
    area: float | None,
    one_c: float | None,
    s: CyclingSettings,
    conv: ResolvedConventions,
) -> _Parts:
    warnings = list(seg.notes)
    half = half_cycle_table(seg, rec.t, rec.v, masses, area, one_c, rec.counters)
    deviation = _instrument_check(half, warnings)
    truncated = truncated_last_half_cycle(half, s.cutoff_tolerance_v)
    half['truncated'] = np.zeros(half['half_cycle'].size, dtype=np.int64)
    if truncated is not None:
        half['truncated'][-1] = 1
        warnings.append(truncated)
    numerator, _ = CE_CONVENTIONS[conv.ce_convention]
    cycles, pairing = cycle_table(half, conv.first_half, conv.ce_convention, masses, area, one_c)
    add_soc_gaps(half, cycles, seg, seg.voltage_c, s.overpotential_soc_percent, s.plateau_soc_window_percent)
    add_capacity_fractions(half, seg, seg.voltage_c, s.voltage_thresholds_v)
    if not cycles['complete'].any():
        warnings.append(_no_complete_cycle(half))
    rate_values = cycles.get(f'{numerator}_c_rate') if one_c is not None else None
    if rate_values is None:
        rate_values = cycles[f'{numerator}_current_ma']
    blocks, _runs, formation = protocol.detect_blocks(
        cycles,
        rate_values,
        rate_is_c=one_c is not None,
        formation_cycles=s.formation_cycles,
        rate_tolerance=s.rate_tolerance,
        max_formation_cycles=s.max_formation_cycles,
        rate_step_cycles=s.rate_step_cycles,
        long_term_min_cycles=s.long_term_min_cycles,
        cutoff_tolerance_v=s.cutoff_tolerance_v,
        forced_rate_test=s.rate_test,
    )
    reference_cycle, reason = protocol.choose_reference(
        s.reference_rule(), cycles, blocks, formation, one_c, s.rate_tolerance, numerator
    )
    protocol.add_retention(cycles, reference_cycle, numerator)
    rate = protocol.rate_table(cycles, blocks, numerator, masses, one_c)
    if pairing is not None and pairing < 0.5:
        other = 'discharge' if conv.first_half == 'charge' else 'charge'
        warnings.append(
            f'only {pairing:.0%} of the cycles have both halves in one instrument cycle: the instrument '
            f"pairs differently; consider first_half='{other}'"
        )
    return _Parts(half, cycles, blocks, rate, reference_cycle, reason, pairing, warnings, deviation)


def _electrode_summary(
    name: str,
    potential: np.ndarray,
    seg: Segmentation,
    rec: _Record,
    main: _Parts,
    masses: dict[str, float],
    area: float | None,
    one_c: float | None,
    s: CyclingSettings,
    conv: ResolvedConventions,
) -> CyclingSummary:
    """One electrode of a three-electrode record: the same half cycles, its potential against the reference."""
    voltage_c, de_c = integrate_energy(seg, potential)
    own = dataclasses.replace(seg, voltage_c=voltage_c, de_c=de_c)
    counters = Counters(
        half_cycle_index=rec.counters.half_cycle_index,
        cycle_index=rec.counters.cycle_index,
        charge_capacity_mah=rec.counters.charge_capacity_mah,
        discharge_capacity_mah=rec.counters.discharge_capacity_mah,
    )
    half = half_cycle_table(own, rec.t, potential, masses, area, one_c, counters)
    half['truncated'] = main.half['truncated'].copy()
    cycles, _ = cycle_table(half, conv.first_half, conv.ce_convention, masses, area, one_c)
    add_soc_gaps(half, cycles, own, voltage_c, s.overpotential_soc_percent, s.plateau_soc_window_percent)
    add_capacity_fractions(half, own, voltage_c, s.voltage_thresholds_v)
    numerator, _ = CE_CONVENTIONS[conv.ce_convention]
    protocol.add_retention(cycles, main.reference_cycle, numerator)
    headline = headline_numbers(
        half,
        cycles,
        main.blocks,
        {},
        numerator=numerator,
        bases=list(masses),
        reference_cycle=main.reference_cycle,
        reference_reason=main.reference_reason,
        settings=s,
        pairing_agreement=None,
    )
    conventions = {
        'electrode': name,
        'potential': f'{rec.three_electrode[f"{name}_potential"]} against the reference electrode',
        'halves': 'named as the cell: charge and discharge of the full cell',
    }
    return CyclingSummary(half, cycles, main.blocks, {}, headline, conventions, [])


def _inputs_from_cell(
    masses_mg: Mapping[str, float] | None,
    area_cm2: float | None,
    one_c_ma: float | None,
    facts: CellFacts,
    s: CyclingSettings,
    conv: ResolvedConventions,
) -> tuple[dict[str, float], dict[str, str], float | None, float | None]:
    """Masses, area and 1C current: as given, else from the cell record (by the resolved conventions)."""
    missing: dict[str, str] = {}
    if masses_mg is None and facts.kind != 'unknown':
        masses_mg, missing = facts.masses_mg(s.mass_bases, conv.capacity_electrode)
    masses = _check_masses(masses_mg)
    if area_cm2 is None:
        area_cm2 = facts.values.get('electrode_area_cm2')
    if one_c_ma is None:
        one_c_ma = facts.electrode_value(conv.c_rate_electrode, 'one_c_current_ma')
    return masses, missing, _positive_or_none('area_cm2', area_cm2), _positive_or_none('one_c_ma', one_c_ma)


def _conventions(
    s: CyclingSettings,
    conv: ResolvedConventions,
    facts: CellFacts,
    seg: Segmentation,
    masses: dict[str, float],
    missing: dict[str, str],
    area: float | None,
    one_c: float | None,
    rec: _Record,
) -> dict[str, Any]:
    numerator, _ = CE_CONVENTIONS[conv.ce_convention]
    out = conv.describe(facts)
    out.update(
        {
            'retention_half': numerator,
            'reference_rule': protocol.describe_rule(s.reference_rule()),
            'integration': s.integration,
            'rest_current_ma': seg.rest_current_ma,
            'cv_detection': seg.cv_source,
            'cycle_numbering': 'cycle 0 holds half cycles before the first opening half cycle; complete cycles from 1',
            'cycles_to_threshold_rule': 'first cycle after the reference below x %, with 2 of 3 consecutive cycles '
            'below',
            'overpotential_rule': 'half of |V_charge(s) - V_discharge(1 - s)| at matched state of charge s of each '
            'half cycle capacity',
        }
    )
    if masses:
        out['masses_mg'] = dict(masses)
    if missing:
        out['mass_bases_missing'] = dict(missing)
    if area is not None:
        out['area_cm2'] = area
        rule = facts.values.get('electrode_area_rule')
        if rule:
            out['area_rule'] = rule
    if one_c is not None:
        out['one_c_ma'] = one_c
    if rec.three_electrode:
        out['three_electrode'] = dict(rec.three_electrode)
    return out


def summarise_cycling(
    time_s: Any,
    voltage_v: Any,
    current_ma: Any,
    *,
    cycle_index: Any = None,
    half_cycle_index: Any = None,
    step_index: Any = None,
    control_mode: Any = None,
    charge_capacity_mah: Any = None,
    discharge_capacity_mah: Any = None,
    charge_energy_mwh: Any = None,
    discharge_energy_mwh: Any = None,
    counter_voltage_v: Any = None,
    cell_voltage_v: Any = None,
    exclude: Any = None,
    masses_mg: Mapping[str, float] | None = None,
    area_cm2: float | None = None,
    one_c_ma: float | None = None,
    cell: CellFacts | Mapping[str, Any] | None = None,
    settings: CyclingSettings | Mapping[str, Any] | None = None,
    **overrides: Any,
) -> CyclingSummary:
    """Summarise a galvanostatic cycling record.

    :param time_s: time of each row (s), non-decreasing.
    :param voltage_v: cell voltage (V), or the working electrode's potential Ewe of a three-electrode record;
        NaN rows (e.g. embedded impedance points) are excluded.
    :param current_ma: current (mA), positive = oxidation at the working electrode (charge of a cathode).
    :param cycle_index: instrument cycle counter (optional): used to confirm splits across rests and to
        report ``instrument_cycle_index`` and the pairing agreement.
    :param half_cycle_index: instrument half-cycle counter (optional), used the same way; a counter that
        never changes is ignored.
    :param step_index: instrument step counter; needed only with the ``exclude_steps`` setting.
    :param control_mode: 1 galvanostatic, 2 potentiostatic (CV hold), 3 rest (EC-Lab convention).
    :param charge_capacity_mah: the instrument's own per-half-cycle charge counter; when given with
        ``discharge_capacity_mah``, each half cycle also reports ``capacity_instrument_mah`` (the counter's
        increments over exactly the rows integrated here).
    :param discharge_capacity_mah: the instrument's discharge counter (see above).
    :param charge_energy_mwh: the instrument's per-half-cycle charge energy counter (optional).
    :param discharge_energy_mwh: the instrument's discharge energy counter (optional).
    :param counter_voltage_v: the counter electrode's potential Ece against the reference electrode: given, the
        record is a three-electrode record; the full cell (Ewe - Ece, or ``cell_voltage_v``) is summarised, and
        the positive and the negative electrode each get their own summary (``electrodes``). Which electrode is
        the working one comes from the cell (``working_electrode``, default positive).
    :param cell_voltage_v: the recorded Ewe - Ece of a three-electrode record (optional).
    :param exclude: boolean mask of rows to leave out (e.g. impedance points written into the record).
    :param masses_mg: normalisation bases, name -> mass in mg, e.g. ``{'active': 1.4, 'composite': 2.0}``;
        gives ``*_mah_g_<name>`` and ``*_wh_kg_<name>`` columns. Default: the bases of the ``mass_bases`` setting,
        from the cell.
    :param area_cm2: electrode area (cm2) for areal capacity and current density (default: the cell's).
    :param one_c_ma: the 1C current (mA) for C-rates (default: the cell's, of the C-rate electrode).
    :param cell: the cell record (a :class:`~aiida_ssb.analysis.cycling.conventions.CellFacts` or the cell's
        attributes): its kind gives the ``auto`` conventions, its values the masses, area, 1C current and the
        plausibility checks.
    :param settings: a :class:`~aiida_ssb.analysis.cycling.settings.CyclingSettings` (or a mapping of its
        fields); ``overrides`` are applied on top.
    :raises CyclingError: for inconsistent or unusable input, with the field named.
    """
    s = CyclingSettings.resolve(settings, **overrides)
    facts = cell if isinstance(cell, CellFacts) else cell_facts(cell)
    conv = resolve_conventions(s, facts)
    optional = {
        'half_cycle_index': half_cycle_index,
        'cycle_index': cycle_index,
        'step_index': step_index,
        'control_mode': control_mode,
        'charge_capacity_mah': charge_capacity_mah,
        'discharge_capacity_mah': discharge_capacity_mah,
        'charge_energy_mwh': charge_energy_mwh,
        'discharge_energy_mwh': discharge_energy_mwh,
    }
    rec = _read_record(
        time_s, voltage_v, current_ma, optional, counter_voltage_v, cell_voltage_v, facts.working_electrode
    )
    masses, missing, area, one_c = _inputs_from_cell(masses_mg, area_cm2, one_c_ma, facts, s, conv)
    seg = segment_half_cycles(
        rec.t,
        rec.v,
        rec.i,
        half_cycle_index=rec.counters.half_cycle_index,
        cycle_index=rec.counters.cycle_index,
        control_mode=rec.control_mode,
        step_index=rec.step_index,
        exclude=exclude,
        exclude_steps=s.exclude_steps,
        rest_current_ma=s.rest_current_ma,
        min_half_cycle_fraction=s.min_half_cycle_fraction,
        cv_voltage_tolerance_v=s.cv_voltage_tolerance_v,
        cv_current_fraction=s.cv_current_fraction,
        integration=s.integration,
    )
    main = _summarise_main(seg, rec, masses, area, one_c, s, conv)
    numerator, _ = CE_CONVENTIONS[conv.ce_convention]
    headline = headline_numbers(
        main.half,
        main.cycles,
        main.blocks,
        main.rate_table,
        numerator=numerator,
        bases=list(masses),
        reference_cycle=main.reference_cycle,
        reference_reason=main.reference_reason,
        settings=s,
        pairing_agreement=main.pairing,
    )
    headline['method'] = METHOD
    if main.instrument_deviation is not None:
        headline['max_deviation_from_instrument_percent'] = main.instrument_deviation
    flags = plausibility_flags(
        half=main.half,
        cycles=main.cycles,
        headline=headline,
        facts=facts,
        settings=s,
        first_half=conv.first_half,
        first_half_source=conv.sources['first_half'],
        numerator=numerator,
        capacity_electrode=conv.capacity_electrode,
    )
    electrodes = {
        name: _electrode_summary(name, potential, seg, rec, main, masses, area, one_c, s, conv)
        for name, potential in rec.potentials.items()
    }
    return CyclingSummary(
        half_cycles=main.half,
        cycles=main.cycles,
        blocks=main.blocks,
        rate_table=main.rate_table,
        headline=headline,
        conventions=_conventions(s, conv, facts, seg, masses, missing, area, one_c, rec),
        warnings=main.warnings,
        flags=flags,
        parameters=s.parameters(),
        electrodes=electrodes,
    )


#: keyword of :func:`summarise_cycling` -> canonical column of a parsed measurement
MEASUREMENT_COLUMNS = {
    'cycle_index': 'cycle_index',
    'half_cycle_index': 'half_cycle_index',
    'step_index': 'step_index',
    'control_mode': 'control_mode',
    'charge_capacity_mah': 'charge_capacity_mah',
    'discharge_capacity_mah': 'discharge_capacity_mah',
    'charge_energy_mwh': 'charge_energy_mwh',
    'discharge_energy_mwh': 'discharge_energy_mwh',
}


def summarise_measurement(measurement: Any, **options: Any) -> CyclingSummary:
    """:func:`summarise_cycling` on a parsed measurement (anything with a ``columns`` mapping).

    The canonical columns ``time_s``, ``voltage_v`` and ``current_ma`` are required; the optional ones
    (cycle and half-cycle counters, step index, control mode, instrument capacity and energy counters) are
    passed on when present, unless ``options`` sets them explicitly. ``counter_voltage_v`` (Ece) and
    ``cell_voltage_v`` are passed on only when the cell (``cell=``) is a three-electrode cell: a two-electrode
    record may carry an Ece column that means nothing.

    :param measurement: an :class:`aiida_ssb.parsers.base.Measurement` (or a mapping of column arrays).
    :param options: keyword arguments of :func:`summarise_cycling` (data, ``cell``, ``settings`` and settings).
    :raises CyclingError: when a required column is missing, or for the reasons of :func:`summarise_cycling`.
    """
    columns = getattr(measurement, 'columns', measurement)
    missing = [name for name in ('time_s', 'voltage_v', 'current_ma') if name not in columns]
    if missing:
        raise CyclingError(f'measurement: missing column(s) {", ".join(missing)}; have {", ".join(sorted(columns))}')
    wanted = dict(MEASUREMENT_COLUMNS)
    cell = options.get('cell')
    facts = cell if isinstance(cell, CellFacts) else cell_facts(cell)
    if facts.kind == 'three_electrode_cell':
        wanted.update({'counter_voltage_v': 'counter_voltage_v', 'cell_voltage_v': 'cell_voltage_v'})
    for keyword, column in wanted.items():
        if keyword not in options and column in columns:
            options[keyword] = columns[column]
    return summarise_cycling(columns['time_s'], columns['voltage_v'], columns['current_ma'], **options)
