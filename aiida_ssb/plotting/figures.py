"""The figures of ``aiida-ssb plot``: one cell's (or material's) record with its analysis, or a campaign's cells
compared. Every figure says what it shows: the record's file, C-rate or protocol, temperature and pressure (its
caption, the title's second line), and a campaign figure names each field with its meaning and unit.

:func:`cell_figure` takes an explicit ``record`` (a measurement node) to draw that record's analysis; without it
the newest result is drawn (``index`` walks the results, newest first).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from aiida import orm

from aiida_ssb.exceptions import InputError
from aiida_ssb.model import unit_of_field
from aiida_ssb.plotting import cycling as cyc
from aiida_ssb.plotting import diffraction as xrd
from aiida_ssb.plotting import electrochem as ec
from aiida_ssb.plotting import impedance as imp
from aiida_ssb.plotting import thermal as th
from aiida_ssb.plotting import voltammetry as volt
from aiida_ssb.plotting.common import c_rate_text, legend_outside, new_figure, set_title
from aiida_ssb.plotting.kinds import CAMPAIGN_KINDS, PLOT_KINDS
from aiida_ssb.query.plotdata import condition_parts
from aiida_ssb.query.results import Result, latest_results, measured_record, process_record

__all__ = [
    'CAMPAIGN_KINDS',
    'PLOT_KINDS',
    'add_caption',
    'campaign_figure',
    'cell_figure',
    'cycling_caption',
    'field_label',
    'record_caption',
    'sorted_spectra',
    'spectrum_labels',
]


#: plot kinds of issue 21's analyses -> the analysis whose result they draw
_ISSUE21_KINDS = {
    'dqdv': 'dqdv',
    'dvdq': 'dqdv',
    'gitt': 'gitt',
    'pitt': 'pitt',
    'polarisation': 'dc_polarisation',
    'transference': 'transference_number',
    'thermal': 'thermal',
    'diffraction': 'diffraction',
}

#: the most spectra (or DRTs) one overlay draws
MAX_OVERLAY = 12


def arrays_of(node) -> dict:
    """Every array of an ArrayData as a dict (name -> numpy array)."""
    return {name: node.get_array(name) for name in node.get_arraynames()} if node is not None else {}


# ------------------------------------------------------------------------------------------------ captions
def _natural_key(text: str) -> list:
    """``'x #10'`` after ``'x #2'``: digits compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', text or '')]


def _number(value: float, unit: str) -> str:
    return f'{value:g}\u00a0{unit}'  # a no-break space: a wrapped caption keeps a number with its unit


def record_caption(record, *, protocol: str | None = None) -> str:
    """What a figure shows, in one line: the record's file (and part), its C-rate (or ``protocol``, e.g. a rate
    test's rates), scan rate, temperature, branch, state label and stack pressure. Empty without a record."""
    if record is None:
        return ''
    attributes = record.base.attributes.all
    bits = []
    name = attributes.get('source_filename')
    if name:
        part = attributes.get('part_index')
        bits.append(f'file {name}' + (f' #{part}' if part is not None else ''))
    settings = attributes.get('settings') or {}
    if protocol:
        bits.append(protocol)
    else:
        rate = c_rate_text(attributes.get('c_rate', settings.get('c_rate')))
        if rate:
            bits.append(rate)
    scan = attributes.get('scan_rate_mv_s', settings.get('scan_rate_mv_s'))
    if scan:
        bits.append(_number(scan, 'mV/s'))
    if attributes.get('temperature_c') is not None:
        bits.append(_number(attributes['temperature_c'], '°C'))
    if attributes.get('branch'):
        bits.append(str(attributes['branch']))
    if attributes.get('cycle_index') is not None:
        bits.append(f'after cycle {attributes["cycle_index"]}')
    if attributes.get('upper_cutoff_v') is not None and record.technique in ('peis', 'geis'):
        bits.append(f'after {attributes["upper_cutoff_v"]:g} V')
    if attributes.get('time_since_assembly_h') is not None:
        bits.append(f'{attributes["time_since_assembly_h"]:g} h after assembly')
    if attributes.get('stack_pressure_mpa') is not None:
        bits.append(_number(attributes['stack_pressure_mpa'], 'MPa'))
    return ' · '.join(bits)


