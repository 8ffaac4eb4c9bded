"""The demonstration: generate the seed campaigns, import them with the literature set, analyse every cell,
and put each paper's numbers beside what the analyses computed.

The campaigns come from :mod:`aiida_ssb.demo_data` (a generator that shares no code with the analysis it checks,
shipped in the package so the demonstration runs from an installed package) and its ``seed003_review.yaml`` (the
seed 003 review's tables as literature records). :data:`CHECKS` lists every
number the demonstration reproduces: the paper's value, the tolerance (the rounding of the paper, or a
documented modelling margin), and where the computed value is read in the graph.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from aiida import orm

from aiida_ssb import demo_data
from aiida_ssb.data.campaign import campaign_label
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.sample import find_sample
from aiida_ssb.demo_data.generate import generate
from aiida_ssb.importer.manifest import plan_import, run_import
from aiida_ssb.query.index import INDEX_EXTRA
from aiida_ssb.query.records import materials_with_records
from aiida_ssb.query.results import latest_results
from aiida_ssb.workflows.cell import run_cell_analyses

__all__ = [
    'CHECKS',
    'DEMO_CAMPAIGNS',
    'Check',
    'analyse_campaigns',
    'evaluate_checks',
    'generate_campaigns',
    'import_campaigns',
]

DEMO_CAMPAIGNS = (
    'seed004-milling-series',
    'seed000-4v-cell',
    'seed001-infiltrated-electrodes',
    'seed002-stability-method',
)
LITERATURE_MANIFEST = pathlib.Path(demo_data.__file__).resolve().parent / 'seed003_review.yaml'


def generate_campaigns(workdir: pathlib.Path, reduced: bool = False) -> list[pathlib.Path]:
    """Write the demonstration campaigns (manifests and instrument files) into ``workdir``. Deterministic:
    files already there are rewritten byte for byte, so a second import stores nothing new."""
    workdir.mkdir(parents=True, exist_ok=True)
    return list(generate(workdir, reduced=reduced))


def import_campaigns(manifests: list[pathlib.Path], *, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Import the manifests (and the literature set); returns how many entries each stored."""

    stored = {}
    for manifest in list(manifests) + [LITERATURE_MANIFEST]:
        plan = plan_import(manifest)
        if plan.n_new:
            run_import(plan, progress=progress)
        stored[plan.campaign] = plan.n_new
    return stored


def analyse_campaigns(*, force: bool = False, progress: Callable[[str], None] | None = None) -> list:
    """Analyse the cells of the demonstration campaigns that have no analysis yet (all with ``force``)."""

    labels = [campaign_label(name) for name in DEMO_CAMPAIGNS]
    query = orm.QueryBuilder().append(orm.Group, filters={'label': {'in': labels}, 'type_string': 'core'}, tag='g')
    query.append(CellData, with_group='g', project='*')
    cells = sorted({cell.pk: cell for cell in query.all(flat=True)}.values(), key=lambda c: c.pk)
    cells += materials_with_records(DEMO_CAMPAIGNS)  # powders with DSC and diffraction records

    def analysed(node) -> bool:
        if isinstance(node, CellData):
            return INDEX_EXTRA in node.base.extras.keys()
        query = orm.QueryBuilder().append(orm.Node, filters={'id': node.pk}, tag='sample')
        query.append(orm.WorkChainNode, with_incoming='sample', filters={'process_type': {'like': '%cell_analysis'}})
        return query.count() > 0

    todo = [cell for cell in cells if force or not analysed(cell)]
    if not todo:
        return []
    return run_cell_analyses(todo)


# ------------------------------------------------------------------------------------------------ checks
@dataclass
class Check:
    """One paper number and how the demonstration recomputes it."""

    seed: str
    quantity: str
    paper: float
    unit: str
    tolerance: float
    compute: Callable[[dict], float | None]
    note: str = ''
    computed: float | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.computed is not None and abs(self.computed - self.paper) <= self.tolerance


def _index(sample_id: str, key: str) -> float | None:
    node = find_sample(sample_id)
    if node is None:
        return None
    return (node.base.extras.get(INDEX_EXTRA, {}) or {}).get(key)


def _summary(sample_id: str, analysis: str, key: str, **match) -> float | None:
    for result in latest_results(sample_id, analysis):
        data = result.summary.get_dict()
        if all(data.get(k) == v for k, v in match.items()) and data.get(key) is not None:
            return data[key]
    return None


