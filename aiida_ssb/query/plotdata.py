"""The data behind a sample's figures, as plain series any plotting library can draw.

The matplotlib figures of :mod:`aiida_ssb.plotting` and the interactive figures of the web page show the same
things: capacity, coulombic efficiency and retention against cycle, voltage profiles by cycle, Nyquist and
Bode plots with the fit and its residuals, Arrhenius plots with their regimes, voltammograms with the two
lines of each onset, critical-current-density tests. This module finds the measurements and analysis
results in the graph and returns :class:`PlotData` (panels of :class:`Series` and marker :class:`Line` s)
with axis labels and units, so that the names of the curves an analysis stores are read here, in one place,
and nowhere in the page code. Rejected fits are labelled ``rejected fit`` and drawn dotted, never as a fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiida import orm

from aiida_ssb.data.nodes import pk_of
from aiida_ssb.exceptions import InputError

__all__ = [
    'PLOT_KINDS',
    'Line',
    'Panel',
    'PlotData',
    'Series',
    'available_plots',
    'overlay',
    'plot_data',
    'spectra_of',
]


@dataclass
class Series:
    """One curve: ``mode`` is ``lines``, ``markers`` or ``lines+markers``; ``dash`` ``solid``/``dash``/``dot``."""

    name: str
    x: list[float | None]  # None: a gap (NaN in the data)
    y: list[float | None]
    mode: str = 'lines'
    dash: str = 'solid'
    secondary: bool = False
    group: str | None = None
    colour: int | None = None


@dataclass
class Line:
    """A marker line across a panel: vertical at ``x`` or horizontal at ``y``."""

    label: str
    x: float | None = None
    y: float | None = None
    colour: int | None = None


@dataclass
class Panel:
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_log: bool = False
    y_log: bool = False
    y2_label: str | None = None
    equal_aspect: bool = False
    height: float = 1.0


@dataclass
class PlotData:
    kind: str
    title: str
    panels: list[Panel]
    note: str = ''


#: plot kind -> what it shows
PLOT_KINDS: dict[str, str] = {
    'capacity': 'capacity, coulombic efficiency and retention against cycle',
    'profiles': 'voltage profiles by cycle',
    'nyquist': 'Nyquist plot with the fit',
    'bode': 'Bode plot with the fit and its residuals',
    'arrhenius': 'Arrhenius plot with the fitted regimes',
    'onsets': 'voltammogram with the two lines of each onset',
    'ccd': 'critical current density test',
}


def _list(values: Any) -> list[float | None]:
    array = np.asarray(values, dtype=float)
    return [None if not np.isfinite(v) else float(v) for v in array]  # JSON: NaN -> null (a gap)


def _arrays(node) -> dict[str, np.ndarray]:
    return {} if node is None else {name: node.get_array(name) for name in node.get_arraynames()}


def _results(sample_id: str, analysis: str):
    """The newest result of each record (the headline record's first), not every run's."""
    from aiida_ssb.query.results import results_by_record

    return results_by_record(_cell(sample_id), analysis)


def _record(result):
    from aiida_ssb.query.results import measured_record

    return measured_record(result)


def _cell(sample_id: str):
    from aiida_ssb.data.sample import load_sample

    return load_sample(sample_id)


def _count_results(sample_id: str) -> dict[str, int]:
    """analysis name -> number of summaries recorded for the sample."""
    query = orm.QueryBuilder().append(
        orm.Dict,
        filters={'attributes.sample_id': sample_id, 'attributes': {'has_key': 'analysis'}},
        project=['attributes.analysis'],
    )
    counts: dict[str, int] = {}
    for (analysis,) in query.iterall():
        if isinstance(analysis, str):
            counts[analysis] = counts.get(analysis, 0) + 1
    return counts


def spectra_of(sample_id: str) -> list[dict[str, Any]]:
    """The impedance spectra of a sample, in time order, each with its latest fit: ``[{'spectrum': node,
    'fit': Result or None, 'label': str}]``."""
    from aiida_ssb.data.measurements import ImpedanceSpectrumData
    from aiida_ssb.query.records import measurements_of_cell
    from aiida_ssb.query.results import Result

    cell = _cell(sample_id)
    spectra = measurements_of_cell(cell, (ImpedanceSpectrumData,))
    fits: dict[int, Any] = {}
    if spectra:  # one query for every spectrum's fits, newest first; curves are read only when drawn
        query = orm.QueryBuilder()
        query.append(ImpedanceSpectrumData, filters={'id': {'in': [s.pk for s in spectra]}}, project='id', tag='s')
        query.append(
            orm.CalcFunctionNode,
            with_incoming='s',
            edge_filters={'label': 'spectrum'},
            filters={'process_type': {'like': '%ssb.analyse.eis_fit'}, 'attributes.exit_status': 0},
            project='*',
            tag='fit',
        )
        query.append(orm.Dict, with_incoming='fit', edge_filters={'label': 'summary'}, project='*', tag='summary')
        query.order_by({'summary': {'ctime': 'desc'}})
        for pk, process, summary in query.all():
            fits.setdefault(pk, Result(summary, None, process))
    labels = _spectrum_labels(spectra)
    return [{'spectrum': s, 'fit': fits.get(pk_of(s)), 'label': label} for s, label in zip(spectra, labels)]


def condition_parts(conditions: dict[str, Any]) -> list[str]:
    """The measurement conditions that tell spectra apart, as legend text: temperature, branch, cycle, upper
    cut-off, time since assembly (those given)."""
    parts = []
    if conditions.get('temperature_c') is not None:
        parts.append(f'{conditions["temperature_c"]:g} °C')
    if conditions.get('branch'):
        parts.append(str(conditions['branch']))
    if conditions.get('cycle_index') is not None:
        parts.append(f'cycle {conditions["cycle_index"]}')
    if conditions.get('upper_cutoff_v') is not None:
        parts.append(f'after {conditions["upper_cutoff_v"]:g} V')
    if conditions.get('time_since_assembly_h') is not None:
        parts.append(f'{conditions["time_since_assembly_h"]:g} h')
    return parts


def _spectrum_labels(spectra) -> list[str]:
    described = [condition_parts(spectrum.conditions) for spectrum in spectra]
    shared = set.intersection(*(set(parts) for parts in described)) if described else set()
    labels = []
    for index, (spectrum, parts) in enumerate(zip(spectra, described)):
        text = ', '.join(part for part in parts if part not in shared)
        labels.append(f'{index}: {text or spectrum.label or "spectrum"}')
    return labels


def available_plots(sample_id: str) -> dict[str, list[str]]:
    """plot kind -> the choices within it (spectra, voltammograms, cycling records; one empty string where
    there is a single figure) for the plots this sample has data for."""
    from aiida_ssb.data.measurements import ImpedanceSpectrumData
    from aiida_ssb.query.records import measurements_of_cell

    counts = _count_results(sample_id)
    found: dict[str, list[str]] = {}
    if counts.get('cycling'):
        found['capacity'] = [f'{i}' for i in range(len(_results(sample_id, 'cycling')))]  # one per record
        found['profiles'] = found['capacity']
    cell = _cell(sample_id)
    n_spectra = (
        len(measurements_of_cell(cell, (ImpedanceSpectrumData,))) if cell.__class__.__name__ == 'CellData' else 0
    )
    if n_spectra:
        found['nyquist'] = [str(i) for i in range(n_spectra)]
        found['bode'] = found['nyquist']
    if counts.get('arrhenius'):
        found['arrhenius'] = ['']
    if counts.get('onsets'):
        found['onsets'] = [str(i) for i in range(len(_results(sample_id, 'onsets')))]
    if counts.get('ccd'):
        found['ccd'] = ['']
    return found


# ------------------------------------------------------------------------------------------------ cycling
def _capacity_key(curves, half: str) -> tuple[str | None, str]:
    for basis in ('active', 'composite'):
        key = f'cycle__{half}_capacity_mah_g_{basis}'
        if key in curves:
            return key, f'capacity / mAh g⁻¹ ({basis})'
    key = f'cycle__{half}_capacity_mah'
    return (key if key in curves else None), 'capacity / mAh'


def _capacity(sample_id: str, index: int) -> PlotData:
    results = _results(sample_id, 'cycling')
    if not results:
        raise InputError(f'{sample_id} has no cycling result')
    result = results[min(index, len(results) - 1)]
    curves = _arrays(result.curves)
    summary = result.summary.get_dict()
    cycle = curves['cycle__cycle']
    main = Panel('cycle', 'capacity', y2_label='coulombic efficiency / %')
    for half, mode in (('discharge', 'markers'), ('charge', 'markers')):
        key, label = _capacity_key(curves, half)
        if key:
            main.y_label = label
            main.series.append(Series(half, _list(cycle), _list(curves[key]), mode=mode))
    if 'cycle__coulombic_efficiency_percent' in curves:
        main.series.append(
            Series('CE', _list(cycle), _list(curves['cycle__coulombic_efficiency_percent']), 'markers', secondary=True)
        )
    if summary.get('reference_cycle') is not None:
        main.lines.append(Line(f'reference cycle {summary["reference_cycle"]}', x=float(summary['reference_cycle'])))
    retention = Panel('cycle', 'capacity retention / %', height=0.6)
    if 'cycle__capacity_retention_percent' in curves:
        retention.series.append(
            Series(
                'capacity retention', _list(cycle), _list(curves['cycle__capacity_retention_percent']), 'lines+markers'
            )
        )
    if 'cycle__energy_retention_percent' in curves:
        retention.series.append(
            Series('energy retention', _list(cycle), _list(curves['cycle__energy_retention_percent']), 'lines', 'dash')
        )
    retention.lines.append(Line('80 %', y=80.0))
    note = ''
    if summary.get('capacity_retention_percent_at_end') is not None:
        note = f'retention at the end: {summary["capacity_retention_percent_at_end"]:.1f} %'
    return PlotData('capacity', f'{sample_id}: capacity and retention', [main, retention], note)


def _profiles(sample_id: str, index: int, cycles: Sequence[int] | None) -> PlotData:
    results = _results(sample_id, 'cycling')
    if not results:
        raise InputError(f'{sample_id} has no cycling result')
    result = results[min(index, len(results) - 1)]
    curves = _arrays(result.curves)
    summary = result.summary.get_dict()
    record = _record(result)
    time_s = np.asarray(record.column('time_s'), dtype=float)
    voltage = np.asarray(record.column('voltage_v'), dtype=float)
    current = np.abs(np.asarray(record.column('current_ma'), dtype=float))
    half_cycle = np.asarray(curves['half_cycle__cycle'])
    starts = np.asarray(curves['half_cycle__start_row'], dtype=int)
    ends = np.asarray(curves['half_cycle__end_row'], dtype=int)
    charge = np.asarray(curves['half_cycle__direction']) > 0
    available = sorted({int(c) for c in half_cycle})
    if not cycles:
        picks = [available[0], available[min(1, len(available) - 1)], available[len(available) // 2], available[-1]]
        cycles = sorted(set(picks))
    active = (summary.get('masses_mg') or {}).get('active')
    mass_g = active / 1000.0 if active else None
    panel = Panel('capacity / mAh g⁻¹' if mass_g else 'capacity / mAh', 'voltage / V')
    for colour, cycle in enumerate(cycles):
        for position in np.flatnonzero(half_cycle == cycle):
            rows = slice(starts[position], ends[position] + 1)
            t, v, i = time_s[rows], voltage[rows], current[rows]
            if t.size < 2:
                continue
            q = np.concatenate(([0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * np.diff(t)) / 3600.0))
            if mass_g:
                q = q / mass_g
            step = max(1, q.size // 400)  # enough points for the eye, light for the page
            direction = 'charge' if charge[position] else 'discharge'
            panel.series.append(
                Series(
                    f'cycle {cycle} {direction}',
                    _list(q[::step]),
                    _list(v[::step]),
                    dash='solid' if charge[position] else 'dash',
                    group=f'cycle {cycle}',
                    colour=colour,
                )
            )
    return PlotData('profiles', f'{sample_id}: voltage profiles (solid charge, dashed discharge)', [panel])


# ------------------------------------------------------------------------------------------------ impedance
def _fit_curves(entry) -> tuple[dict[str, np.ndarray], bool]:
    fit = entry['fit']
    if fit is None:
        return {}, False
    curves = (
        fit.curves
        if fit.curves is not None
        else fit.process.outputs['curves']
        if 'curves' in fit.process.outputs
        else None
    )
    return _arrays(curves), bool(fit.summary.get('accepted', True))


def _nyquist(sample_id: str, index: int) -> PlotData:
    spectra = spectra_of(sample_id)
    if not spectra:
        raise InputError(f'{sample_id} has no impedance spectrum')
    entry = spectra[min(index, len(spectra) - 1)]
    _frequency, z = entry['spectrum'].impedance()
    area = _cell(sample_id).base.attributes.get('electrode_area_cm2', None)
    scale, unit = (area, 'Ω cm²') if area else (1.0, 'Ω')
    panel = Panel(f"Z' / {unit}", f"-Z'' / {unit}", equal_aspect=True)
    panel.series.append(Series('data', _list(z.real * scale), _list(-z.imag * scale), 'markers'))
    curves, accepted = _fit_curves(entry)
    if 'z_fit_real_ohm' in curves:
        panel.series.append(
            Series(
                'fit' if accepted else 'rejected fit',
                _list(np.asarray(curves['z_fit_real_ohm']) * scale),
                _list(-np.asarray(curves['z_fit_imag_ohm']) * scale),
                dash='solid' if accepted else 'dot',
            )
        )
    note = _fit_note(entry)
    return PlotData('nyquist', f'{sample_id}: {entry["label"]}', [panel], note)


def _fit_note(entry) -> str:
    if entry['fit'] is None:
        return 'not fitted'
    summary = entry['fit'].summary.get_dict()
    parts = [summary.get('circuit', '')]
    for key in ('chi2_over_z', 'chi_square', 'chi2'):
        if isinstance(summary.get(key), (int, float)):
            parts.append(f'{key} = {summary[key]:.3g}')
            break
    if not summary.get('accepted', True):
        parts.append('REJECTED (above the χ² threshold)')
    return ', '.join(part for part in parts if part)


def _bode(sample_id: str, index: int) -> PlotData:
    spectra = spectra_of(sample_id)
    if not spectra:
        raise InputError(f'{sample_id} has no impedance spectrum')
    entry = spectra[min(index, len(spectra) - 1)]
    frequency, z = entry['spectrum'].impedance()
    modulus = Panel('frequency / Hz', '|Z| / Ω', x_log=True, y_log=True)
    phase = Panel('frequency / Hz', '-phase / °', x_log=True)
    residuals = Panel('frequency / Hz', 'residual / %', x_log=True, height=0.6)
    modulus.series.append(Series('data', _list(frequency), _list(np.abs(z)), 'markers', group='data'))
    phase.series.append(Series('data', _list(frequency), _list(-np.degrees(np.angle(z))), 'markers', group='data'))
    curves, accepted = _fit_curves(entry)
    if 'z_fit_real_ohm' in curves:
        fit = np.asarray(curves['z_fit_real_ohm']) + 1j * np.asarray(curves['z_fit_imag_ohm'])
        f_fit = curves['frequency_hz']
        name, dash = ('fit', 'solid') if accepted else ('rejected fit', 'dot')
        modulus.series.append(Series(name, _list(f_fit), _list(np.abs(fit)), dash=dash, group='fit'))
        phase.series.append(Series(name, _list(f_fit), _list(-np.degrees(np.angle(fit))), dash=dash, group='fit'))
        for part, symbol in (('real', "Z'"), ('imag', "Z''")):
            key = f'residual_{part}_rel'
            if key in curves:
                residuals.series.append(
                    Series(f'residual {symbol}', _list(f_fit), _list(100 * np.asarray(curves[key])), 'markers')
                )
        residuals.lines.append(Line('0', y=0.0))
    return PlotData('bode', f'{sample_id}: {entry["label"]}', [modulus, phase, residuals], _fit_note(entry))


def _arrhenius(sample_id: str) -> PlotData:
    results = _results(sample_id, 'arrhenius')
    if not results:
        raise InputError(f'{sample_id} has no Arrhenius result')
    result = results[0]
    summary = result.summary.get_dict()
    curves = _arrays(result.curves)
    form = summary.get('form', 'sigma_t')
    y_key = 'ln_sigma_t' if form == 'sigma_t' else 'ln_sigma'
    panel = Panel('1000 / T / K⁻¹', 'ln(σT / S cm⁻¹ K)' if form == 'sigma_t' else 'ln(σ / S cm⁻¹)')
    panel.series.append(
        Series('data', _list(curves['inverse_temperature_1000_per_k']), _list(curves[y_key]), 'markers')
    )
    if 'fit_inverse_temperature_1000_per_k' in curves:
        fx = np.asarray(curves['fit_inverse_temperature_1000_per_k'])
        fy = np.asarray(curves[f'fit_{y_key}'])
        regime = np.asarray(curves.get('fit_regime_index', np.zeros(fx.size)))
        for number, values in enumerate(summary.get('regimes', [])):
            mask = regime == number
            if not mask.any():
                continue
            text = f'Ea = {values.get("activation_energy_ev", float("nan")):.3f} eV'
            stderr = values.get('activation_energy_stderr_ev')
            if isinstance(stderr, (int, float)):
                text += f' ± {stderr:.3f}'
            if values.get('t_min_c') is not None and values.get('t_max_c') is not None:
                text += f' ({values["t_min_c"]:.0f} to {values["t_max_c"]:.0f} °C)'
            if values.get('branch'):
                text = f'{values["branch"]}: {text}'
            panel.series.append(
                Series(
                    text,
                    _list(fx[mask]),
                    _list(fy[mask]),
                    dash='dash' if values.get('branch') == 'cooling' else 'solid',
                )
            )
    return PlotData('arrhenius', f'{sample_id}: Arrhenius ({form})', [panel])


def _onsets(sample_id: str, index: int) -> PlotData:
    results = _results(sample_id, 'onsets')
    if not results:
        raise InputError(f'{sample_id} has no onsets result')
    result = results[min(index, len(results) - 1)]
    record = _record(result)
    summary = result.summary.get_dict()
    curves = _arrays(result.curves)
    area = _cell(sample_id).base.attributes.get('electrode_area_cm2', None)
    scale = 1000.0 / area if area else 1000.0
    panel = Panel('potential / V', 'current / µA cm⁻²' if area else 'current / µA')
    voltage = np.asarray(record.column('voltage_v'), dtype=float)
    current = np.asarray(record.column('current_ma'), dtype=float) * scale
    step = max(1, voltage.size // 4000)
    panel.series.append(Series('data', _list(voltage[::step]), _list(current[::step])))
    numbers = sorted({int(m.group(1)) for key in curves for m in [re.match(r'onset(\d+)_', key)] if m})
    for colour, number in enumerate(numbers, start=1):
        for part, dash in (('background', 'dot'), ('rise', 'dash')):
            v_key, i_key = f'onset{number}_{part}_v', f'onset{number}_{part}_ma'
            if v_key in curves and i_key in curves:
                panel.series.append(
                    Series(
                        f'onset {number}: {part} line',
                        _list(curves[v_key]),
                        _list(np.asarray(curves[i_key]) * scale),
                        dash=dash,
                        colour=colour,
                        group=f'onset {number}',
                    )
                )
    for colour, onset in enumerate(summary.get('onsets', []), start=1):
        if onset.get('onset_v') is not None:
            panel.lines.append(Line(f'{onset["onset_v"]:.2f} V', x=float(onset['onset_v']), colour=colour))
    rate = summary.get('scan_rate_mv_s')
    title = f'{sample_id}: onsets ({summary.get("method", "")}' + (f', {rate:g} mV/s)' if rate else ')')
    return PlotData('onsets', title, [panel])


def _ccd(sample_id: str) -> PlotData:
    results = _results(sample_id, 'ccd')
    if not results:
        raise InputError(f'{sample_id} has no CCD result')
    result = results[0]
    record = _record(result)
    summary = result.summary.get_dict()
    curves = _arrays(result.curves)
    time_h = np.asarray(record.column('time_s'), dtype=float) / 3600.0
    voltage = np.asarray(record.column('voltage_v'), dtype=float)
    step = max(1, time_h.size // 5000)
    top = Panel('time / h', 'voltage / V')
    top.series.append(Series('voltage', _list(time_h[::step]), _list(voltage[::step])))
    bottom = Panel('time / h', 'j / mA cm⁻²', height=0.5)
    starts = np.asarray(curves.get('half_cycle__start_time_s', []), dtype=float) / 3600.0
    ends = np.asarray(curves.get('half_cycle__end_time_s', []), dtype=float) / 3600.0
    density = np.asarray(curves.get('half_cycle__current_density_ma_cm2', []), dtype=float)
    if density.size:
        x = np.ravel(np.column_stack([starts, ends, np.full(starts.size, np.nan)]))
        y = np.ravel(np.column_stack([density, density, np.full(starts.size, np.nan)]))
        bottom.series.append(Series('current density', _list(x), _list(y)))
    for prefix, which, label in (('sudden_drop', 'last_stable', 'sudden drop'), ('zero_volt', 'failing', '0 V')):
        moment = summary.get(f'{prefix}_time_s')
        if moment is not None:
            value = summary.get(f'{prefix}_{which}_ma_cm2')
            text = f'{label}: CCD {value:.3g} mA/cm²' if isinstance(value, (int, float)) else label
            top.lines.append(Line(text, x=moment / 3600.0))
    return PlotData('ccd', f'{sample_id}: critical current density', [top, bottom], summary.get('message', ''))


def plot_data(sample_id: str, kind: str, index: int = 0, cycles: Sequence[int] | None = None) -> PlotData:
    """The data of one figure of a sample (``kind`` from :data:`PLOT_KINDS`; ``index`` picks the spectrum,
    voltammogram or cycling record)."""
    index = int(index or 0)
    if kind == 'capacity':
        return _capacity(sample_id, index)
    if kind == 'profiles':
        return _profiles(sample_id, index, cycles)
    if kind == 'nyquist':
        return _nyquist(sample_id, index)
    if kind == 'bode':
        return _bode(sample_id, index)
    if kind == 'arrhenius':
        return _arrhenius(sample_id)
    if kind == 'onsets':
        return _onsets(sample_id, index)
    if kind == 'ccd':
        return _ccd(sample_id)
    raise InputError(f'unknown plot kind {kind!r}; kinds: {", ".join(PLOT_KINDS)}')


def overlay(sample_ids: Sequence[str], kind: str) -> PlotData:
    """Several samples on one figure: ``retention`` (capacity retention against cycle), ``capacity``
    (discharge capacity against cycle), ``nyquist`` (the first spectrum of each), ``arrhenius``."""
    if kind in ('retention', 'capacity'):
        label = 'capacity retention / %' if kind == 'retention' else 'discharge capacity'
        panel = Panel('cycle', label)
        for colour, sample_id in enumerate(sample_ids):
            results = _results(sample_id, 'cycling')
            if not results or results[0].curves is None:
                continue
            curves = _arrays(results[0].curves)
            key: str | None
            if kind == 'retention':
                key = 'cycle__capacity_retention_percent'
            else:
                key, panel.y_label = _capacity_key(curves, 'discharge')
            if key and key in curves:
                panel.series.append(
                    Series(sample_id, _list(curves['cycle__cycle']), _list(curves[key]), 'lines+markers', colour=colour)
                )
        if kind == 'retention':
            panel.lines.append(Line('80 %', y=80.0))
        return PlotData(kind, f'{label.split(" /", maxsplit=1)[0]} against cycle', [panel])
    if kind == 'nyquist':
        panel = Panel("Z' / Ω cm²", "-Z'' / Ω cm²", equal_aspect=True)
        for colour, sample_id in enumerate(sample_ids):
            try:
                spectra = spectra_of(sample_id)
            except InputError:
                continue
            if not spectra:
                continue
            entry = spectra[0]
            _, z = entry['spectrum'].impedance()
            area = _cell(sample_id).base.attributes.get('electrode_area_cm2', None) or 1.0
            panel.series.append(
                Series(sample_id, _list(z.real * area), _list(-z.imag * area), 'markers', colour=colour)
            )
            curves, accepted = _fit_curves(entry)
            if 'z_fit_real_ohm' in curves and accepted:
                panel.series.append(
                    Series(
                        f'{sample_id} fit',
                        _list(np.asarray(curves['z_fit_real_ohm']) * area),
                        _list(-np.asarray(curves['z_fit_imag_ohm']) * area),
                        colour=colour,
                        group=sample_id,
                    )
                )
        return PlotData(kind, 'first impedance spectrum of each', [panel])
    if kind == 'arrhenius':
        panel = Panel('1000 / T / K⁻¹', 'ln(σT / S cm⁻¹ K)')
        for colour, sample_id in enumerate(sample_ids):
            results = _results(sample_id, 'arrhenius')
            if not results:
                continue
            curves = _arrays(results[0].curves)
            form = results[0].summary.get('form', 'sigma_t')
            y_key = 'ln_sigma_t' if form == 'sigma_t' else 'ln_sigma'
            panel.series.append(
                Series(
                    sample_id,
                    _list(curves['inverse_temperature_1000_per_k']),
                    _list(curves[y_key]),
                    'markers',
                    colour=colour,
                )
            )
        return PlotData(kind, 'Arrhenius', [panel])
    raise InputError(f'unknown overlay {kind!r}: retention, capacity, nyquist or arrhenius')