def _rate_of(block: Mapping) -> str | None:
    if block.get('c_rate') is not None:
        return c_rate_text(block['c_rate'])
    if block.get('current_ma') is not None:
        return f'{block["current_ma"]:.3g} mA'
    return None


def cycling_caption(summary: Mapping | None) -> str | None:
    """The protocol of a cycling record from its analysis's blocks: ``formation C/10 (cycles 1-2), long term C/5
    (cycles 3-100)``; a rate test names its rates."""
    blocks = (summary or {}).get('blocks') or []
    parts = []
    for block in blocks:
        kind = block.get('kind', '').replace('_', ' ')
        if block.get('kind') == 'rate_test':
            rates = [_rate_of(step) for step in block.get('steps', [])]
            rates = [rate for rate in rates if rate]
            text = 'rate test' + (f' {rates[0]} to {rates[-1]}' if len(rates) > 1 else '')
        elif block.get('kind') == 'stepwise_upper_cutoff':
            text = 'stepwise upper cut-off'
        else:
            rate = _rate_of(block)
            text = kind + (f' {rate}' if rate else '')
        parts.append(f'{text} (cycles {block["first_cycle"]} to {block["last_cycle"]})')
    return ', '.join(parts) or None


def add_caption(figure, caption: str | None):
    """Append ``caption`` to the figure's title (its suptitle, else the first axes' title, else a new title)."""
    if not caption:
        return figure
    suptitle = getattr(figure, '_suptitle', None)
    if suptitle is not None and suptitle.get_text():
        if caption not in suptitle.get_text():
            set_title(figure.axes[0], suptitle.get_text(), caption, figure_level=True)
        return figure
    ax = figure.axes[0]
    existing = ax.get_title()
    if caption not in existing:
        set_title(ax, existing or None, caption)
    return figure


# ------------------------------------------------------------------------------------------------ results
#: the caller's choice of results (the command line's --record/--run, :class:`aiida_ssb.cli.views.Selection`),
#: set for the duration of one :func:`cell_figure`: analysis name -> results, preferred first
_CHOOSE: contextvars.ContextVar[Callable[[str], list[Result]] | None] = contextvars.ContextVar('choose', default=None)


def _chosen_results(sample_id: str, analysis: str) -> list[Result]:
    """The results of ``analysis`` a figure may draw: the caller's choice, else the newest first."""
    choose = _CHOOSE.get()
    return choose(analysis) if choose is not None else latest_results(sample_id, analysis)


def _results(sample_id: str, analysis: str, record=None) -> list[Result]:
    """The results of ``analysis`` for a sample (of ``record`` only when given), newest first; an error saying
    what to run (or which records have one) when there is none."""
    results = _chosen_results(sample_id, analysis)
    if record is not None:
        mine = [result for result in results if getattr(measured_record(result), 'pk', None) == record.pk]
        if not mine:
            others = sorted(
                {
                    (measured_record(r).base.attributes.get('source_filename', None) or measured_record(r).label)
                    for r in results
                    if measured_record(r) is not None
                }
            )
            name = record.base.attributes.get('source_filename', None) or record.label
            raise InputError(
                f'{sample_id}: the record {name} has no {analysis} result'
                + (f' (these records have one: {", ".join(others)})' if others else '')
                + f'; run `aiida-ssb analyse {sample_id}` first'
            )
        results = mine
    if not results:
        raise InputError(f'{sample_id} has no {analysis} result yet: run `aiida-ssb analyse {sample_id}` first')
    return results


_Item = TypeVar('_Item')


def _pick(results: Sequence[_Item], index: int | None, sample_id: str, what: str) -> _Item:
    position = index or 0
    if not -len(results) <= position < len(results):
        raise InputError(
            f'{sample_id} has {len(results)} {what} result{"s" if len(results) != 1 else ""}: '
            f'--index {index} is out of range (0 to {len(results) - 1})'
        )
    return results[position]


