"""The real shared records (CP, CA, MB, GCPL from BioLogic instruments) run through issue 21's analyses: each
gives a result or a clean analysis error naming why, never a crash; the classification of the records holds."""

import pytest

from aiida_ssb.analysis.dqdv import incremental_capacity_measurement
from aiida_ssb.analysis.gitt import gitt_measurement, looks_like_gitt, looks_like_pitt, pitt_measurement
from aiida_ssb.analysis.polarisation import electronic_conductivity_measurement, transference_number_measurement
from aiida_ssb.exceptions import AnalysisError
from aiida_ssb.parsers import read

FILES = [
    'biologic/cp.mpt',
    'biologic/ca.mpt',
    'biologic/mb.mpt',
    'biologic/gcpl.pr_182.1.mpt',
    'biologic/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr',
]

ANALYSES = {
    'dqdv': (incremental_capacity_measurement, {}),
    'gitt': (gitt_measurement, {'particle_radius_um': 5.0}),
    'pitt': (pitt_measurement, {'particle_radius_um': 5.0}),
    'dc_polarisation': (electronic_conductivity_measurement, {'thickness_cm': 0.05, 'area_cm2': 1.0}),
    'transference_number': (transference_number_measurement, {}),
}


@pytest.mark.parametrize('name', FILES)
def test_real_records_give_a_result_or_a_clean_error(shared_file, name):
    if name.endswith('.mpr'):
        pytest.importorskip('galvani')
    measurement = read(shared_file(name))
    outcomes = {}
    for analysis, (function, kwargs) in ANALYSES.items():
        try:
            result = function(measurement, **kwargs).to_dict()
        except AnalysisError as exc:
            assert str(exc)
            outcomes[analysis] = None
            continue
        assert result['parameters'] and isinstance(result['flags'], list)
        outcomes[analysis] = result
    if name.endswith('ca.mpt'):
        assert outcomes['dc_polarisation']['n_holds'] == 1 and outcomes['dqdv'] is None
        assert any(flag['flag'] == 'no_impedance' for flag in outcomes['transference_number']['flags'])
    if 'jdb11' in name:
        # five C/24 cycles of a 2-3.8 V cathode: dQ/dV peaks, no titration
        assert outcomes['dqdv']['n_half_cycles'] >= 10 and 3.0 < outcomes['dqdv']['charge_peak_v'] < 3.8
        assert outcomes['gitt'] is None


def test_a_record_without_data_rows_is_refused_before_any_analysis(shared_file):
    """The shared `wait.mpt` is a header without data: the reader refuses it (naming the file), so no analysis
    ever sees an empty record."""
    from aiida_ssb.parsers.base import ParseError

    with pytest.raises(ParseError, match='no data rows'):
        read(shared_file('biologic/wait.mpt'))


@pytest.mark.parametrize(
    ('name', 'gitt', 'pitt'),
    [
        ('biologic/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr', False, False),
        ('biologic/ca.mpt', False, False),
        ('biologic/mb.mpt', False, False),
    ],
)
def test_real_records_are_classified(shared_file, name, gitt, pitt):
    if name.endswith('.mpr'):
        pytest.importorskip('galvani')
    columns = read(shared_file(name)).columns
    assert looks_like_gitt(columns['time_s'], columns['current_ma']) is gitt
    assert looks_like_pitt(columns['time_s'], columns['voltage_v'], columns['current_ma']) is pitt
