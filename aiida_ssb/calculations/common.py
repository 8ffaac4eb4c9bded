"""What the ``analyse_*`` process functions share: exit codes by error kind, JSON-safe summaries, curves nodes,
the measurement conditions copied into a result, the masses of a cell by normalisation basis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import ExitCode

from aiida_ssb.data.arrays import CurvesData
from aiida_ssb.exceptions import AnalysisError

__all__ = [
    'ANALYSIS_FAILED',
    'STATE_LABELS',
    'cell_masses_mg',
    'clean',
    'curves_node',
    'failed',
    'run_analysis',
    'run_function',
    'state_of',
]

#: exit status of an analysis that cannot produce a result from its input
ANALYSIS_FAILED = 300


def failed(message: str, error: BaseException | None = None) -> ExitCode:
    """The exit code of a failed analysis: the status of the error's kind (see :mod:`aiida_ssb.exceptions`:
    310 too little data, 320 settings, 330 not converged, 340 a missing input), else 300."""
    status = error.exit_status if isinstance(error, AnalysisError) else ANALYSIS_FAILED
    return ExitCode(status, message)


def curves_node(arrays: Mapping[str, np.ndarray]) -> CurvesData:
    node = CurvesData()
    for name, values in arrays.items():
        values = np.asarray(values)
        if values.dtype.kind in 'OUS':  # strings/objects cannot be stored as .npy without pickle
            values = values.astype(str).astype('U')
        node.set_array(name, values)
    return node


def clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, non-finite floats dropped (unknown is absent)."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            cleaned = clean(item)
            if cleaned is not None:
                result[str(key)] = cleaned
        return result
    if isinstance(value, (list, tuple)):
        return [clean(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def cell_masses_mg(cell: orm.Data, bases: list[str]) -> dict[str, float]:
    """Masses of the requested normalisation bases, from the cell's stated and derived values.

    ``active``: active material of the positive layer; ``composite``: the positive layer; ``electrolyte``:
    the electrolyte/separator layer; ``cell``: every layer with a stated mass. Bases whose mass is unknown
    are left out."""
    attributes = cell.base.attributes.all
    available = {
        'active': attributes.get('active_mass_mg'),
        'composite': attributes.get('positive_mass_mg'),
        'electrolyte': attributes.get('electrolyte_mass_mg'),
    }
    layer_masses = [layer['mass_mg'] for layer in attributes.get('layers', []) if 'mass_mg' in layer]
    if layer_masses:
        available['cell'] = float(sum(layer_masses))
    return {basis: float(value) for basis in bases if (value := available.get(basis))}


def run_function(function: Any, metadata: dict[str, Any], **inputs: Any) -> tuple[dict[str, Any], orm.ProcessNode]:
    """Run a process function with its ``metadata`` input; returns ``(outputs, process node)``.

    ``function`` is typed ``Any``: AiiDA's ``ProcessFunctionType`` gives ``run_get_node`` the decorated
    function's own signature, which has no ``metadata`` input although every process function takes one."""
    outputs, node = function.run_get_node(metadata=metadata, **inputs)
    return dict(outputs or {}), node


def run_analysis(function: Any, label: str, **inputs: Any) -> tuple[dict[str, Any], orm.ProcessNode]:
    """Run an analyse_* function, returning (outputs, process node); a failed analysis raises ValueError
    with its message (the failed process stays in the graph, as the record of the attempt)."""
    outputs, node = run_function(function, {'label': label}, **inputs)
    if not node.is_finished_ok:
        raise AnalysisError(f'{label}: {node.exit_message or node.process_state}')
    return outputs, node


STATE_LABELS = (
    'temperature_c',
    'branch',
    'cycle_index',
    'upper_cutoff_v',
    'time_since_assembly_h',
    'state',
    'stack_pressure_mpa',
)


def state_of(measurement: orm.Data) -> dict[str, Any]:
    attributes = measurement.base.attributes.all
    return {f'measurement_{key}': attributes[key] for key in STATE_LABELS if attributes.get(key) is not None}