def sorted_spectra(spectra: Sequence) -> list:
    """Spectra (or ``(spectrum, anything)`` pairs) in measurement order: by file name with numbers compared as
    numbers, then by part (``#2`` before ``#10``), then by creation."""

    def key(item):
        node = item[0] if isinstance(item, tuple) else item
        attributes = node.base.attributes.all
        part = attributes.get('part_index')
        return (
            _natural_key(attributes.get('source_filename') or node.label or ''),
            -1 if part is None else int(part),
            node.ctime,
        )

    return sorted(spectra, key=key)


def spectrum_labels(spectra) -> list[str]:
    """Legend entries of several spectra from their measurement conditions (temperature, branch, cycle, upper
    cut-off, time since assembly), leaving out what all of them share; the spectrum's part (``#3``) or file where
    the conditions do not tell them apart."""
    described = [condition_parts(spectrum.conditions) for spectrum in spectra]
    shared = set.intersection(*(set(parts) for parts in described)) if described else set()
    labels = [', '.join(part for part in parts if part not in shared) for parts in described]
    if len(set(labels)) < len(labels) or not all(
        labels
    ):  # the conditions do not tell them apart: the part or the file does
        attributes = [_attributes(spectrum) for spectrum in spectra]
        files = {item.get('source_filename') for item in attributes}
        for position, (spectrum, item) in enumerate(zip(spectra, attributes)):
            tail = f'#{item["part_index"]}' if item.get('part_index') is not None else ''
            if len(files) > 1 and item.get('source_filename'):
                tail = f'{item["source_filename"]} {tail}'.strip()
            tail = tail or spectrum.label or f'spectrum {spectrum.pk}'
            labels[position] = ', '.join(filter(None, [labels[position], tail]))
    return labels


def _attributes(node) -> dict[str, Any]:
    base = getattr(node, 'base', None)
    return base.attributes.all if base is not None else {}


def _spectrum_title(sample_id: str, spectrum) -> str:
    """``PEL-1: peis #3`` (the spectrum's label carries the cell id already: it is not repeated)."""
    technique = (spectrum.technique or '').upper()
    part = spectrum.base.attributes.get('part_index', None)
    return f'{sample_id}: {technique} spectrum'.replace('  ', ' ') + (f' #{part}' if part is not None else '')


# ------------------------------------------------------------------------------------------------ one cell
def _impedance_spectra(sample_id: str, cell, record) -> list[tuple[Any, Result | None]]:
    """(spectrum, its newest eis_fit result or None), in measurement order; only ``record`` when given."""
    from aiida_ssb.data.measurements import ImpedanceSpectrumData
    from aiida_ssb.query.records import measurements_of_cell

    fits: dict[int, Result] = {}
    for result in _chosen_results(sample_id, 'eis_fit'):  # preferred first: the first seen of a spectrum is kept
        spectrum = measured_record(result)
        if spectrum is not None:
            fits.setdefault(spectrum.pk, result)
    spectra = measurements_of_cell(cell, (ImpedanceSpectrumData,))
    if record is not None:
        if not isinstance(record, ImpedanceSpectrumData):
            raise InputError(f'{sample_id}: {record.label} is a {record.technique} record, not an impedance spectrum')
        spectra = [record]
    if not spectra:
        raise InputError(f'{sample_id} has no impedance spectrum')
    return [(spectrum, fits.get(spectrum.pk)) for spectrum in sorted_spectra(spectra)]


def _resistances(sample_id: str) -> dict[int, float]:
    """spectrum pk -> the resistance its newest conductivity result used."""
    found: dict[int, float] = {}
    for result in _chosen_results(sample_id, 'conductivity'):
        spectrum = measured_record(result)
        value = result.summary.get('resistance_ohm', None)
        if spectrum is not None and isinstance(value, (int, float)):
            found.setdefault(spectrum.pk, float(value))
    return found


