"""``summarise_cell``: one Dict of a cell's headline numbers, from the analysis summaries of its records.

Every headline number names its source (the uuid of the analysis summary it was taken from), so the
summary is a view on the provenance graph, not a second copy of the science. :data:`HEADLINE_FIELDS`
documents each number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiida import orm
from aiida.engine import calcfunction

from aiida_ssb.calculations.headline import HEADLINE_FIELDS

__all__ = ['HEADLINE_FIELDS', 'describe_conventions', 'headline_inputs', 'headline_numbers', 'summarise_cell']

#: headline field -> (analysis, summary key, rule to pick among several results: 'first' or 'last')
_ISSUE21_HEADLINES: dict[str, tuple[str, str]] = {
    'dqdv_charge_peak_v': ('dqdv', 'charge_peak_v'),
    'dqdv_discharge_peak_v': ('dqdv', 'discharge_peak_v'),
    'dqdv_peak_separation_v': ('dqdv', 'peak_separation_v'),
    'dqdv_charge_peak_shift_v': ('dqdv', 'charge_peak_shift_v'),
    'gitt_diffusion_coefficient_cm2_s': ('gitt', 'diffusion_coefficient_median_cm2_s'),
    'pitt_diffusion_coefficient_cm2_s': ('pitt', 'diffusion_coefficient_median_cm2_s'),
    'electronic_conductivity_s_cm': ('dc_polarisation', 'electronic_conductivity_s_cm'),
    'time_to_steady_state_h': ('dc_polarisation', 'time_to_steady_h'),
    'transference_number': ('transference_number', 'transference_number'),
    'dsc_onset_c': ('thermal', 'dsc_onset_c'),
    'dsc_peak_c': ('thermal', 'dsc_peak_c'),
    'dsc_peak_heat_flow_w_g': ('thermal', 'dsc_peak_heat_flow_w_g'),
    'dsc_exotherm_j_g': ('thermal', 'dsc_exotherm_j_g'),
    'tga_mass_loss_percent': ('thermal', 'tga_mass_loss_percent'),
    'lattice_a_angstrom': ('diffraction', 'lattice_a_angstrom'),
    'crystallite_size_nm': ('diffraction', 'crystallite_size_nm'),
    'xrd_main_phase': ('diffraction', 'main_phase'),
}


def _pick(summaries: list[dict], kind: str, key: str | None = None) -> dict | None:
    """The summary of an analysis kind with the most cycles/points (``key`` decides), latest on ties."""
    candidates = [s for s in summaries if s.get('analysis') == kind]
    if not candidates:
        return None
    if key:
        return max(candidates, key=lambda s: s.get(key) or 0)
    return candidates[-1]


def headline_numbers(summaries: list[dict]) -> dict[str, Any]:
    """The headline numbers of a cell from its analysis summaries (each with a ``uuid`` added)."""
    out: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def take(name: str, summary: Mapping | None, key: str) -> None:
        if summary is not None and summary.get(key) is not None:
            out[name] = summary[key]
            sources[name] = summary['uuid']

    cycling = _pick(summaries, 'cycling', 'n_cycles')
    if cycling is not None:
        take('n_cycles', cycling, 'n_cycles')
        take('initial_discharge_capacity_mah_g', cycling, 'initial_discharge_capacity_mah_g_active')
        take('initial_coulombic_efficiency_percent', cycling, 'initial_coulombic_efficiency_percent')
        take('reference_cycle', cycling, 'reference_cycle')
        take('reference_discharge_capacity_mah_g', cycling, 'reference_discharge_capacity_mah_g_active')
        for key in sorted(cycling):
            if key.startswith('capacity_retention_percent_at_cycle_'):
                take(key.replace('_at_cycle_', '_at_'), cycling, key)
            elif key.startswith('energy_retention_percent_at_cycle_'):
                take(key.replace('_at_cycle_', '_at_'), cycling, key)
        take('capacity_retention_percent_at_end', cycling, 'capacity_retention_percent_at_end')
        take('energy_retention_percent_at_end', cycling, 'energy_retention_percent_at_end')
        take('average_discharge_voltage_v', cycling, 'reference_average_discharge_voltage_v')
        take('specific_energy_wh_kg_active', cycling, 'reference_specific_energy_wh_kg_active')
        take('specific_energy_wh_kg_composite', cycling, 'reference_specific_energy_wh_kg_composite')
        take('cycles_to_80_percent', cycling, 'cycles_to_80_percent')
        take('rate_capability_percent', cycling, 'rate_capability_percent')
        take('upper_cutoff_v', cycling, 'max_upper_cutoff_v')
        for name in (
            'second_coulombic_efficiency_percent',
            'second_energy_efficiency_percent',
            'first_cycle_ce_above_99_percent',
            'initial_specific_energy_wh_kg_active',
            'initial_specific_energy_wh_kg_both_composites',
            'initial_plateau_overpotential_v',
            'end_plateau_overpotential_v',
            'np_ratio_measured',
        ):
            take(name, cycling, name)
        take('first_cycle_irreversible_capacity_mah_g', cycling, 'first_cycle_irreversible_capacity_mah_g_active')
        for basis in ('both_composites', 'stack', 'cell'):
            take(f'specific_energy_wh_kg_{basis}', cycling, f'reference_specific_energy_wh_kg_{basis}')
        conventions = cycling.get('conventions') or {}
        if conventions.get('cell_kind'):
            out['cycling_conventions'] = describe_conventions(conventions)
            sources['cycling_conventions'] = cycling['uuid']
    ccd = _pick(summaries, 'ccd', 'n_half_cycles')
    if ccd is not None:
        take('ccd_ma_cm2', ccd, 'sudden_drop_last_stable_ma_cm2')
        take('ccd_zero_volt_ma_cm2', ccd, 'zero_volt_failing_ma_cm2')
        take('ccd_asr_per_interface_ohm_cm2', ccd, 'initial_area_specific_resistance_per_interface_ohm_cm2')
        if 'ccd_ma_cm2' not in out and ccd.get('max_current_density_ma_cm2') is not None:
            out['ccd_not_reached_up_to_ma_cm2'] = ccd['max_current_density_ma_cm2']
            sources['ccd_not_reached_up_to_ma_cm2'] = ccd['uuid']
    onsets = [s for s in summaries if s.get('analysis') == 'onsets']
    oxidative = [s for s in onsets if s.get('oxidative_onset_v') is not None]
    reductive = [s for s in onsets if s.get('reductive_onset_v') is not None]
    if oxidative:
        slowest = min(oxidative, key=lambda s: s.get('scan_rate_mv_s') or float('inf'))
        take('oxidative_onset_v', slowest, 'oxidative_onset_v')
        take('oxidative_onset_band_low_v', slowest, 'oxidative_onset_band_low_v')
        take('oxidative_onset_band_high_v', slowest, 'oxidative_onset_band_high_v')
        take('onset_scan_rate_mv_s', slowest, 'scan_rate_mv_s')
    if reductive:
        take('reductive_onset_v', reductive[-1], 'reductive_onset_v')
    stepwise = _pick(summaries, 'stepwise_cv', 'n_steps')
    if stepwise is not None:
        take('soaring_cutoff_v', stepwise, 'soaring_cutoff_v')
    # conductivity at 25 degC: an Arrhenius regime containing 25 degC, else a spectrum at 25 +- 3 degC, else the
    # Arrhenius extrapolation (flagged)
    arrhenius = _pick(summaries, 'arrhenius', 'n_points')
    near = [
        s
        for s in summaries
        if s.get('analysis') == 'conductivity'
        and s.get('conductivity_s_cm') is not None
        and s.get('measurement_temperature_c') is not None
        and abs(s['measurement_temperature_c'] - 25.0) <= 3.0
    ]
    if arrhenius is not None:
        take('activation_energy_ev', arrhenius, 'activation_energy_ev')
    if arrhenius is not None and not arrhenius.get('reference_extrapolated', True):
        take('conductivity_25c_s_cm', arrhenius, 'conductivity_at_reference_s_cm')
        take('conductivity_25c_stderr_s_cm', arrhenius, 'conductivity_at_reference_stderr_s_cm')
    elif near:
        closest = min(near, key=lambda s: abs(s['measurement_temperature_c'] - 25.0))
        take('conductivity_25c_s_cm', closest, 'conductivity_s_cm')
    elif arrhenius is not None:
        take('conductivity_25c_s_cm', arrhenius, 'conductivity_at_reference_s_cm')
        take('conductivity_25c_stderr_s_cm', arrhenius, 'conductivity_at_reference_stderr_s_cm')
        out['conductivity_25c_extrapolated'] = True
    growth = _pick(summaries, 'interface_growth', 'n_points')
    if growth is not None:
        take('interface_growth_rate_ohm_cm2_per_sqrt_h', growth, 'rate_constant_ohm_cm2_per_sqrt_h')
        take('interface_resistance_last_ohm_cm2', growth, 'last_resistance_ohm_cm2')
    _impedance_intervals(summaries, out, take, sources)
    for name, (kind, key) in _ISSUE21_HEADLINES.items():
        # the latest result of that analysis holding the number (summaries arrive sorted by label)
        holding = [summary for summary in summaries if summary.get('analysis') == kind and summary.get(key) is not None]
        if holding:
            take(name, holding[-1], key)
    flags = [
        dict(item, source=f'{summary.get("analysis")} {summary.get("uuid", "")[:8]}')
        for summary in summaries
        for item in summary.get('flags') or []
        if isinstance(item, Mapping) and item.get('flag')
    ]
    if flags:
        out['flags'] = flags
    out['sources'] = sources
    return out


def _impedance_intervals(summaries: list[dict], out: dict[str, Any], take, sources: dict[str, str]) -> None:
    """The intervals of the impedance headline numbers, the cell-impedance resistances and the fits' quality."""
    arrhenius = _pick(summaries, 'arrhenius', 'n_points')
    if arrhenius is not None and out.get('activation_energy_ev') is not None:
        take('activation_energy_stderr_ev', arrhenius, 'activation_energy_stderr_ev')
        take('activation_energy_low_ev', arrhenius, 'activation_energy_low_ev')
        take('activation_energy_high_ev', arrhenius, 'activation_energy_high_ev')
        take('arrhenius_n_regimes', arrhenius, 'n_regimes')
    source = sources.get('conductivity_25c_s_cm')
    origin = next((s for s in summaries if s.get('uuid') == source), None) if source else None
    if origin is not None:
        if origin.get('analysis') == 'arrhenius':
            take('conductivity_25c_low_s_cm', origin, 'conductivity_at_reference_low_s_cm')
            take('conductivity_25c_high_s_cm', origin, 'conductivity_at_reference_high_s_cm')
        else:
            take('conductivity_25c_low_s_cm', origin, 'conductivity_low_s_cm')
            take('conductivity_25c_high_s_cm', origin, 'conductivity_high_s_cm')
            take('conductivity_25c_stderr_s_cm', origin, 'conductivity_stderr_s_cm')
    growth = _pick(summaries, 'interface_growth', 'n_points')
    if growth is not None:
        take('interface_growth_rate_stderr_ohm_cm2_per_sqrt_h', growth, 'rate_constant_stderr_ohm_cm2_per_sqrt_h')
        take('interface_growth_rate_low_ohm_cm2_per_sqrt_h', growth, 'rate_constant_low_ohm_cm2_per_sqrt_h')
        take('interface_growth_rate_high_ohm_cm2_per_sqrt_h', growth, 'rate_constant_high_ohm_cm2_per_sqrt_h')
    cell = _pick(summaries, 'cell_impedance')
    if cell is not None:
        take('electrolyte_resistance_ohm_cm2', cell, 'electrolyte_resistance_ohm_cm2')
        take('interface_resistance_ohm_cm2', cell, 'interface_resistance_ohm_cm2')
    fits = [s for s in summaries if s.get('analysis') == 'eis_fit' and s.get('quality')]
    if fits:
        flagged = [s for s in fits if s['quality'] == 'flagged']
        rejected = [s for s in fits if s['quality'] == 'rejected']
        out['eis_fits'] = len(fits)
        out['eis_fits_flagged'] = len(flagged)
        out['eis_fits_rejected'] = len(rejected)
        parts = []
        for word, group in (('rejected', rejected), ('flagged', flagged)):
            if group:
                reasons = sorted({flag['flag'] for s in group for flag in s.get('flags', [])} or {'not accepted'})
                if word == 'rejected':
                    reasons = sorted({(s.get('quality_reason') or 'not accepted').split(' (')[0] for s in group})
                parts.append(f'{len(group)} of {len(fits)} {word} ({", ".join(reasons)})')
        out['eis_fit_quality'] = '; '.join(parts) if parts else 'good'


