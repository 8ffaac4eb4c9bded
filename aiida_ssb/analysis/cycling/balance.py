"""Electrode balance of a full cell: the N/P ratio from measured half-cell capacities.

The theoretical ratio is a derived value of the cell record (``np_ratio_theoretical``: theoretical areal
capacities). The measured ratio needs a half cell of each electrode, built from the same electrode material
(the same cast sheet) as the full cell's layer, and uses each half cell's first-cycle capacity in the direction
the electrode is first used in the full cell (the direction that matters for metal plating):

    N/P = (q_neg x L_neg) / (q_pos x L_pos)

with q_pos the first charge (desodiation) capacity per active mass of the positive electrode's half cell, q_neg
the first discharge (sodiation) capacity per active mass of the negative electrode's half cell, and L the active
loadings of the full cell's layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ['HALF_CELL_CAPACITY', 'np_ratio_measured']

#: electrode -> (the half-cell summary key of its capacity, what it is)
HALF_CELL_CAPACITY: dict[str, tuple[str, str]] = {
    'positive': ('initial_charge_capacity_mah_g_active', 'first charge (desodiation/delithiation) capacity'),
    'negative': ('initial_discharge_capacity_mah_g_active', 'first discharge (sodiation/lithiation) capacity'),
}


def np_ratio_measured(
    cell_values: Mapping[str, Any],
    positive: Mapping[str, Any] | None,
    negative: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The measured N/P ratio of a full cell and its sources, or ``{'np_ratio_measured_note': why not}``.

    :param cell_values: the full cell's attributes (``positive_mass_loading_mg_cm2``,
        ``negative_mass_loading_mg_cm2``).
    :param positive: the cycling summary of a half cell of the positive electrode (or None).
    :param negative: the cycling summary of a half cell of the negative electrode (or None).
    """
    if positive is None or negative is None:
        missing = [name for name, found in (('positive', positive), ('negative', negative)) if found is None]
        return {'np_ratio_measured_note': f'no analysed half cell of the {" and ".join(missing)} electrode material'}
    out: dict[str, Any] = {}
    areal = {}
    for side, summary in (('positive', positive), ('negative', negative)):
        key, what = HALF_CELL_CAPACITY[side]
        capacity = summary.get(key)
        loading = cell_values.get(f'{side}_mass_loading_mg_cm2')
        if capacity is None or loading is None:
            why = f'its half cell has no {key}' if capacity is None else 'the full cell gives no active loading'
            return {'np_ratio_measured_note': f'{side} electrode: {why}'}
        out[f'{side}_half_cell'] = summary.get('sample_id')
        out[f'{side}_half_cell_capacity_mah_g'] = capacity
        out[f'{side}_areal_capacity_measured_mah_cm2'] = capacity * loading / 1000.0
        areal[side] = capacity * loading
        out[f'{side}_half_cell_capacity_rule'] = what
    out['np_ratio_measured'] = areal['negative'] / areal['positive']
    return out