def _nyquist(sample_id: str, cell, record, index: int | None, scale: str):
    spectra = _impedance_spectra(sample_id, cell, record)
    if index is not None:
        spectra = [_pick(spectra, index, sample_id, 'impedance spectrum')]
    area = cell.base.attributes.get('electrode_area_cm2', None)
    count = len(spectra)
    noun = 'spectrum' if count == 1 else 'spectra'
    title = f'{sample_id}: {count} impedance {noun}' + (f' (the first {MAX_OVERLAY})' if count > MAX_OVERLAY else '')
    if count == 1:
        spectrum, result = spectra[0]
        frequency, z = spectrum.impedance()
        summary = result.summary.get_dict() if result else None
        figure = imp.plot_nyquist(
            frequency,
            z,
            curves=arrays_of(result.curves) if result else None,
            summary=summary,
            area_cm2=area,
            title=_spectrum_title(sample_id, spectrum),
        )
        return add_caption(figure, record_caption(spectrum))
    shown = spectra[:MAX_OVERLAY]
    resistances = _resistances(sample_id)
    labels = spectrum_labels([spectrum for spectrum, _ in shown])
    entries = []
    for (spectrum, result), label in zip(shown, labels):
        frequency, z = spectrum.impedance()
        summary = result.summary.get_dict() if result else None
        entries.append(
            imp.OverlaySpectrum(
                frequency,
                z,
                label,
                curves=arrays_of(result.curves) if result and result.curves else None,
                summary=summary,
                resistance_ohm=imp.spectrum_resistance(z, summary, resistances.get(spectrum.pk)),
            )
        )
    files = sorted({s.base.attributes.get('source_filename', None) or '' for s, _ in shown}, key=_natural_key)
    caption = f'file {files[0]}' if len(files) == 1 else f'{len(files)} files'
    temperatures = [s.conditions['temperature_c'] for s, _ in shown if s.conditions.get('temperature_c') is not None]
    if temperatures:
        low, high = min(temperatures), max(temperatures)
        caption += f', {low:g} °C' if low == high else f', {low:g} to {high:g} °C'
    return imp.plot_nyquist_overlay(entries, scale=scale, area_cm2=area, title=title, caption=caption)


def _bode(sample_id: str, cell, record, index: int | None):
    spectra = _impedance_spectra(sample_id, cell, record)
    spectrum, result = _pick(spectra, index, sample_id, 'impedance spectrum')
    frequency, z = spectrum.impedance()
    figure = imp.plot_bode(
        frequency,
        z,
        curves=arrays_of(result.curves) if result and result.curves else None,
        summary=result.summary.get_dict() if result else None,
        title=_spectrum_title(sample_id, spectrum),
    )
    return add_caption(figure, record_caption(spectrum))


def _drt(sample_id: str, record, index: int | None):
    results = sorted_spectra(
        [(measured_record(r), r) for r in _results(sample_id, 'drt', record) if measured_record(r) is not None]
    )
    chosen = results if index is None else [_pick(results, index, sample_id, 'DRT')]
    shown = chosen[:8]
    labels = spectrum_labels([spectrum for spectrum, _ in shown]) if len(shown) > 1 else [None]
    peaks = [float(np.max(result.curves.get_array('gamma_ohm'))) for _, result in shown]
    normalise = len(shown) > 1 and min(peaks) > 0 and max(peaks) / min(peaks) > 10.0
    figure = None
    for (_, result), label in zip(shown, labels):
        figure = imp.plot_drt(
            result.summary.get_dict(),
            arrays_of(result.curves),
            title=None if figure else f'{sample_id}: distribution of relaxation times',
            figure_axes=(figure, figure.axes[0]) if figure else None,
            label=label,
            normalise=normalise,
        )
    if figure is None:
        raise InputError(f'{sample_id} has no DRT result of a measured record')
    if len(shown) == 1:
        return add_caption(figure, record_caption(shown[0][0]))
    legend_outside(figure.axes[0], ncol=3, fontsize=7)
    note = f'{len(shown)} of {len(chosen)} spectra'
    if normalise:
        note += '; each distribution divided by its largest value in the window (their sizes span decades)'
    return add_caption(figure, note)


