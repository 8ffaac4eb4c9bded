"""Galvanostatic cycling summary: half cycles, cycles, efficiencies, retention, protocol blocks, rate table, the
papers' derived quantities, the conventions that follow from the cell and plausibility flags.

Pure, vectorised numpy (no AiiDA, no pandas). The heavy work is a handful of passes over the rows plus
per-segment reductions with :func:`numpy.add.reduceat`; Python loops only run over cycles or protocol
blocks, never over rows.

Sign convention (as in :mod:`aiida_ssb.parsers.base`): ``current_ma`` is positive for oxidation at the working
electrode, i.e. *charge* of a cathode half cell or full cell. A half cycle is *charge* when its current is
positive and *discharge* when negative, whatever the electrode. Which half cycle opens a cycle and how the
coulombic efficiency is oriented follow from the cell (an anode half cell opens with the discharge, i.e. the
sodiation or lithiation of the electrode under test, and its CE is charge over discharge); see
:mod:`aiida_ssb.analysis.cycling.conventions`.

Modules: :mod:`~aiida_ssb.analysis.cycling.segment` (half cycles), :mod:`~aiida_ssb.analysis.cycling.tables`
(half-cycle and cycle tables), :mod:`~aiida_ssb.analysis.cycling.protocol` (blocks, reference, rate table),
:mod:`~aiida_ssb.analysis.cycling.quantities` (overpotentials at matched state of charge, capacity below a
voltage, CE levels), :mod:`~aiida_ssb.analysis.cycling.conventions` (cell kinds and conventions),
:mod:`~aiida_ssb.analysis.cycling.flags` (plausibility), :mod:`~aiida_ssb.analysis.cycling.headline` and
:mod:`~aiida_ssb.analysis.cycling.summary` (the summary itself). The formulas are on the docs page
``analysis/cycling``; the conventions on "How aiida-ssb counts".
"""

from __future__ import annotations

from aiida_ssb.analysis.cycling.conventions import (
    CELL_KINDS,
    CHEMISTRIES,
    KIND_CONVENTIONS,
    CellFacts,
    cell_facts,
    classify_cell,
    resolve_conventions,
)
from aiida_ssb.analysis.cycling.flags import FLAGS
from aiida_ssb.analysis.cycling.inputs import CyclingError
from aiida_ssb.analysis.cycling.segment import Segmentation, segment_half_cycles
from aiida_ssb.analysis.cycling.settings import (
    CE_CONVENTIONS,
    MASS_BASES,
    STANDARD_RETENTION_CYCLES,
    CyclingSettings,
    parse_reference,
)
from aiida_ssb.analysis.cycling.summary import CyclingSummary, summarise_cycling, summarise_measurement

__all__ = [
    'CELL_KINDS',
    'CE_CONVENTIONS',
    'CHEMISTRIES',
    'FLAGS',
    'KIND_CONVENTIONS',
    'MASS_BASES',
    'STANDARD_RETENTION_CYCLES',
    'CellFacts',
    'CyclingError',
    'CyclingSettings',
    'CyclingSummary',
    'Segmentation',
    'cell_facts',
    'classify_cell',
    'parse_reference',
    'resolve_conventions',
    'segment_half_cycles',
    'summarise_cycling',
    'summarise_measurement',
]