def _onset_table(sample_id: str, table: str, key: str, **match) -> float | None:
    """``key`` of the first row of an onset result's table (``onsets`` or ``peaks``) matching ``match``."""

    for result in latest_results(sample_id, 'onsets'):
        for row in result.summary.get(table, []):
            if all(row.get(k) == v for k, v in match.items()) and row.get(key) is not None:
                return row[key]
    return None


def _regime(sample_id: str, which: str) -> float | None:
    """Ea of the ``'highest'`` or ``'lowest'`` temperature regime of the heating branch of the cell's Arrhenius
    fit (the regimes are chosen by the evidence: the papers state no windows)."""

    for result in latest_results(sample_id, 'arrhenius', limit=1):
        regimes = [r for r in result.summary.get('regimes', []) if r.get('branch') in (None, 'heating')]
        if regimes:
            pick = max if which == 'highest' else min
            return pick(regimes, key=lambda r: r['t_min_c'])['activation_energy_ev']
    return None


def _growth_point(sample_id: str, at: float) -> float | None:
    """The tracked interface resistance (ohm cm2) at a state label value (upper cut-off or time)."""

    for result in latest_results(sample_id, 'interface_growth', limit=1):
        if result.curves is None:
            continue
        against = result.summary['against']
        x = result.curves.get_array(against)
        r = result.curves.get_array('resistance_ohm_cm2')
        index = int(np.argmin(np.abs(x - at)))
        if abs(x[index] - at) < 1e-6:
            return float(r[index])
    return None


def _optimum_milling_time(expected: dict) -> float | None:
    times = expected['seed004']['milling_time_min']
    found = {cell: _index(cell, 'conductivity_25c_s_cm') for cell in times}
    values = {cell: v for cell, v in found.items() if v is not None}
    if len(values) < len(times):
        return None
    return float(times[max(values, key=lambda cell: values[cell])])


def _scan_rate_shift(cell: str, reference: str) -> float | None:
    a, b = _index(cell, 'oxidative_onset_v'), _index(reference, 'oxidative_onset_v')
    return None if a is None or b is None else a - b


def _failure_cycle_retention(expected: dict) -> float | None:
    cell = 'NVOPF-FC-430'
    cycle = expected['seed000']['long_term'][cell]['failure_after_cycle']

    for result in latest_results(cell, 'cycling', limit=1):
        if result.curves is None:
            continue
        numbers = list(result.curves.get_array('cycle__cycle'))
        if cycle in numbers:
            return float(result.curves.get_array('cycle__capacity_retention_percent')[numbers.index(cycle)])
    return None


def _electrode_buildup(sample_id: str) -> float | None:
    """mV: the largest change of an electrode's plateau overpotential between the first and the last cycle of a
    three-electrode record (the paper: no build-up)."""

    for result in latest_results(sample_id, 'cycling'):
        electrodes = result.summary.get_dict().get('electrodes') or {}
        changes = [
            abs(values['end_plateau_overpotential_v'] - values['initial_plateau_overpotential_v'])
            for values in electrodes.values()
            if 'end_plateau_overpotential_v' in values and 'initial_plateau_overpotential_v' in values
        ]
        if len(changes) == 2:
            return 1000.0 * max(changes)
    return None


def _literature(key: str, sample_id: str) -> float | None:
    return _summary(sample_id, 'literature', key)