def _issue21(sample_id: str, kind: str, record, index: int | None):
    """dQ/dV, dV/dQ, GITT, PITT, polarisation, transference, thermal and diffraction figures of a sample."""
    analysis = _ISSUE21_KINDS[kind]
    result = _pick(_results(sample_id, analysis, record), index, sample_id, analysis)
    curves = arrays_of(result.curves)
    summary = result.summary.get_dict()
    measured = measured_record(result)
    title = f'{sample_id} ({analysis})'
    if kind == 'dqdv':
        figure = ec.plot_dqdv(curves, summary, title=title)
    elif kind == 'dvdq':
        figure = ec.plot_dvdq(curves, title=title)
    elif kind == 'gitt':
        figure = ec.plot_titration(
            curves, summary, record=(measured.column('time_s'), measured.column('voltage_v')), title=title
        )
    elif kind == 'pitt':
        figure = ec.plot_titration(
            curves,
            summary,
            record=(measured.column('time_s'), measured.column('current_ma')),
            record_label='current / mA',
            title=title,
        )
    elif kind == 'polarisation':
        figure = ec.plot_polarisation(curves, summary, title=title)
    elif kind == 'transference':
        figure = ec.plot_transference(curves, summary, title=title)
    elif kind == 'thermal':
        figure = th.plot_thermal(curves, summary, title=title)
    else:
        figure = xrd.plot_diffraction(curves, summary, title=title)
    return add_caption(figure, record_caption(measured))


def cell_figure(
    sample_id: str,
    kind: str,
    *,
    record: orm.Data | None = None,
    index: int | None = None,
    nyquist_scale: str = 'auto',
    choose: Callable[[str], list[Result]] | None = None,
):
    """The figure ``kind`` (:data:`PLOT_KINDS`) of a cell's (or material's) record and its analysis.

    :param record: the measurement node to draw (its analysis result); default: the newest result of the kind's
        analysis (for Nyquist plots: every spectrum of the cell).
    :param index: which result (newest first) or spectrum (in measurement order) when ``record`` is not given.
    :param nyquist_scale: a Nyquist overlay's scale (:data:`~aiida_ssb.plotting.impedance.NYQUIST_SCALES`).
    :param choose: analysis name -> the results to draw, preferred first (the command line's ``--record`` and
        ``--run``); default: the newest results.
    """
    token = _CHOOSE.set(choose)
    try:
        return _cell_figure(sample_id, kind, record, index, nyquist_scale)
    finally:
        _CHOOSE.reset(token)


