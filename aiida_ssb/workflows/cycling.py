"""``CyclingWorkChain`` and ``OxidativeStabilityWorkChain``: the cycling and voltammetry analyses of a cell."""

from __future__ import annotations

from aiida import orm

from aiida_ssb.calculations.analyse import (
    analyse_ccd,
    analyse_cycling,
    analyse_onsets,
    analyse_stepwise_cv,
    rising_cutoffs,
    working_electrode_of,
)
from aiida_ssb.data.measurements import CyclingData, SymmetricCellData, VoltammogramData
from aiida_ssb.workflows.base import CellAnalysisBase, electrolyte_of

__all__ = ['CyclingWorkChain', 'OxidativeStabilityWorkChain']


class CyclingWorkChain(CellAnalysisBase):
    """Every galvanostatic record of a cell: the cycling summary (capacity, CE, retention, blocks, rate table),
    and for a symmetric cell the critical current density.

    ``options`` may hold ``cycling`` (see :class:`~aiida_ssb.schemas.analysis.CyclingOptions`) and ``ccd``
    (:class:`~aiida_ssb.schemas.analysis.CcdOptions`)."""

    measurement_classes = (CyclingData,)

    def analyse(self):
        options = self.options_dict()
        cycling = orm.Dict(options.get('cycling', {}))
        ccd = orm.Dict(options.get('ccd', {}))
        cell = self.inputs.cell
        for label, measurement in sorted(self.inputs.get('measurements', {}).items()):
            if measurement.technique in ('ocv', 'wait'):
                continue  # a rest record has no cycles
            if isinstance(measurement, SymmetricCellData):
                self.collect(f'{label}_ccd', analyse_ccd, measurement=measurement, cell=cell, options=ccd)
            else:
                self.collect(label, analyse_cycling, measurement=measurement, cell=cell, options=cycling)


class OxidativeStabilityWorkChain(CellAnalysisBase):
    """Every voltammogram of a cell: oxidative and reductive onsets (two-line method by default) with the
    working-electrode validity flags, and for a stepwise CV (upper cut-off raised step by step) the stepwise
    analysis; each result is linked to the electrolyte material as well. ``options`` may hold ``onsets`` and
    ``stepwise_cv``."""

    measurement_classes = (VoltammogramData,)

    def analyse(self):
        options = orm.Dict(self.options_dict().get('onsets', {}))
        cell = self.inputs.cell
        inputs = {'cell': cell, 'options': options}
        electrolyte = electrolyte_of(cell)
        if electrolyte is not None:
            inputs['electrolyte'] = electrolyte
        description = working_electrode_of(cell)
        if description:
            inputs['working_electrode'] = orm.Dict(description)
        stepwise = self.options_dict().get('stepwise_cv', {})
        for label, measurement in sorted(self.inputs.get('measurements', {}).items()):
            self.collect(label, analyse_onsets, measurement=measurement, **inputs)
            if rising_cutoffs(measurement, stepwise.get('min_steps', 3)):
                stepwise_inputs = {key: value for key, value in inputs.items() if key != 'working_electrode'}
                stepwise_inputs['options'] = orm.Dict(stepwise)
                self.collect(f'{label}_stepwise', analyse_stepwise_cv, measurement=measurement, **stepwise_inputs)
