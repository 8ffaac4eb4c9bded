"""``ConductivityWorkChain`` and ``InterfaceWorkChain``: the impedance analyses of a cell."""

from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain

from aiida_ssb.calculations.analyse import (
    analyse_arrhenius,
    analyse_conductivity,
    analyse_eis_fit,
    analyse_interface_growth,
)
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.measurements import ImpedanceSpectrumData
from aiida_ssb.workflows.base import builder_for, electrolyte_of

__all__ = ['DEFAULT_CIRCUITS', 'ConductivityWorkChain', 'InterfaceWorkChain', 'default_fit_options']

#: default circuit (and element roles) per cell format; override with ``options.eis``
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


def default_fit_options(cell_format: str, given: dict | None = None) -> dict:
    """The fit options for a cell format, updated with what the user gave."""
    circuit, roles = DEFAULT_CIRCUITS.get(cell_format, DEFAULT_CIRCUITS['full'])
    options = {'circuit': circuit, 'roles': dict(roles)}
    given = dict(given or {})
    if 'circuit' in given and 'roles' not in given:
        options['roles'] = {}
    options.update(given)
    return options


class _ImpedanceBase(WorkChain):
    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('cell', valid_type=CellData, help='The measured cell (its electrolyte layer gives the geometry).')
        spec.input_namespace(
            'measurements',
            valid_type=ImpedanceSpectrumData,
            dynamic=True,
            help='The spectra (default: every spectrum of the cell).',
        )
        spec.input(
            'options',
            valid_type=orm.Dict,
            required=False,
            help='{"eis": fit options, "conductivity": ..., "arrhenius": ..., "growth": ...}',
        )
        spec.output_namespace('fits', valid_type=orm.Dict, dynamic=True, help='One fit summary per spectrum.')
        spec.output_namespace('fit_curves', valid_type=orm.ArrayData, dynamic=True, help='Data, fit and residuals.')
        spec.exit_code(401, 'ERROR_SOME_ANALYSES_FAILED', message='some analyses failed: {failures}')
        spec.exit_code(402, 'ERROR_NO_MEASUREMENTS', message='the cell has no impedance spectrum')

    @classmethod
    def get_builder_for(cls, cell: CellData, options: dict | None = None, measurements=None):
        """A builder with every impedance spectrum of ``cell`` (or the ones given)."""
        return builder_for(cls, cell, options, measurements, (ImpedanceSpectrumData,))

    def setup(self):
        self.ctx.failures = []
        options = self.inputs.options.get_dict() if 'options' in self.inputs else {}
        self.ctx.options = options
        self.ctx.fit_options = orm.Dict(default_fit_options(self.inputs.cell.format, options.get('eis')))
        self.ctx.fits = {}

    def _run(self, function, label, **inputs):
        outputs, node = function.run_get_node(metadata={'label': f'{function.__name__} {label}'}, **inputs)
        if not node.is_finished_ok:
            self.ctx.failures.append(f'{label}: {node.exit_message}')
            self.report(f'{label}: {node.exit_message}')
            return None
        return outputs

    def fit_spectra(self):
        for label, spectrum in sorted(self.inputs.get('measurements', {}).items()):
            outputs = self._run(
                analyse_eis_fit, label, spectrum=spectrum, options=self.ctx.fit_options, cell=self.inputs.cell
            )
            if outputs is not None:
                self.out(f'fits.{label}', outputs['summary'])
                self.out(f'fit_curves.{label}', outputs['curves'])
                self.ctx.fits[label] = outputs['summary']

    def finish(self):
        if not self.inputs.get('measurements', {}):
            return self.exit_codes.ERROR_NO_MEASUREMENTS
        if self.ctx.failures:
            return self.exit_codes.ERROR_SOME_ANALYSES_FAILED.format(failures='; '.join(self.ctx.failures))
        return None


class ConductivityWorkChain(_ImpedanceBase):
    """Ionic conductivity of a pellet against temperature: every spectrum is fitted (default circuit by cell
    format), turned into sigma = L/(R A), and the sigma(T) series gets an Arrhenius fit. Each step is a
    linked process; the conductivities and the Arrhenius result are linked to the electrolyte material."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.output_namespace('conductivities', valid_type=orm.Dict, dynamic=True, help='sigma per spectrum.')
        spec.output('arrhenius', valid_type=orm.Dict, required=False, help='The Arrhenius fit of sigma(T).')
        spec.output('arrhenius_curves', valid_type=orm.ArrayData, required=False)
        spec.outline(cls.setup, cls.fit_spectra, cls.conductivity, cls.arrhenius, cls.finish)

    def conductivity(self):
        cell = self.inputs.cell
        electrolyte = electrolyte_of(cell)
        options = orm.Dict(self.ctx.options.get('conductivity', {}))
        self.ctx.conductivities = {}
        for label, spectrum in sorted(self.inputs.get('measurements', {}).items()):
            inputs = {'spectrum': spectrum, 'cell': cell, 'options': options}
            if label in self.ctx.fits:
                inputs['fit'] = self.ctx.fits[label]
            if electrolyte is not None:
                inputs['electrolyte'] = electrolyte
            outputs = self._run(analyse_conductivity, label, **inputs)
            if outputs is not None:
                self.out(f'conductivities.{label}', outputs['summary'])
                self.ctx.conductivities[label] = outputs['summary']

    def arrhenius(self):
        with_temperature = {
            label: node
            for label, node in self.ctx.conductivities.items()
            if node.get('measurement_temperature_c') is not None
        }
        temperatures = {node['measurement_temperature_c'] for node in with_temperature.values()}
        options = self.ctx.options.get('arrhenius', {})
        if len(temperatures) < max(3, options.get('min_points', 3)):
            self.report(f'{len(temperatures)} distinct temperatures: no Arrhenius fit')
            return
        outputs = self._run(analyse_arrhenius, 'arrhenius', options=orm.Dict(options), **with_temperature)
        if outputs is not None:
            self.out('arrhenius', outputs['summary'])
            self.out('arrhenius_curves', outputs['curves'])


class InterfaceWorkChain(_ImpedanceBase):
    """Interface resistances of a cell's spectra over time, cycles or upper cut-off: every spectrum is
    fitted and the chosen resistance is tracked; against time the parabolic growth law is fitted."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.output('growth', valid_type=orm.Dict, required=False, help='The resistance against the state label.')
        spec.output('growth_curves', valid_type=orm.ArrayData, required=False)
        spec.outline(cls.setup, cls.fit_spectra, cls.track, cls.finish)

    def track(self):
        options = self.ctx.options.get('growth', {})
        against = options.get('against', 'time_since_assembly_h')
        labelled = {label: fit for label, fit in self.ctx.fits.items() if fit.get(f'measurement_{against}') is not None}
        if len(labelled) < 2:
            self.report(f'{len(labelled)} fitted spectra carry {against}: nothing to track')
            return
        outputs = self._run(analyse_interface_growth, 'growth', options=orm.Dict(options), **labelled)
        if outputs is not None:
            self.out('growth', outputs['summary'])
            self.out('growth_curves', outputs['curves'])