def _cell_figure(sample_id: str, kind: str, record: orm.Data | None, index: int | None, nyquist_scale: str):
    from aiida_ssb.data.sample import load_sample

    if kind not in PLOT_KINDS:
        raise InputError(f'unknown plot kind {kind!r}: one of {", ".join(PLOT_KINDS)}')
    cell = load_sample(sample_id)
    area = cell.base.attributes.get('electrode_area_cm2', None)
    if kind in _ISSUE21_KINDS:
        return _issue21(sample_id, kind, record, index)
    if kind == 'nyquist':
        return _nyquist(sample_id, cell, record, index, nyquist_scale)
    if kind == 'bode':
        return _bode(sample_id, cell, record, index)
    if kind == 'drt':
        return _drt(sample_id, record, index)
    if kind == 'arrhenius':
        result = _pick(_results(sample_id, 'arrhenius'), index, sample_id, 'Arrhenius')
        summary = result.summary.get_dict()
        curves = arrays_of(result.curves)
        figure = imp.plot_arrhenius(summary, curves, title=f'{sample_id}: Arrhenius')
        return add_caption(figure, _series_caption(result))
    if kind == 'resistance':
        result = _pick(_results(sample_id, 'interface_growth'), index, sample_id, 'interface_growth')
        summary = result.summary.get_dict()
        curves = arrays_of(result.curves)
        figure = imp.plot_resistance_track(summary, curves, title=f'{sample_id}: interface resistance')
        return add_caption(figure, _series_caption(result))
    if kind in ('voltammogram', 'onsets'):  # 'onsets': the analysis's name (registry plot kind)
        result = _pick(_results(sample_id, 'onsets', record), index, sample_id, 'onsets')
        measured = measured_record(result)
        figure = volt.plot_onsets(
            measured.column('voltage_v'),
            measured.column('current_ma'),
            result.summary.get_dict(),
            arrays_of(result.curves),
            area_cm2=area,
        )
        set_title(figure.axes[0], f'{sample_id}: {figure.axes[0].get_title()}', None)
        return add_caption(figure, record_caption(measured))
    if kind in ('stepwise', 'stepwise_cv'):
        result = _pick(_results(sample_id, 'stepwise_cv', record), index, sample_id, 'stepwise_cv')
        measured = measured_record(result)
        figure = volt.plot_stepwise_cv(
            measured.column('voltage_v'),
            measured.column('current_ma'),
            result.summary['steps'],
            title=f'{sample_id}: stepwise CV',
        )
        return add_caption(figure, record_caption(measured))
    if kind in ('profiles', 'capacity', 'rate'):
        result = _pick(_results(sample_id, 'cycling', record), index, sample_id, 'cycling')
        curves = arrays_of(result.curves)
        summary = result.summary.get_dict()
        measured = measured_record(result)
        caption = record_caption(measured, protocol=cycling_caption(summary))
        if kind == 'capacity':
            return cyc.plot_capacity(curves, summary=summary, title=f'{sample_id}: capacity', caption=caption)
        if kind == 'rate':
            return add_caption(cyc.plot_rate(curves, title=f'{sample_id}: rate capability'), caption)
        active = summary.get('masses_mg', {}).get('active')
        three = summary.get('conventions', {}).get('three_electrode')
        figure = cyc.plot_profiles(
            measured.column('time_s'),
            measured.column('voltage_v'),
            measured.column('current_ma'),
            curves,
            mass_g=active / 1000.0 if active else None,
            title=f'{sample_id}: voltage profiles',
            counter_voltage_v=measured.column('counter_voltage_v') if three else None,
            working_electrode=(three or {}).get('working_electrode', 'positive'),
        )
        return add_caption(figure, caption)
    # ccd
    result = _pick(_results(sample_id, 'ccd', record), index, sample_id, 'ccd')
    measured = measured_record(result)
    figure = cyc.plot_ccd(
        measured.column('time_s'),
        measured.column('voltage_v'),
        result.summary.get_dict(),
        arrays_of(result.curves),
        title=f'{sample_id}: critical current density',
    )
    return add_caption(figure, record_caption(measured))


_AGAINST = {'upper_cutoff_v': 'upper cut-off', 'cycle_index': 'cycle', 'time_since_assembly_h': 'time since assembly'}


def _series_caption(result: Result) -> str | None:
    """A series analysis (Arrhenius, interface growth): how many records of how many files, over which
    temperatures; the tracked element; the windows left out."""
    from aiida.common.links import LinkType

    records = []
    for link in result.process.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all():
        node = link.node
        if node.base.attributes.get('analysis', None) and node.creator is not None:  # a summary: its record
            node = process_record(node.creator)
        if node is not None and node.base.attributes.get('technique', None) and node.base.attributes.get('kind', None):
            records.append(node)
    summary = result.summary.get_dict()
    bits = []
    if records:
        files = {node.base.attributes.get('source_filename', None) for node in records}
        text = f'{len(records)} {"spectrum" if len(records) == 1 else "spectra"}'
        if len(files) > 1:
            text += f' ({len(files)} files)'
        elif files != {None}:
            text += f' (file {next(iter(files))})'
        temperatures = [n.base.attributes.get('temperature_c') for n in records]
        temperatures = [t for t in temperatures if t is not None]
        if temperatures:
            low, high = min(temperatures), max(temperatures)
            text += ', ' + (_number(low, '°C') if low == high else f'{low:g} to {_number(high, "°C")}')
        bits.append(text)
    if summary.get('element'):
        tracked = (summary.get('options') or {}).get('element')
        name = summary['element'] + (f' ({tracked.replace("_", " ")})' if tracked else '')
        against = summary.get('against', 'time_since_assembly_h')
        against = _AGAINST.get(against, against.replace('_', ' '))
        bits.append(f'{name} against {against}')
    bits += [str(text) for text in summary.get('skipped_windows') or []]
    return '; '.join(bits) or None


