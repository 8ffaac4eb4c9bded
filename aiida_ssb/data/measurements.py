"""Measurement nodes: instrument records as arrays in the repository, small metadata in attributes.

Every class is an :class:`~aiida.orm.ArrayData` (a :class:`~aiida_ssb.data.arrays.PackedArrayData`): the
canonical columns (``time_s``, ``voltage_v``, ``frequency_hz``...) are arrays in one ``arrays.npz`` in the
node's repository, read on first access. Attributes hold only
small facts: the technique, the column units, the number of rows, the instrument metadata, the
measurement conditions (flat and unit-suffixed, so they can be queried: ``temperature_c``,
``stack_pressure_mpa``, ``cycle_index``, ``upper_cutoff_v``...) and the measured object's ``sample_id``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from aiida_ssb.data.arrays import PackedArrayData
from aiida_ssb.parsers.base import COLUMNS, KIND_OF_TECHNIQUE, Measurement
from aiida_ssb.schemas.measurement import MeasurementConditions

__all__ = [
    'ALL_MEASUREMENT_CLASSES',
    'MEASUREMENT_CLASSES',
    'CyclingData',
    'DiffractionData',
    'ImpedanceSpectrumData',
    'MeasurementData',
    'SymmetricCellData',
    'ThermalData',
    'VoltammogramData',
    'measurement_class',
]


class MeasurementData(PackedArrayData):
    """Base of every measurement node (not used directly)."""

    kind: str = ''

    def __init__(
        self,
        measurement: Measurement | None = None,
        *,
        conditions: Mapping[str, Any] | None = None,
        sample_id: str | None = None,
        copy_arrays: bool = True,
        **kwargs,
    ):
        """:param copy_arrays: ``False`` takes the measurement's columns themselves, not copies (the parse process
        hands over a record it read and no longer uses: a large record is then held once)."""
        super().__init__(**kwargs)
        if measurement is None:
            return
        if measurement.kind != self.kind:
            raise ValueError(f'a {measurement.technique} record is {measurement.kind} data, not {self.kind}')
        for name, values in measurement.columns.items():
            self.set_array(name, values, copy=copy_arrays)
        attributes: dict[str, Any] = {
            'technique': measurement.technique,
            'kind': measurement.kind,
            'columns': {name: COLUMNS[name][0] for name in measurement.columns},
            'n_rows': measurement.n_rows,
            'metadata': _jsonable(measurement.metadata),
        }
        if measurement.file_format:
            attributes['file_format'] = measurement.file_format
        summary = measurement.metadata.get('settings_summary')
        if summary:
            # the technique settings' queryable numbers, flat (``attributes.settings.c_rate``); the whole
            # validated structure is ``metadata.technique_settings``
            attributes['settings'] = _jsonable(summary)
        if measurement.metadata.get('flags'):
            attributes['flags'] = _jsonable(measurement.metadata['flags'])
        if sample_id:
            attributes['sample_id'] = sample_id
        for key, value in (conditions or {}).items():
            attributes[key] = value
        self.base.attributes.set_many(attributes)

    # ------------------------------------------------------------------ access
    def stored_attributes(self) -> dict[str, Any]:
        """The node's attributes. A stored record's are read from the database once: they cannot change (a stored
        data node is immutable), and aiida-core reads them again, one query, at every access. The dict returned is
        the cache: read it, never change it (the properties below hand out copies)."""
        if not self.is_stored:
            return self.base.attributes.all
        cached = self.__dict__.get('_ssb_attributes')
        if cached is None:
            cached = self.__dict__['_ssb_attributes'] = self.base.attributes.all
        return cached

    def _attribute(self, key: str, default: Any = None) -> Any:
        """One attribute (a copy: the cache is never handed out)."""
        return copy.deepcopy(self.stored_attributes().get(key, default))

    @property
    def technique(self) -> str:
        return self._attribute('technique')

    @property
    def units(self) -> dict[str, str]:
        return dict(self._attribute('columns', {}))

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._attribute('metadata', {}))

    @property
    def settings(self) -> dict[str, Any]:
        """The technique settings' summary (technique, set current, C-rate, voltage limits...); empty when the file
        records none."""
        return dict(self._attribute('settings', {}))

    @property
    def technique_settings(self) -> dict[str, Any]:
        """The whole validated settings structure (sequences, limits, the vendor's text)."""
        return dict(self.metadata.get('technique_settings', {}))

    @property
    def conditions(self) -> dict[str, Any]:
        attributes = copy.deepcopy(self.stored_attributes())
        return {key: attributes[key] for key in MeasurementConditions.model_fields if key in attributes}

    def describe(self) -> str:
        """The record in one line: its file (and part), technique and conditions, e.g.
        ``FC-01_gcpl.mpr (gcpl; 25 °C, C/10)``: what a result, a plot or a table names it by."""
        attributes = self.stored_attributes()
        name = attributes.get('source_filename') or f'record {self.pk}'
        if attributes.get('part_index') is not None:
            name += f' #{attributes["part_index"]}'
        conditions = []
        if attributes.get('temperature_c') is not None:
            conditions.append(f'{attributes["temperature_c"]:g} °C')
        if attributes.get('c_rate') is not None:
            conditions.append(f'{attributes["c_rate"]:g} C')
        if attributes.get('scan_rate_mv_s') is not None:
            conditions.append(f'{attributes["scan_rate_mv_s"]:g} mV/s')
        for key, unit in (('upper_cutoff_v', ' V'), ('stack_pressure_mpa', ' MPa')):
            if attributes.get(key) is not None:
                conditions.append(f'{attributes[key]:g}{unit}')
        for key in ('branch', 'state'):
            if attributes.get(key):
                conditions.append(str(attributes[key]))
        if attributes.get('cycle_index') is not None:
            conditions.append(f'after cycle {attributes["cycle_index"]}')
        technique = attributes.get('technique') or self.kind
        return f'{name} ({technique}' + (f'; {", ".join(conditions)})' if conditions else ')')

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (a clear KeyError listing the columns when absent)."""
        if name not in self.units:
            raise KeyError(
                f'{self.__class__.__name__} {self.pk} has no column {name!r}; it has: {", ".join(self.units)}'
            )
        return self.get_array(name)

    def has_column(self, name: str) -> bool:
        return name in self.units

    def to_measurement(self) -> Measurement:
        """Back to the pure :class:`~aiida_ssb.parsers.base.Measurement` the analyses take."""
        return Measurement(
            technique=self.technique,
            columns={name: self.get_array(name) for name in self.units},
            metadata=self.metadata,
            source=self._attribute('source_filename'),
            file_format=self._attribute('file_format'),
        )

    def to_dataframe(self):
        """The columns as a pandas DataFrame (names keep their unit suffix), for notebooks."""
        import pandas as pd  # noqa: PLC0415 start-up time: pandas takes ~0.4 s to load, `show` imports this module

        return pd.DataFrame({name: self.get_array(name) for name in self.units})


class ImpedanceSpectrumData(MeasurementData):
    """``ssb.eis``: one impedance spectrum (``frequency_hz``, ``z_real_ohm``, ``z_imag_ohm``...)."""

    kind = 'eis'

    def impedance(self) -> tuple[np.ndarray, np.ndarray]:
        """(frequency in Hz, complex impedance in ohm)."""
        return self.get_array('frequency_hz'), self.get_array('z_real_ohm') + 1j * self.get_array('z_imag_ohm')


class VoltammogramData(MeasurementData):
    """``ssb.voltammetry``: a CV/LSV record (``voltage_v``, ``current_ma``, ``time_s``, ``cycle_index``)."""

    kind = 'voltammetry'


class CyclingData(MeasurementData):
    """``ssb.cycling``: a galvanostatic/potentiostatic time series (GCPL, MB, CP, CA, OCV, cycler records)."""

    kind = 'cycling'


class SymmetricCellData(CyclingData):
    """``ssb.symmetric``: plating/stripping of a symmetric cell (Na|SE|Na, Li|SE|Li), e.g. a CCD test."""


class ThermalData(MeasurementData):
    """``ssb.thermal``: DSC/TGA (``temperature_c``, ``heat_flow_mw``, ``mass_percent``...)."""

    kind = 'thermal'


class DiffractionData(MeasurementData):
    """``ssb.diffraction``: a powder pattern (``two_theta_deg``, ``intensity_counts``)."""

    kind = 'diffraction'


MEASUREMENT_CLASSES: dict[str, type[MeasurementData]] = {
    'eis': ImpedanceSpectrumData,
    'voltammetry': VoltammogramData,
    'cycling': CyclingData,
    'thermal': ThermalData,
    'diffraction': DiffractionData,
}


#: every concrete measurement class (QueryBuilder needs these: entry-point type strings do not encode inheritance)
ALL_MEASUREMENT_CLASSES: tuple[type[MeasurementData], ...] = (
    ImpedanceSpectrumData,
    VoltammogramData,
    CyclingData,
    SymmetricCellData,
    ThermalData,
    DiffractionData,
)


def measurement_class(technique: str, cell_format: str | None = None) -> type[MeasurementData]:
    """The node class for a technique (a cycling record of a symmetric cell is a :class:`SymmetricCellData`)."""
    kind = KIND_OF_TECHNIQUE[technique]
    if kind == 'cycling' and cell_format == 'symmetric':
        return SymmetricCellData
    return MEASUREMENT_CLASSES[kind]


def _jsonable(value: Any) -> Any:
    """Metadata -> JSON-safe plain Python (numpy scalars to Python, NaN dropped)."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            converted = _jsonable(item)
            if converted is not None:
                result[str(key)] = converted
        return result
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
