"""Steps of the impedance analyses: circuit fit, conductivity, Arrhenius, interface growth."""

from __future__ import annotations

from typing import Any

from aiida_ssb.calculations.impedance import (
    analyse_arrhenius,
    analyse_conductivity,
    analyse_eis_fit,
    analyse_interface_growth,
)
from aiida_ssb.query.records import electrolyte_of
from aiida_ssb.workflows.run import AnalysisRun

__all__ = [
    'DEFAULT_CIRCUITS',
    'STATE_LABELS',
    'arrhenius',
    'conductivity',
    'eis_fit',
    'impedance_route',
    'interface_growth',
]

#: default circuit (and element roles) per cell format; override with the ``eis_fit`` options
DEFAULT_CIRCUITS: dict[str, tuple[str, dict[str, str]]] = {
    'blocking_pellet': ('p(R1,CPE1)-CPE2', {'R1': 'bulk', 'CPE2': 'electrode'}),
    'symmetric': ('R0-p(R1,CPE1)', {'R0': 'electrolyte', 'R1': 'interface'}),
    'half': ('R0-p(R1,CPE1)-p(R2,CPE2)', {'R0': 'electrolyte', 'R1': 'interface', 'R2': 'cathode_interphase'}),
    'full': ('R0-p(R1,CPE1)-p(R2,CPE2)', {'R0': 'electrolyte', 'R1': 'interface', 'R2': 'cathode_interphase'}),
    'three_electrode': (
        'R0-p(R1,CPE1)-p(R2,CPE2)',
        {'R0': 'electrolyte', 'R1': 'interface', 'R2': 'cathode_interphase'},
    ),
}

#: state labels of spectra that an interface resistance can be tracked against, in order of preference
STATE_LABELS = ('time_since_assembly_h', 'cycle_index', 'upper_cutoff_v')


def impedance_route(run: AnalysisRun) -> str | None:
    """Where a cell's spectra go: ``conductivity`` (a blocking pellet, or spectra at three or more temperatures,
    or spectra without a state label) or ``interface_growth`` (two or more spectra carrying a state label);
    None without spectra."""
    spectra = run.measurements.get('eis', [])
    if not spectra:
        return None
    temperatures = {s.base.attributes.get('temperature_c', None) for s in spectra} - {None}
    labelled = _state_labels(run)
    if run.cell.base.attributes.get('format') == 'blocking_pellet' or len(temperatures) >= 3 or not labelled:
        return 'conductivity'
    return 'interface_growth'


def _state_labels(run: AnalysisRun) -> list[str]:
    spectra = run.measurements.get('eis', [])
    return [
        label for label in STATE_LABELS if sum(s.base.attributes.get(label, None) is not None for s in spectra) >= 2
    ]


def _fit_defaults(run: AnalysisRun) -> dict[str, Any]:
    circuit, roles = DEFAULT_CIRCUITS.get(run.cell.base.attributes.get('format'), DEFAULT_CIRCUITS['full'])
    given = run.section('eis_fit')
    if 'circuit' in given and 'roles' not in given:
        roles = {}  # roles of the default circuit do not apply to another circuit
    return {'circuit': circuit, 'roles': dict(roles)}


def eis_fit(run: AnalysisRun) -> None:
    """An equivalent-circuit fit of every spectrum (the circuit of the cell's format unless one is given)."""
    spectra = run.labelled('eis')
    if not spectra:
        run.skipped['eis_fit'] = 'no impedance spectrum'
        return
    options = run.settings_node('eis_fit', _fit_defaults(run))
    for label, spectrum in spectra:
        run.call('eis_fit', analyse_eis_fit, label, spectrum=spectrum, options=options, cell=run.cell)


def conductivity(run: AnalysisRun) -> None:
    """sigma = L/(R A) of every spectrum of a conductivity cell, from its fit when accepted."""
    if impedance_route(run) != 'conductivity':
        run.skipped['conductivity'] = 'no spectra of a conductivity measurement'
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
        label: outcome.outputs['summary']
        for label, outcome in run.successful('conductivity').items()
        if outcome.outputs['summary'].get('measurement_temperature_c') is not None
    }
    settings = run.settings('arrhenius')
    temperatures = {node['measurement_temperature_c'] for node in conductivities.values()}
    if len(temperatures) < max(3, settings.min_points):
        run.skipped['arrhenius'] = f'{len(temperatures)} distinct temperatures'
        return
    run.call('arrhenius', analyse_arrhenius, 'series', options=run.settings_node('arrhenius'), **conductivities)


def interface_growth(run: AnalysisRun) -> None:
    """A fitted interface resistance tracked over the spectra's state label (time, cycle, cut-off)."""
    if impedance_route(run) != 'interface_growth':
        run.skipped['interface_growth'] = 'no series of spectra with a state label'
        return
    labels = _state_labels(run)
    fmt = run.cell.base.attributes.get('format')
    defaults = {
        'against': labels[0],
        'element': 'interface' if fmt == 'symmetric' else 'cathode_interphase',
    }
    settings = run.settings('interface_growth', defaults)
    fits = {
        label: outcome.outputs['summary']
        for label, outcome in run.successful('eis_fit').items()
        if outcome.outputs['summary'].get(f'measurement_{settings.against}') is not None
    }
    if len(fits) < 2:
        run.skipped['interface_growth'] = f'{len(fits)} fitted spectra carry {settings.against}'
        return
    options = run.settings_node('interface_growth', defaults)
    run.call('interface_growth', analyse_interface_growth, 'series', options=options, **fits)