# ------------------------------------------------------------------------------------------------ campaigns
_UNIT_TEXT = {
    'S/cm': 'S cm$^{-1}$',
    'mAh/g': 'mAh g$^{-1}$',
    'mg/cm^2': 'mg cm$^{-2}$',
    'mA/cm^2': 'mA cm$^{-2}$',
    'mAh/cm^2': 'mAh cm$^{-2}$',
    'g/cm^3': 'g cm$^{-3}$',
    'cm^2': 'cm$^2$',
    'degC': '°C',
    'degC/min': '°C min$^{-1}$',
    'mA/g': 'mA g$^{-1}$',
    'um': 'µm',
    'mV/s': 'mV s$^{-1}$',
    'm^2/g': 'm$^2$ g$^{-1}$',
    'mg/mL': 'mg mL$^{-1}$',
    'mol/L': 'mol L$^{-1}$',
    'mL/min': 'mL min$^{-1}$',
    'N*m': 'N m',
}


def _field_unit(name: str) -> str | None:
    if name.endswith('_percent') or '_percent_' in name:
        return '%'
    for suffix, unit in (('_wh_kg_', 'Wh kg$^{-1}$'), ('_ohm_cm2_per_sqrt_h', 'Ω cm² h$^{-1/2}$')):
        if suffix in name or name.endswith(suffix.rstrip('_')):
            return unit
    if name.endswith('_ohm_cm2'):
        return 'Ω cm²'
    if name.endswith('_ohm'):
        return 'Ω'
    field_unit = unit_of_field(name)
    return _UNIT_TEXT.get(field_unit, field_unit) if field_unit else None


def _short_description(text: str, width: int = 48) -> str:
    text = re.split(r' \(|: |; ', text, maxsplit=1)[0].strip()
    return text if len(text) <= width else text[: width - 1].rstrip() + '…'


def field_label(name: str, table: str = 'cells') -> str:
    """An axis label of a table field: its meaning from the field catalogue (``conductivity_25c_s_cm`` -> ``ionic
    conductivity at 25 °C / S cm⁻¹``), a lineage field spelled out (``electrolyte.ball_milling.duration_min`` ->
    ``electrolyte, ball milling: duration / min``); the unit from the name's suffix. An unknown field keeps its
    name, with underscores as spaces."""
    from aiida_ssb.model import bare_name
    from aiida_ssb.query import tables

    catalogue = tables.cell_fields() if table == 'cells' else tables.sample_fields()
    leaf = name.rsplit('.', 1)[-1]
    unit = _field_unit(leaf)
    if '.' in name:
        head = name.rsplit('.', 1)[0].replace('.', ', ').replace('_', ' ')
        meaning = f'{head}: {bare_name(leaf).replace("_", " ")}'
    elif name in catalogue:
        meaning = _short_description(catalogue[name])
        meaning = re.sub(r'\s*\(derived\)$', '', meaning)
    else:
        meaning = (bare_name(name) if unit else name).replace('_', ' ')
    return f'{meaning} / {unit}' if unit else meaning


def _label_text(row: Mapping, label_by: str | None) -> str:
    if not label_by:
        return ''
    value = row.get(label_by)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ''
    unit = _field_unit(label_by.rsplit('.', 1)[-1]) or ''
    unit = re.sub(r'\$\^\{?(-?[\d/]+)\}?\$', r'^\1', unit)
    shown = f'{value:.3g}' if isinstance(value, float) else str(value)
    return f' ({shown} {unit})'.replace(' )', ')')


def _retention(campaign: str, label_by: str | None):
    """Retention against cycle of every cycling cell of a campaign (:func:`~aiida_ssb.plotting.cycling.plot_retention`:
    rate tests left out or greyed, as the figure says)."""
    from aiida_ssb.query import tables

    frame = tables.cells(campaign=campaign, columns=['sample_id'] + ([label_by] if label_by else []))
    entries = []
    for _, row in frame.iterrows():
        results = latest_results(row['sample_id'], 'cycling', limit=1)
        if not results or results[0].curves is None:
            continue
        label = row['sample_id'] + _label_text(row, label_by)
        entries.append((label, arrays_of(results[0].curves), results[0].summary.get_dict()))
    if not entries:
        raise InputError(f'no cell of {campaign!r} has a cycling result: run `aiida-ssb analyse --campaign {campaign}`')
    return cyc.plot_retention(entries, title=f'{campaign}: capacity retention')