#: every paper number the demonstration reproduces
CHECKS: list[Check] = [
    Check(
        '004',
        'σ(25 °C), NaCB11H12 milled 45 min',
        4e-3,
        'S/cm',
        0.5e-3,
        lambda e: _index('PEL-NCB-45', 'conductivity_25c_s_cm'),
        'paper: "4 mS cm-1"',
    ),
    Check('004', 'milling time of the conductivity optimum', 45, 'min', 0, _optimum_milling_time),
    Check(
        '004',
        'Ea above room temperature, 45 min',
        0.205,
        'eV',
        0.012,
        lambda e: _regime('PEL-NCB-45', 'highest'),
        'highest-temperature regime chosen by evidence (the paper gives no window); the crossover is curved: the '
        'bend the split leaves in the regime is trimmed and flagged (full data: 0.208 over 25-100 C; 0.220 '
        'untrimmed over -10-100 C)',
    ),
    Check(
        '004',
        'Ea far below room temperature, 45 min',
        0.671,
        'eV',
        0.012,
        lambda e: _regime('PEL-NCB-45', 'lowest'),
        'lowest-temperature regime chosen by evidence (full data: 0.666, the curved crossover)',
    ),
    Check(
        '004',
        'Ea of the unmilled (ordered) NaCB11H12',
        0.629,
        'eV',
        0.005,
        lambda e: _regime('PEL-NCB-0', 'lowest'),
        'regime below the order-disorder transition, chosen by evidence',
    ),
    Check('004', 'CCD, sudden-drop criterion', 0.12, 'mA/cm2', 0.005, lambda e: _index('SYM-NA-MM45', 'ccd_ma_cm2')),
    Check('004', 'CCD, 0 V criterion', 0.3, 'mA/cm2', 0.005, lambda e: _index('SYM-NA-MM45', 'ccd_zero_volt_ma_cm2')),
    Check(
        '004',
        'oxidative edge potential (SSRCV 50 µV/s)',
        4.14,
        'V',
        0.01,
        lambda e: _index('SSRCV-MM45', 'oxidative_onset_v'),
        'edge method (tangent at the steepest point), automatic windows',
    ),
    Check(
        '004',
        'small anodic peak before the edge (reported, not the onset)',
        3.3,
        'V',
        0.01,
        lambda e: _onset_table('SSRCV-MM45', 'peaks', 'potential_v'),
    ),
    Check(
        '000',
        'onset of Na2B12H12 (10 µV/s, 60 °C)',
        3.45,
        'V',
        0.01,
        lambda e: _index('CV-B12-C65', 'oxidative_onset_v'),
    ),
    Check(
        '000',
        'onset of NaCB11H12 (10 µV/s, 60 °C)',
        4.20,
        'V',
        0.01,
        lambda e: _index('CV-NCB-C65', 'oxidative_onset_v'),
    ),
    Check(
        '000',
        'minor onset (solvent residues), kept in the table',
        2.9,
        'V',
        0.02,
        lambda e: _onset_table('CV-NCB-C65', 'onsets', 'onset_v', headline=False),
        'the headline is the first onset with >= 10 % of the strongest rise (paper: minor, not the onset)',
    ),
    Check(
        '000',
        'R2 at upper cut-off 4.20 V',
        100,
        'Ω cm2',
        15,
        lambda e: _growth_point('NVOPF-FC-STEP', 4.20),
        'paper: "~100"',
    ),
    Check(
        '000',
        'R2 at upper cut-off 4.40 V',
        1000,
        'Ω cm2',
        150,
        lambda e: _growth_point('NVOPF-FC-STEP', 4.40),
        'paper: "up to 1 kΩ cm2"',
    ),
    Check(
        '000',
        'first-cycle coulombic efficiency (4.15 V cell)',
        91.4,
        '%',
        0.05,
        lambda e: _index('NVOPF-FC-415', 'initial_coulombic_efficiency_percent'),
    ),
    Check(
        '000',
        'initial C/5 discharge capacity',
        99,
        'mAh/g',
        0.5,
        lambda e: _index('NVOPF-FC-415', 'reference_discharge_capacity_mah_g'),
    ),
    Check(
        '000',
        'capacity retention at the end (paper: after 800 cycles)',
        78.8,
        '%',
        0.5,
        lambda e: _index('NVOPF-FC-415', 'capacity_retention_percent_at_end'),
        '78/99; the paper prints "78 %"',
    ),
    Check(
        '000',
        'energy retention at the end',
        76,
        '%',
        0.5,
        lambda e: _index('NVOPF-FC-415', 'energy_retention_percent_at_end'),
    ),
    Check(
        '000',
        'average discharge voltage',
        3.8,
        'V',
        0.05,
        lambda e: _summary('NVOPF-FC-HL', 'cycling', 'initial_average_discharge_voltage_v'),
        'the high-loading cell behind 310 Wh/kg (117 mAh/g x 0.70 x 3.8 V)',
    ),
    Check(
        '000',
        'retention of the 4.30 V cell when it fails',
        44,
        '%',
        0.5,
        _failure_cycle_retention,
        'paper: cycle 160; the reduced demo compresses the fade',
    ),
    Check(
        '000',
        'mass loading of the pressure cell',
        8.0,
        'mg/cm2',
        0.05,
        lambda e: _cell_attribute('NVOPF-FC-HL', 'mass_loading_mg_cm2'),
    ),
    Check(
        '000',
        'first discharge of the high-loading cell',
        117,
        'mAh/g',
        0.5,
        lambda e: _index('NVOPF-FC-HL', 'initial_discharge_capacity_mah_g'),
    ),
    Check(
        '000',
        'specific energy per active material',
        443,
        'Wh/kg',
        3,
        lambda e: _summary('NVOPF-FC-HL', 'cycling', 'initial_specific_energy_wh_kg_active'),
    ),
    Check(
        '000',
        'specific energy per 70 % composite',
        310,
        'Wh/kg',
        3,
        lambda e: _summary('NVOPF-FC-HL', 'cycling', 'initial_specific_energy_wh_kg_composite'),
    ),
    Check(
        '001',
        'retention after the 0.5C cycling, 70 MPa',
        95.6,
        '%',
        0.1,
        lambda e: _index('NCO-HC-70MPA', 'capacity_retention_percent_at_end'),
    ),
    Check(
        '001',
        'retention after the 0.5C cycling, 3 MPa',
        85.9,
        '%',
        0.1,
        lambda e: _index('NCO-HC-3MPA', 'capacity_retention_percent_at_end'),
    ),
    Check(
        '001', 'rate capability 5C / 0.1C', 67.4, '%', 0.1, lambda e: _index('NCO-HC-RATE', 'rate_capability_percent')
    ),
    Check(
        '001',
        'Sn half cell: first-cycle CE',
        84.3,
        '%',
        0.1,
        lambda e: _index('SN-HC', 'initial_coulombic_efficiency_percent'),
    ),
    Check(
        '001',
        'Sn half cell: second-cycle CE',
        97.0,
        '%',
        0.1,
        lambda e: _index('SN-HC', 'second_coulombic_efficiency_percent'),
    ),
    Check(
        '001',
        'Sn half cell: retention after the 0.2C cycling',
        92.1,
        '%',
        0.1,
        lambda e: _index('SN-HC', 'capacity_retention_percent_at_end'),
        'desodiation capacity, the CE numerator of an anode half cell',
    ),
    Check(
        '001',
        'full cell: N/P from the half cells',
        1.20,
        '',
        0.005,
        lambda e: _index('NCO-SN-FC', 'np_ratio_measured'),
        'Sn first sodiation x 1.2 mg/cm2 over NaCrO2 first charge x 5.6 mg/cm2',
    ),
    Check(
        '001',
        'full cell: specific energy per NaCrO2',
        282,
        'Wh/kg',
        1,
        lambda e: _index('NCO-SN-FC', 'initial_specific_energy_wh_kg_active'),
    ),
    Check(
        '001',
        'full cell: specific energy per both composites',
        222,
        'Wh/kg',
        1,
        lambda e: _index('NCO-SN-FC', 'initial_specific_energy_wh_kg_both_composites'),
        'NaCrO2 and Sn electrodes without their infiltrated electrolyte, from the layer masses',
    ),
    Check(
        '001',
        'full cell: first-cycle CE',
        72.2,
        '%',
        0.1,
        lambda e: _index('NCO-SN-FC', 'initial_coulombic_efficiency_percent'),
    ),
    Check(
        '001',
        'full cell: second-cycle CE',
        95.8,
        '%',
        0.1,
        lambda e: _index('NCO-SN-FC', 'second_coulombic_efficiency_percent'),
    ),
    Check(
        '001',
        'full cell: second-cycle energy efficiency',
        84.9,
        '%',
        0.1,
        lambda e: _index('NCO-SN-FC', 'second_energy_efficiency_percent'),
    ),
    Check(
        '001',
        'full cell: retention after the 0.2C cycling',
        47.4,
        '%',
        0.1,
        lambda e: _index('NCO-SN-FC', 'capacity_retention_percent_at_end'),
    ),
    Check(
        '001',
        'three-electrode cell: overpotential build-up of either electrode',
        0.0,
        'mV',
        1.0,
        lambda e: _electrode_buildup('NCO-SN-3E'),
        'largest change of the plateau overpotential of NaCrO2 or Sn from the first to the last cycle',
    ),
    Check(
        '002', 'LiBH4 onset, 25 wt% Super P', 2.04, 'V', 0.01, lambda e: _index('LIBH4-SP25-10', 'oxidative_onset_v')
    ),
    Check(
        '002', 'LiBH4 onset, 5 wt% Ketjenblack', 2.08, 'V', 0.01, lambda e: _index('LIBH4-KB5-10', 'oxidative_onset_v')
    ),
    Check('002', 'LiBH4 onset, 25 wt% MCMB', 2.61, 'V', 0.01, lambda e: _index('LIBH4-MCMB25-10', 'oxidative_onset_v')),
    Check('002', 'LiBH4 onset, no carbon', 3.10, 'V', 0.01, lambda e: _index('LIBH4-NOC-10', 'oxidative_onset_v')),
    Check(
        '002',
        'onset shift at 100 µV/s (paper: > 0.1 V)',
        0.15,
        'V',
        0.05,
        lambda e: _scan_rate_shift('LIBH4-SP25-100', 'LIBH4-SP25-10'),
        'the generator encodes +0.15 V',
    ),
    Check(
        '002',
        'onset shift at 500 µV/s (paper: > 0.5 V)',
        0.60,
        'V',
        0.1,
        lambda e: _scan_rate_shift('LIBH4-SP25-500', 'LIBH4-SP25-10'),
        'the generator encodes +0.60 V',
    ),
    Check(
        '002',
        'CCD of Li2(B11H14)(CB11H12) at 60 °C',
        0.16,
        'mA/cm2',
        0.005,
        lambda e: _index('LI-SYM-CCD', 'ccd_ma_cm2'),
    ),
    Check(
        '002',
        'interphase growth constant k',
        14.6,
        'Ω cm2 h^-0.5',
        0.5,
        lambda e: _summary('LI-SYM-OCV', 'interface_growth', 'rate_constant_ohm_cm2_per_sqrt_h'),
    ),
    Check(
        '002',
        'initial interphase resistance R0',
        29.6,
        'Ω cm2',
        2,
        lambda e: _summary('LI-SYM-OCV', 'interface_growth', 'initial_resistance_ohm_cm2'),
    ),
    Check(
        '002',
        'DSC onset, NaCrO2 composite (5 °C/min, He)',
        525,
        '°C',
        2,
        lambda e: _index('S2-COMP-NACRO2', 'dsc_onset_c'),
        'tangent onset of the first significant exotherm',
    ),
    Check(
        '002',
        'DSC onset, NaMnO2 composite',
        421,
        '°C',
        2,
        lambda e: _index('S2-COMP-NAMNO2', 'dsc_onset_c'),
        'several exothermic peaks; the first gives the onset',
    ),
    Check(
        '002',
        'DSC onset, NaFeO2 composite',
        393,
        '°C',
        2,
        lambda e: _index('S2-COMP-NAFEO2', 'dsc_onset_c'),
        'broad exotherm',
    ),
    Check(
        '002',
        'peak heat flow, NaCrO2 composite',
        5.0,
        'W/g',
        0.1,
        lambda e: _index('S2-COMP-NACRO2', 'dsc_peak_heat_flow_w_g'),
    ),
    Check(
        '002',
        'electronic conductivity of Li2(B11H14)(CB11H12), 60 °C',
        5e-9,
        'S/cm',
        0.25e-9,
        lambda e: _index('S2-SE-H', 'electronic_conductivity_s_cm'),
        'Li | SE | Cu, steady current after 24 h at 0.25 V (paper: "~5e-9")',
    ),
    Check(
        '004',
        'lattice parameter a of bcc NaCB11H12 (XRD, refined)',
        7.882,
        'Å',
        0.002,
        lambda e: _index('MM-NCB-45A', 'lattice_a_angstrom'),
        'cubic refinement of the indexed reflections, start value 7.9 Å',
    ),
    Check(
        '003',
        'literature: σ of NaCB11H12 at 383 K',
        0.12,
        'S/cm',
        0.0,
        lambda e: _literature('conductivity_s_cm', 'LIT-NaCB11H12'),
        'a literature record, loaded as reported',
    ),
]


def _cell_attribute(sample_id: str, key: str) -> float | None:
    node = find_sample(sample_id)
    return None if node is None else node.base.attributes.get(key, None)


def evaluate_checks(expected_path: pathlib.Path) -> list[Check]:
    """Compute every check against the database."""
    expected = json.loads(pathlib.Path(expected_path).read_text())
    results = []
    for check in CHECKS:
        try:
            value = check.compute(expected)
        except Exception:  # a missing analysis shows as a missing number, the table says so
            value = None
        results.append(
            Check(
                check.seed,
                check.quantity,
                check.paper,
                check.unit,
                check.tolerance,
                check.compute,
                check.note,
                None if value is None else float(value),
            )
        )
    return results
