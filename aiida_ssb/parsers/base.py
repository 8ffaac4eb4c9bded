"""The contract every instrument reader fulfils: a file becomes a :class:`Measurement`.

No AiiDA import here (DESIGN.md: ``parsers/`` is pure). A :class:`Measurement` holds

* ``technique``: the canonical technique code (see :data:`TECHNIQUES`), e.g. ``'peis'``, ``'gcpl'``;
* ``columns``: one 1-D numpy array per quantity, under the canonical names of :data:`COLUMNS`
  (snake_case, ending with the unit, e.g. ``voltage_v``, ``current_ma``, ``z_imag_ohm``);
* ``metadata``: small JSON-serialisable facts from the file (instrument, software version, start
  time as ISO string *and* Unix seconds, electrode area, technique settings...). Unknown facts are
  absent, never zero.

Sign conventions (fixed, whatever the instrument wrote):

* ``z_imag_ohm`` is the imaginary part of Z itself, negative for a capacitive arc
  (EC-Lab writes -Im(Z); readers flip it);
* ``current_ma`` is positive for oxidation at the working electrode (charge of a cathode half-cell).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


from aiida_ssb.exceptions import InputError

__all__ = [
    'COLUMNS',
    'KIND_OF_TECHNIQUE',
    'TECHNIQUES',
    'Measurement',
    'ParseError',
    'UnsupportedFormatError',
    'column_unit',
    'timestamp_metadata',
]


class ParseError(InputError):
    """A file that cannot be read. The message always names the file and the reason."""

    def __init__(self, path: str | os.PathLike[str] | None, reason: str, line: int | None = None):
        self.path = None if path is None else os.fspath(path)
        self.reason = reason
        self.line = line
        where = self.path or '<data>'
        if line is not None:
            where = f'{where}, line {line}'
        super().__init__(f'{where}: {reason}')


class UnsupportedFormatError(ParseError):
    """A format we recognise but cannot read here (e.g. a vendor binary without a reader)."""


#: Canonical column name -> (unit, description). Readers must only emit these names.
COLUMNS: dict[str, tuple[str, str]] = {
    # time and electrochemistry
    'time_s': ('s', 'time since the start of the record'),
    'voltage_v': ('V', 'working-electrode potential (Ewe); the cell voltage in a two-electrode cell'),
    'counter_voltage_v': ('V', 'counter-electrode potential (Ece), where recorded'),
    'cell_voltage_v': ('V', 'Ewe - Ece, where recorded separately'),
    'current_ma': ('mA', 'current, positive for oxidation at the working electrode'),
    'charge_mah': ('mAh', 'cumulative charge passed since the start, (Q-Q0)'),
    'charge_capacity_mah': ('mAh', 'charge passed in the current charge half cycle (instrument counter)'),
    'discharge_capacity_mah': ('mAh', 'charge passed in the current discharge half cycle (instrument counter)'),
    'charge_energy_mwh': ('mWh', 'energy of the current charge half cycle (instrument counter)'),
    'discharge_energy_mwh': ('mWh', 'energy of the current discharge half cycle (instrument counter)'),
    'power_mw': ('mW', 'power of the working electrode (EC-Lab P, Pwe)'),
    'counter_power_mw': ('mW', 'power of the counter electrode (EC-Lab Pce)'),
    'cell_power_mw': ('mW', 'power of the cell, working minus counter electrode (EC-Lab Pwe-ce)'),
    'counter_charge_energy_mwh': ('mWh', 'counter-electrode energy of the current charge half cycle'),
    'counter_discharge_energy_mwh': ('mWh', 'counter-electrode energy of the current discharge half cycle'),
    'cell_charge_energy_mwh': ('mWh', 'cell (we-ce) energy of the current charge half cycle'),
    'cell_discharge_energy_mwh': ('mWh', 'cell (we-ce) energy of the current discharge half cycle'),
    'energy_mwh': ('mWh', 'net energy of the working electrode since the start (EC-Lab Energy we)'),
    'counter_energy_mwh': ('mWh', 'net energy of the counter electrode since the start (EC-Lab Energy ce)'),
    'cell_energy_mwh': ('mWh', 'net energy of the cell since the start (EC-Lab Energy we-ce)'),
    'energy_throughput_mwh': ('mWh', 'energy passed in either direction since the start (EC-Lab |Energy|)'),
    'capacity_mah': ('mAh', 'charge passed in the current half cycle, unsigned (EC-Lab Capacity)'),
    'coulombic_efficiency_percent': ('%', 'discharge over charge of the cycle (EC-Lab Efficiency)'),
    'charge_capacitance_uf': ('uF', 'differential capacitance dQ/dE on charge (EC-Lab Capacitance charge)'),
    'discharge_capacitance_uf': ('uF', 'differential capacitance dQ/dE on discharge (EC-Lab Capacitance discharge)'),
    'resistance_ohm': ('ohm', 'resistance of the working electrode from a current step (EC-Lab R, Rwe)'),
    'counter_resistance_ohm': ('ohm', 'resistance of the counter electrode (EC-Lab Rce)'),
    'cell_resistance_ohm': ('ohm', 'resistance of the cell (EC-Lab Rwe-ce)'),
    'intercalation_x': ('mol/mol', 'x of the active material, moles of ion per mole (EC-Lab x)'),
    'step_time_s': ('s', 'time since the start of the current step'),
    'cycle_index': ('1', 'cycle counter of the instrument (0- or 1-based as the instrument counts)'),
    'half_cycle_index': ('1', 'half-cycle counter of the instrument'),
    'step_index': ('1', 'step (sequence) counter of the instrument'),
    'loop_index': ('1', 'loop counter (e.g. repeated impedance spectra)'),
    'technique_index': ('1', 'index of the technique within a linked-technique file'),
    'control_mode': ('1', 'EC-Lab mode: 1 galvanostatic, 2 potentiostatic, 3 rest'),
    'control_current_ma': ('mA', 'set-point current'),
    'control_voltage_v': ('V', 'set-point potential'),
    'temperature_c': ('degC', 'temperature'),
    # impedance
    'frequency_hz': ('Hz', 'frequency'),
    'z_real_ohm': ('ohm', 'real part of the impedance, Re(Z)'),
    'z_imag_ohm': ('ohm', 'imaginary part of the impedance, Im(Z) (negative for a capacitive arc)'),
    'z_mod_ohm': ('ohm', 'modulus |Z|'),
    'z_phase_deg': ('deg', 'phase of Z'),
    'dc_voltage_v': ('V', 'mean (DC) potential during an impedance point'),
    'dc_current_ma': ('mA', 'mean (DC) current during an impedance point'),
    # thermal analysis
    'heat_flow_mw': ('mW', 'DSC heat flow, exothermic positive (where the file says which way is exothermic)'),
    'mass_mg': ('mg', 'sample mass (TGA)'),
    'mass_percent': ('%', 'sample mass relative to the initial mass (TGA)'),
    # diffraction
    'two_theta_deg': ('deg', 'diffraction angle 2theta'),
    'intensity_counts': ('counts', 'diffracted intensity'),
}

#: Canonical technique code -> human name. The measurement kind follows from it.
TECHNIQUES: dict[str, str] = {
    'peis': 'potentiostatic impedance spectroscopy',
    'geis': 'galvanostatic impedance spectroscopy',
    'eis': 'impedance spectroscopy (control mode not recorded)',
    'zir': 'IR determination by impedance (EC-Lab ZIR)',
    'cv': 'cyclic voltammetry',
    'cva': 'cyclic voltammetry, advanced',
    'lsv': 'linear sweep voltammetry',
    'gcpl': 'galvanostatic cycling with potential limitation',
    'mb': 'modulo bat (linked galvanostatic/potentiostatic sequences)',
    'cp': 'chronopotentiometry',
    'ca': 'chronoamperometry',
    'ocv': 'open-circuit voltage',
    'wait': 'wait (rest)',
    'cycling': 'battery cycler record (Neware, Arbin, Maccor)',
    'dsc': 'differential scanning calorimetry',
    'tga': 'thermogravimetric analysis',
    'sta': 'simultaneous thermal analysis (DSC + TGA)',
    'xrd': 'X-ray powder diffraction',
}

#: Technique -> measurement kind (the data node class the AiiDA layer stores it in).
KIND_OF_TECHNIQUE: dict[str, str] = {
    'peis': 'eis',
    'geis': 'eis',
    'eis': 'eis',
    'zir': 'eis',
    'cv': 'voltammetry',
    'cva': 'voltammetry',
    'lsv': 'voltammetry',
    'gcpl': 'cycling',
    'mb': 'cycling',
    'cp': 'cycling',
    'ca': 'cycling',
    'ocv': 'cycling',
    'wait': 'cycling',
    'cycling': 'cycling',
    'dsc': 'thermal',
    'tga': 'thermal',
    'sta': 'thermal',
    'xrd': 'diffraction',
}


def column_unit(name: str) -> str:
    """The unit of a canonical column."""
    try:
        return COLUMNS[name][0]
    except KeyError:
        raise KeyError(f'{name!r} is not a canonical column name; known: {", ".join(sorted(COLUMNS))}') from None


def timestamp_metadata(moment: _dt.datetime | None) -> dict[str, Any]:
    """``{'start_time': ISO string, 'start_time_unix_s': float}`` (SQLite cannot cast JSON dates,
    so both forms are kept). Naive datetimes are kept naive in the ISO string (the instrument's local
    time) and read as UTC for the Unix seconds, which is stated in ``start_time_zone``."""
    if moment is None:
        return {}
    if moment.tzinfo is None:
        unix = moment.replace(tzinfo=_dt.timezone.utc).timestamp()
        return {'start_time': moment.isoformat(), 'start_time_unix_s': unix, 'start_time_zone': 'unknown (read as UTC)'}
    return {'start_time': moment.isoformat(), 'start_time_unix_s': moment.timestamp()}


@dataclasses.dataclass
class Measurement:
    """One instrument record, read and typed.

    :param technique: canonical technique code (a key of :data:`TECHNIQUES`).
    :param columns: canonical column name -> 1-D numpy array; all arrays have the same length.
    :param metadata: JSON-serialisable facts from the file; absent when unknown.
    :param source: the path read, if any.
    :param file_format: the format code of the reader, e.g. ``'biologic-mpt'``.
    """

    technique: str
    columns: dict[str, np.ndarray]
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    source: str | None = None
    file_format: str | None = None

    def __post_init__(self) -> None:
        if self.technique not in TECHNIQUES:
            raise ValueError(f'unknown technique {self.technique!r}; known: {", ".join(TECHNIQUES)}')
        lengths = set()
        for name, values in self.columns.items():
            if name not in COLUMNS:
                raise ValueError(f'{name!r} is not a canonical column name')
            array = np.asarray(values)
            if array.ndim != 1:
                raise ValueError(f'column {name!r} is not one-dimensional')
            self.columns[name] = array
            lengths.add(array.shape[0])
        if len(lengths) > 1:
            raise ValueError(f'columns have different lengths: {sorted(lengths)}')

    # ------------------------------------------------------------------ basic views
    @property
    def kind(self) -> str:
        """The measurement kind: ``eis``, ``voltammetry``, ``cycling``, ``thermal`` or ``diffraction``."""
        return KIND_OF_TECHNIQUE[self.technique]

    @property
    def n_rows(self) -> int:
        return next(iter(self.columns.values())).shape[0] if self.columns else 0

    @property
    def units(self) -> dict[str, str]:
        return {name: column_unit(name) for name in self.columns}

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(
                f'{self.source or "measurement"} has no column {name!r}; it has: {", ".join(self.columns)}'
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def to_dataframe(self) -> pd.DataFrame:
        """The columns as a pandas DataFrame (column names keep their unit suffix)."""
        import pandas as pd  # noqa: PLC0415 import time: aiida_ssb.parsers loads without pandas (tests/parsers/test_api.py)

        return pd.DataFrame(dict(self.columns))

    # ------------------------------------------------------------------ splitting
    def select(self, mask: np.ndarray, **extra_metadata: Any) -> Measurement:
        """A new Measurement with the rows where ``mask`` is true (metadata copied, then updated)."""
        metadata = dict(self.metadata)
        metadata.update(extra_metadata)
        return Measurement(
            technique=self.technique,
            columns={name: values[mask] for name, values in self.columns.items()},
            metadata=metadata,
            source=self.source,
            file_format=self.file_format,
        )

    def split(self, by: str | None = None) -> list[Measurement]:
        """Split into parts by an index column (default: ``loop_index`` for impedance when it varies,
        else ``cycle_index`` for impedance and voltammetry). Each part records ``part_index`` and the
        value of the splitting column in its metadata (``split_by``, ``split_value``). A record with a
        single part returns ``[self]``."""
        if by is None:
            by = self._default_split_column()
            if by is None:
                return [self]
        values = self[by]
        if values.size == 0:
            return [self]
        # contiguous runs keep the time order; a value reappearing later is a new part
        change = np.flatnonzero(np.diff(values) != 0) + 1
        starts = np.concatenate(([0], change))
        stops = np.concatenate((change, [values.size]))
        if starts.size == 1:
            return [self]
        parts = []
        for number, (start, stop) in enumerate(zip(starts, stops)):
            mask = np.zeros(values.size, dtype=bool)
            mask[start:stop] = True
            parts.append(self.select(mask, part_index=number, split_by=by, split_value=_plain(values[start])))
        return parts

    def _default_split_column(self) -> str | None:
        if self.kind == 'eis':
            for name in ('loop_index', 'cycle_index'):
                if name in self.columns and np.unique(self.columns[name]).size > 1:
                    return name
            # several sweeps in one file without a counter: split where frequency jumps back up
            return None
        return None

    def spectra(self) -> list[Measurement]:
        """Impedance only: the individual spectra of this record (split by loop/cycle counters and,
        when no counter distinguishes them, at every jump of the frequency back to the start)."""
        if self.kind != 'eis':
            raise ValueError(f'{self.source or "measurement"} is a {self.technique} record, not impedance')
        parts = self.split()
        result = []
        for part in parts:
            result.extend(part._split_at_frequency_restart())
        for number, part in enumerate(result):
            part.metadata['spectrum_index'] = number
        return result

    def _split_at_frequency_restart(self) -> list[Measurement]:
        if 'frequency_hz' not in self.columns or self.n_rows < 3:
            return [self]
        f = self.columns['frequency_hz']
        logf = np.log10(np.clip(np.abs(f), 1e-300, None))
        step = np.diff(logf)
        direction = np.sign(np.median(step)) if step.size else 0.0
        if direction == 0:
            return [self]
        # a restart is a jump against the sweep direction larger than a decade's half
        restarts = np.flatnonzero(direction * step < -0.5) + 1
        if restarts.size == 0:
            return [self]
        bounds = np.concatenate(([0], restarts, [f.size]))
        parts = []
        for start, stop in itertools.pairwise(bounds):
            mask = np.zeros(f.size, dtype=bool)
            mask[start:stop] = True
            parts.append(self.select(mask))
        return parts


def _plain(value: Any) -> Any:
    """numpy scalar -> Python scalar (for JSON metadata)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_columns(path: str | os.PathLike[str], columns: Mapping[str, np.ndarray], required: Iterable[str]) -> None:
    """Raise a ParseError naming the file when a required canonical column is missing or empty."""
    missing = [name for name in required if name not in columns]
    if missing:
        raise ParseError(path, f'missing column(s) {", ".join(missing)}')
    for name in required:
        if np.asarray(columns[name]).size == 0:
            raise ParseError(path, 'the file holds no data rows')