def _scatter(campaign: str, x: str, y: str, label_by: str | None, table: str):
    from aiida_ssb.query import tables

    columns = ['sample_id', x, y] + ([label_by] if label_by else [])
    getter = tables.cells if table == 'cells' else tables.samples
    # a lineage field (ball_milling.duration_min) is read at the nearest step of its kind: one number per point
    frame = getter(campaign=campaign, columns=list(dict.fromkeys(columns)), lineage='nearest')
    frame = frame.dropna(subset=[x, y])
    if frame.empty:
        raise InputError(f'no {table} of {campaign!r} have both {x} and {y}')
    figure, ax = new_figure()
    ax.plot(frame[x], frame[y], 'o-' if frame[x].is_monotonic_increasing else 'o')
    for _, row in frame.iterrows():
        text = str(row['sample_id']) + (_label_text(row, label_by) if label_by else '')
        ax.annotate(text, (row[x], row[y]), fontsize=7, xytext=(3, 3), textcoords='offset points')
    if y.endswith('_s_cm'):
        ax.set_yscale('log')
    x_label, y_label = field_label(x, table), field_label(y, table)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    set_title(ax, campaign, f'{y_label.split(" / ")[0]} against {x_label.split(" / ")[0]} ({len(frame)} {table})')
    return figure


def campaign_figure(
    campaign: str,
    kind: str,
    *,
    x: str | None = None,
    y: str | None = None,
    label_by: str | None = None,
    table: str = 'cells',
):
    """A figure comparing the cells (or samples) of a campaign (:data:`CAMPAIGN_KINDS`): ``scatter`` of two table
    fields (axes named by the fields' meanings and units), ``retention`` curves (rate tests left out or greyed, as
    the figure says), ``arrhenius`` or ``dqdv`` overlays."""
    from aiida_ssb.query import tables

    if kind == 'scatter':
        if not x or not y:
            raise InputError('a scatter plot needs --x and --y (fields of the cells or samples table)')
        return _scatter(campaign, x, y, label_by, table)
    if kind == 'retention':
        return _retention(campaign, label_by)
    if kind == 'arrhenius':
        frame = tables.cells(campaign=campaign, columns=['sample_id'] + ([label_by] if label_by else []))
        figure_axes = None
        for _, row in frame.iterrows():
            results = latest_results(row['sample_id'], 'arrhenius', limit=1)
            if not results:
                continue
            label = row['sample_id'] + _label_text(row, label_by)
            figure = imp.plot_arrhenius(
                results[0].summary.get_dict(), arrays_of(results[0].curves), figure_axes=figure_axes, label=label
            )
            figure_axes = (figure, figure.axes[0])
        if figure_axes is None:
            raise InputError(f'no cell of {campaign!r} has an Arrhenius result')
        figure_axes[1].set_title(f'{campaign}: Arrhenius', fontsize=9)
        return figure_axes[0]
    if kind == 'dqdv':
        frame = tables.cells(campaign=campaign, columns=['sample_id'] + ([label_by] if label_by else []))
        entries = []
        for _, row in frame.iterrows():
            results = latest_results(row['sample_id'], 'dqdv', limit=1)
            if not results:
                continue
            label = row['sample_id'] + _label_text(row, label_by)
            entries.append((label, arrays_of(results[0].curves), results[0].summary.get_dict()))
        if not entries:
            raise InputError(f'no cell of {campaign!r} has a dqdv result')
        return ec.plot_dqdv_overlay(entries, title=f'{campaign}: dQ/dV of the first half cycle')
    raise InputError(f'unknown campaign plot kind {kind!r}: one of {", ".join(CAMPAIGN_KINDS)}')