def headline_inputs(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The labels (sorted) of the analysis summaries the cell summary reads, out of ``summaries`` (label ->
    summary contents with its ``uuid``): the source of every headline number, every summary carrying a flag,
    and every impedance fit (their quality is counted). The others (the DRT of an unflagged spectrum, the
    conductivity of a spectrum whose number the headline does not use) are left out, so the summary of a cell
    with many spectra links a fraction of them: aiida-core's cost of linking inputs grows with the square of
    their number. When the headline numbers of the subset differ from those of all summaries in any way, all
    labels are returned: the subset never changes a number."""
    labels = sorted(summaries)
    items = [dict(summaries[label]) for label in labels]
    full = headline_numbers(items)
    sources = set(full.get('sources', {}).values())
    kept = [
        label
        for label, item in zip(labels, items, strict=True)
        if item.get('uuid') in sources
        or item.get('analysis') == 'eis_fit'
        or any(isinstance(flag, Mapping) and flag.get('flag') for flag in item.get('flags') or [])
    ]
    if len(kept) < len(labels) and headline_numbers([dict(summaries[label]) for label in kept]) != full:
        return labels
    return kept


def describe_conventions(conventions: Mapping[str, Any]) -> str:
    """One line: how a cycling result was counted, each choice with where it came from."""
    sources = conventions.get('sources') or {}

    def origin(name: str) -> str:
        return 'option' if str(sources.get(name, '')).startswith('option') else 'cell'

    parts = [f'{conventions.get("cell_kind")}']
    parts.append(f'first half {conventions.get("first_half")} ({origin("first_half")})')
    numerator, _, denominator = str(conventions.get('ce_convention', '')).partition('_over_')
    parts.append(f'CE {numerator}/{denominator} ({origin("ce_convention")})')
    if conventions.get('capacity_electrode'):
        parts.append(f'per {conventions["capacity_electrode"]} active mass ({origin("capacity_electrode")})')
    if conventions.get('c_rate_electrode'):
        parts.append(f'C-rate of the {conventions["c_rate_electrode"]} electrode ({origin("c_rate_electrode")})')
    return '; '.join(parts)


#: analysis -> the headline field whose source names the record of ``<analysis>_record``
_RECORD_OF = {
    'cycling': 'n_cycles',
    'ccd': 'ccd_ma_cm2',
    'onsets': 'oxidative_onset_v',
    'conductivity': 'conductivity_25c_s_cm',
}


def headline_records(summaries: Iterable[orm.Dict], sources: Mapping[str, str]) -> dict[str, str]:
    """``{'cycling_record': 'FC-01_gcpl.mpr (gcpl; 25 °C)', ...}``: the record each family of headline numbers
    comes from (see :data:`HEADLINE_FIELDS`), found through the analysis that made the source summary (one
    query for all of them)."""
    by_uuid = {node.uuid: node for node in summaries}
    wanted: dict[int, str] = {}
    for analysis, field in _RECORD_OF.items():
        node = by_uuid.get(sources.get(field, ''))
        if node is None and analysis == 'ccd':
            node = by_uuid.get(sources.get('ccd_not_reached_up_to_ma_cm2', ''))
        if node is not None and node.pk is not None and node.base.attributes.get('analysis', None) == analysis:
            wanted[node.pk] = analysis
    if not wanted:
        return {}
    query = orm.QueryBuilder()
    query.append(orm.Dict, filters={'id': {'in': list(wanted)}}, project='id', tag='summary')
    query.append(orm.CalculationNode, with_outgoing='summary', edge_filters={'type': 'create'}, tag='analysis')
    query.append(
        orm.Data, with_outgoing='analysis', edge_filters={'label': {'in': ['measurement', 'spectrum']}}, project='*'
    )
    found = {}
    for pk, record in query.all():
        if hasattr(record, 'describe'):
            found[f'{wanted[pk]}_record'] = record.describe()
    return dict(sorted(found.items()))


@calcfunction
def summarise_cell(cell: orm.Data, **summaries: orm.Dict):
    """The headline numbers of ``cell`` from the given analysis summaries (see :data:`HEADLINE_FIELDS`); the
    cell analysis gives it those :func:`headline_inputs` selects. ``n_summaries`` counts the summaries given."""
    items = []
    for label, node in sorted(summaries.items()):
        data = node.get_dict()
        data['uuid'] = node.uuid
        items.append(data)
    result = headline_numbers(items)
    record_flags = [dict(item, source='cell record') for item in cell.base.attributes.get('flags', None) or []]
    if record_flags:
        result['flags'] = record_flags + result.get('flags', [])
    result.update(headline_records(summaries.values(), result.get('sources') or {}))
    result['sample_id'] = cell.base.attributes.get('sample_id', None)
    result['n_summaries'] = len(items)
    return {'summary': orm.Dict(result)}
