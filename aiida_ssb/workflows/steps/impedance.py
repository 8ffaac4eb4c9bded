"""Steps of the impedance analyses: circuit fit (model choice), DRT, conductivity, Arrhenius, interface growth, cell
impedance."""

from __future__ import annotations

from typing import Any

from aiida_ssb.analysis.eis.model import CELL_FAMILY, PELLET_FAMILY
from aiida_ssb.calculations.impedance import (
    analyse_arrhenius,
    analyse_cell_impedance,
    analyse_conductivity,
    analyse_drt,
    analyse_eis_fit,
    analyse_interface_growth,
)
from aiida_ssb.query.records import electrolyte_of
from aiida_ssb.workflows.run import AnalysisRun

__all__ = [
    'CANDIDATE_FAMILIES',
    'DEFAULT_CIRCUITS',
    'STATE_LABELS',
    'arrhenius',
    'cell_impedance',
    'conductivity',
    'drt',
    'eis_fit',
    'impedance_route',
    'interface_growth',
]

#: the candidate circuits of the automatic choice, per cell format (pin one with the ``eis_fit`` options)
CANDIDATE_FAMILIES: dict[str, tuple[str, ...]] = {
    'blocking_pellet': PELLET_FAMILY,
    'symmetric': CELL_FAMILY,
    'half': CELL_FAMILY,
    'full': CELL_FAMILY,
    'three_electrode': CELL_FAMILY,
}

#: former name: the circuit was once one per format; it is now chosen per spectrum from
#: :data:`CANDIDATE_FAMILIES` (``'auto'``), with roles assigned by physics
DEFAULT_CIRCUITS: dict[str, tuple[str, dict[str, str]]] = {fmt: ('auto', {}) for fmt in CANDIDATE_FAMILIES}

#: state labels of spectra that an interface resistance can be tracked against, in order of preference
STATE_LABELS = ('time_since_assembly_h', 'cycle_index', 'upper_cutoff_v')


def impedance_route(run: AnalysisRun) -> str | None:
    """Where a cell's spectra go: ``conductivity`` (a blocking pellet, or spectra at three or more temperatures),
    ``interface_growth`` (two or more spectra carrying a state label: time, cycle, upper cut-off) or
    ``cell_impedance`` (any other cell: its resistances by role); None without spectra."""
    spectra = run.measurements.get('eis', [])
    if not spectra:
        return None
    temperatures = {s.base.attributes.get('temperature_c', None) for s in spectra} - {None}
    if run.cell.base.attributes.get('format') == 'blocking_pellet' or len(temperatures) >= 3:
        return 'conductivity'
    if _state_labels(run):
        return 'interface_growth'
    return 'cell_impedance'


def _state_labels(run: AnalysisRun) -> list[str]:
    spectra = run.measurements.get('eis', [])
    return [
        label for label in STATE_LABELS if sum(s.base.attributes.get(label, None) is not None for s in spectra) >= 2
    ]


def eis_fit(run: AnalysisRun) -> None:
    """A fit of every spectrum with the circuit chosen from the evidence (or the one pinned in the options)."""
    spectra = run.labelled('eis')
    if not spectra:
        run.skip('eis_fit', 'no impedance spectrum')
        return
    options = run.settings_node('eis_fit')
    for label, spectrum in spectra:
        run.call('eis_fit', analyse_eis_fit, label, spectrum=spectrum, options=options, cell=run.cell)


def drt(run: AnalysisRun) -> None:
    """The distribution of relaxation times of every spectrum."""
    spectra = run.labelled('eis')
    if not spectra:
        run.skip('drt', 'no impedance spectrum')
        return
    options = run.settings_node('drt')
    for label, spectrum in spectra:
        run.call('drt', analyse_drt, label, spectrum=spectrum, options=options)


def conductivity(run: AnalysisRun) -> None:
    """sigma = L/(R A) of every spectrum of a conductivity measurement, from its fit when accepted."""
    if impedance_route(run) != 'conductivity':
        run.skip('conductivity', 'no spectra of a conductivity measurement', applies=False)
        return
    options = run.settings_node('conductivity')
    electrolyte = electrolyte_of(run.cell)
    fits = run.successful('eis_fit')
    for label, spectrum in run.labelled('eis'):
        inputs: dict[str, Any] = {'spectrum': spectrum, 'cell': run.cell, 'options': options}
        if label in fits:
            inputs['fit'] = fits[label].outputs['summary']
        if electrolyte is not None:
            inputs['electrolyte'] = electrolyte
        run.call('conductivity', analyse_conductivity, label, **inputs)


def arrhenius(run: AnalysisRun) -> None:
    """The Arrhenius fit of the conductivities, when they span enough temperatures."""
    conductivities = {
        label: outcome.summary
        for label, outcome in run.successful('conductivity').items()
        if outcome.summary.get('measurement_temperature_c') is not None
    }
    settings = run.settings('arrhenius')
    temperatures = {node['measurement_temperature_c'] for node in conductivities.values()}
    if len(temperatures) < max(3, settings.min_points):
        run.skip(
            'arrhenius', f'{len(temperatures)} distinct temperatures', applies=impedance_route(run) == 'conductivity'
        )
        return
    run.call('arrhenius', analyse_arrhenius, 'series', options=run.settings_node('arrhenius'), **conductivities)


def interface_growth(run: AnalysisRun) -> None:
    """A fitted interface resistance tracked over the spectra's state label (time, cycle, cut-off)."""
    if impedance_route(run) != 'interface_growth':
        run.skip('interface_growth', 'no series of spectra with a state label', applies=False)
        return
    labels = _state_labels(run)
    fmt = run.cell.base.attributes.get('format')
    defaults = {
        'against': labels[0],
        'element': 'interface' if fmt == 'symmetric' else 'cathode_interphase',
    }
    settings = run.settings('interface_growth', defaults)
    fits = {
        label: outcome.summary
        for label, outcome in run.successful('eis_fit').items()
        if outcome.summary.get(f'measurement_{settings.against}') is not None
    }
    if len(fits) < 2:
        run.skip('interface_growth', f'{len(fits)} fitted spectra carry {settings.against}')
        return
    options = run.settings_node('interface_growth', defaults)
    run.call('interface_growth', analyse_interface_growth, 'series', options=options, **fits)


def cell_impedance(run: AnalysisRun) -> None:
    """The resistances by role of every fitted spectrum of a cell that is neither a conductivity measurement nor
    a labelled series."""
    if impedance_route(run) != 'cell_impedance':
        run.skip('cell_impedance', 'the spectra go to conductivity or interface growth', applies=False)
        return
    fits = run.successful('eis_fit')
    if not fits:
        run.skip('cell_impedance', 'no fitted spectrum')
        return
    options = run.settings_node('cell_impedance')
    for label, spectrum in run.labelled('eis'):
        if label in fits:
            inputs = {'spectrum': spectrum, 'fit': fits[label].outputs['summary'], 'cell': run.cell}
            run.call('cell_impedance', analyse_cell_impedance, label, options=options, **inputs)
