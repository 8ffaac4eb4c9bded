"""Steps of the electrochemical analyses of issue 21: dQ/dV, GITT, PITT, DC polarisation, transference number.

Which record gets which analysis is decided from the cell and the record itself (documented on each analysis
page):

* a record of a non-symmetric cell that holds at least ``min_pulses`` constant-current pulses of one direction,
  each followed by a rest, is a GITT record (:func:`~aiida_ssb.analysis.gitt.looks_like_gitt`);
* one that holds at least ``min_steps`` potential steps of one direction with decaying currents is a PITT record
  (:func:`~aiida_ssb.analysis.gitt.looks_like_pitt`);
* every other galvanostatic record of a non-symmetric cell (not ``ca``, ``ocv``, ``wait``) gets dQ/dV;
* a chronoamperometry (``ca``) record of a cell with ion-blocking electrodes (format ``blocking_pellet``, a
  ``blocking_electrode`` layer, or a working electrode that is a current collector, such as the Cu of
  Li | SE | Cu) gets the electronic conductivity;
* a chronoamperometry record of a symmetric cell gets the transference number, with the impedance spectra
  measured just before and just after it (by start time, else by the order of the records).
"""

from __future__ import annotations

from typing import Any

from aiida import orm

from aiida_ssb.analysis.gitt import looks_like_gitt, looks_like_pitt
from aiida_ssb.calculations.electrochem import (
    analyse_dc_polarisation,
    analyse_dqdv,
    analyse_gitt,
    analyse_pitt,
    analyse_transference_number,
)
from aiida_ssb.data.measurements import SymmetricCellData
from aiida_ssb.data.sample import find_sample
from aiida_ssb.query.records import electrolyte_of
from aiida_ssb.workflows.run import AnalysisRun

__all__ = ['dc_polarisation', 'dqdv', 'gitt', 'pitt', 'record_class', 'transference_number']

_NOT_GALVANOSTATIC = ('ca', 'ocv', 'wait')
_CLASSES: dict[tuple[str, str], str] = {}


def record_class(run: AnalysisRun, node: orm.Data) -> str:
    """``'gitt'``, ``'pitt'`` or ``'cycling'`` for a cycling-kind record (cached per record and settings)."""

    gitt_settings = run.settings('gitt')
    pitt_settings = run.settings('pitt')
    key = (node.uuid, repr((gitt_settings.parameters(), pitt_settings.parameters())))
    if key not in _CLASSES:
        time, current = node.get_array('time_s'), node.get_array('current_ma')
        if looks_like_gitt(time, current, settings=gitt_settings):
            _CLASSES[key] = 'gitt'
        elif looks_like_pitt(time, node.get_array('voltage_v'), current, settings=pitt_settings):
            _CLASSES[key] = 'pitt'
        else:
            _CLASSES[key] = 'cycling'
    return _CLASSES[key]


def _records(run: AnalysisRun, symmetric: bool) -> list[tuple[str, orm.Data]]:
    return [
        (label, node)
        for label, node in run.labelled('cycling')
        if isinstance(node, SymmetricCellData) == symmetric
        and all(node.has_column(name) for name in ('time_s', 'voltage_v', 'current_ma'))
    ]


def dqdv(run: AnalysisRun) -> None:
    """dQ/dV of every galvanostatic record of a non-symmetric cell that is not a titration."""
    records = [
        (label, node)
        for label, node in _records(run, symmetric=False)
        if node.technique not in _NOT_GALVANOSTATIC and record_class(run, node) == 'cycling'
    ]
    if not records:
        run.skip('dqdv', 'no galvanostatic cycling record of a cell that is not symmetric', applies=False)
        return
    options = run.settings_node('dqdv')
    for label, node in records:
        run.call('dqdv', analyse_dqdv, label, measurement=node, cell=run.cell, options=options)


def _titration(run: AnalysisRun, name: str, function: Any) -> None:
    records = [(label, node) for label, node in _records(run, symmetric=False) if record_class(run, node) == name]
    if not records:
        run.skip(name, f'no {name.upper()} record', applies=False)  # a protocol the cell was not given
        return
    options = run.settings_node(name)
    for label, node in records:
        run.call(name, function, label, measurement=node, cell=run.cell, options=options)


