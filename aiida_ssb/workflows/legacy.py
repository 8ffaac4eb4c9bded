"""The per-technique workchains of aiida-ssb 0.1, kept so that graphs stored by that version still load.

Until 0.2 a cell analysis was a workchain calling one of these per technique, each calling the process
functions. The cell analysis now calls the process functions itself (:mod:`aiida_ssb.workflows.cell`); these
classes remain registered under their entry points (``ssb.conductivity``, ``ssb.interface``, ``ssb.cycling``,
``ssb.oxidative_stability``) because a stored process node names its class. Each still runs: it applies the
steps of its analyses (:mod:`aiida_ssb.workflows.steps`) to the measurements given.
"""

from __future__ import annotations

from typing import ClassVar

from aiida import orm
from aiida.engine import WorkChain

from aiida_ssb.data.cell import CellData
from aiida_ssb.data.measurements import MeasurementData
from aiida_ssb.workflows import steps
from aiida_ssb.workflows.run import AnalysisRun

__all__ = ['ConductivityWorkChain', 'CyclingWorkChain', 'InterfaceWorkChain', 'OxidativeStabilityWorkChain']


class _TechniqueWorkChain(WorkChain):
    """A cell, some of its measurements and options; runs the steps of :attr:`analyses` on them."""

    analyses: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('cell', valid_type=CellData, help='The measured cell.')
        spec.input_namespace(
            'measurements', valid_type=MeasurementData, dynamic=True, help='The measurements (default: all).'
        )
        spec.input('options', valid_type=orm.Dict, required=False, help='Options by analysis section.')
        spec.output_namespace('results', valid_type=orm.Dict, dynamic=True, help='results.<analysis>.<label>')
        spec.output_namespace('curves', valid_type=orm.ArrayData, dynamic=True, help='curves.<analysis>.<label>')
        spec.outline(cls.analyse)
        spec.exit_code(401, 'ERROR_SOME_ANALYSES_FAILED', message='some analyses failed: {failures}')
        spec.exit_code(402, 'ERROR_NO_MEASUREMENTS', message='no measurement of this kind')

    def analyse(self):
        given = self.inputs.get('measurements', {})
        options = self.inputs.options.get_dict() if 'options' in self.inputs else {}
        run = AnalysisRun(
            self.inputs.cell, options, report=self.report, measurements=list(given.values()) if given else None
        )
        for name in self.analyses:
            getattr(steps, name)(run)
        if not run.results:
            return self.exit_codes.ERROR_NO_MEASUREMENTS
        for name, outcomes in run.results.items():
            for label, outcome in outcomes.items():
                if outcome.ok:
                    self.out(f'results.{name}.{label}', outcome.outputs['summary'])
                    if 'curves' in outcome.outputs:
                        self.out(f'curves.{name}.{label}', outcome.outputs['curves'])
        if run.failures:
            return self.exit_codes.ERROR_SOME_ANALYSES_FAILED.format(failures='; '.join(run.failures))
        return None


class ConductivityWorkChain(_TechniqueWorkChain):
    """0.1: fits, conductivities and the Arrhenius fit of a cell's spectra (entry point ``ssb.conductivity``)."""

    analyses = ('eis_fit', 'conductivity', 'arrhenius')


class InterfaceWorkChain(_TechniqueWorkChain):
    """0.1: fits and the interface-resistance tracking of a cell's spectra (entry point ``ssb.interface``)."""

    analyses = ('eis_fit', 'interface_growth')


class CyclingWorkChain(_TechniqueWorkChain):
    """0.1: the cycling summary and CCD of a cell's galvanostatic records (entry point ``ssb.cycling``)."""

    analyses = ('cycling', 'ccd')


class OxidativeStabilityWorkChain(_TechniqueWorkChain):
    """0.1: onsets and stepwise CV of a cell's voltammograms (entry point ``ssb.oxidative_stability``)."""

    analyses = ('onsets', 'stepwise_cv')