def gitt(run: AnalysisRun) -> None:
    """Weppner-Huggins analysis of every GITT record."""
    _titration(run, 'gitt', analyse_gitt)


def pitt(run: AnalysisRun) -> None:
    """Diffusion coefficients of every PITT record."""
    _titration(run, 'pitt', analyse_pitt)


def _blocking(cell: orm.Data) -> bool:
    """A cell with ion-blocking electrodes: a blocking pellet, a ``blocking_electrode`` layer, or a working
    electrode that is a bare current collector (the Cu of Li | SE | Cu, a Pt or steel disc)."""

    attributes = cell.base.attributes.all
    layers = attributes.get('layers', [])
    if attributes.get('format') == 'blocking_pellet' or any(
        layer.get('role') == 'blocking_electrode' for layer in layers
    ):
        return True
    for layer in layers:
        if layer.get('role') == 'working':
            material = find_sample(layer.get('material'))
            if material is not None and material.base.attributes.get('role', None) == 'current_collector':
                return True
    return False


def dc_polarisation(run: AnalysisRun) -> None:
    """Electronic conductivity of every chronoamperometry record of a cell with ion-blocking electrodes."""
    if not _blocking(run.cell):
        run.skip('dc_polarisation', 'not a cell with ion-blocking electrodes', applies=False)
        return
    records = [(label, node) for label, node in _records(run, symmetric=False) if node.technique == 'ca']
    if not records:
        run.skip('dc_polarisation', 'no chronoamperometry record', applies=False)
        return
    options = run.settings_node('dc_polarisation')
    electrolyte = electrolyte_of(run.cell)
    for label, node in records:
        inputs: dict[str, Any] = {'measurement': node, 'cell': run.cell, 'options': options}
        if electrolyte is not None:
            inputs['electrolyte'] = electrolyte
        run.call('dc_polarisation', analyse_dc_polarisation, label, **inputs)


def _start(node: orm.Data) -> float | None:
    metadata = node.base.attributes.get('metadata', {}) or {}
    return metadata.get('start_time_unix_s')


def _around(run: AnalysisRun, record: orm.Data) -> tuple[tuple[str, orm.Data] | None, tuple[str, orm.Data] | None]:
    """The spectra just before and just after a record: by start time when every node has one, else by the order
    in which the records were stored."""
    spectra = run.labelled('eis')
    start = _start(record)
    starts = {id(node): _start(node) for _, node in spectra}
    if start is not None and all(value is not None for value in starts.values()):
        known = {key: float(value) for key, value in starts.items() if value is not None}
        end = start + float(record.get_array('time_s')[-1] - record.get_array('time_s')[0])
        before = [item for item in spectra if known[id(item[1])] <= start]
        after = [item for item in spectra if known[id(item[1])] >= end - 1.0]
        return (max(before, key=lambda x: known[id(x[1])]) if before else None), (
            min(after, key=lambda x: known[id(x[1])]) if after else None
        )
    before = [item for item in spectra if item[1].ctime <= record.ctime]
    after = [item for item in spectra if item[1].ctime > record.ctime]
    return (before[-1] if before else None), (after[0] if after else None)


def transference_number(run: AnalysisRun) -> None:
    """Bruce-Vincent transference number of every chronoamperometry record of a symmetric cell."""
    records = [(label, node) for label, node in _records(run, symmetric=True) if node.technique == 'ca']
    if not records:
        run.skip('transference_number', 'no chronoamperometry record of a symmetric cell', applies=False)
        return
    options = run.settings_node('transference_number')
    fits = run.successful('eis_fit')
    electrolyte = electrolyte_of(run.cell)
    for label, node in records:
        inputs: dict[str, Any] = {'measurement': node, 'cell': run.cell, 'options': options}
        before, after = _around(run, node)
        for when, found in (('before', before), ('after', after)):
            if found is None:
                continue
            spectrum_label, spectrum = found
            inputs[f'spectrum_{when}'] = spectrum
            if spectrum_label in fits:
                inputs[f'fit_{when}'] = fits[spectrum_label].outputs['summary']
        if electrolyte is not None:
            inputs['electrolyte'] = electrolyte
        run.call('transference_number', analyse_transference_number, label, **inputs)
