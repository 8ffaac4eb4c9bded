"""The onset and stepwise-CV settings: every documented option is accepted, in the same form, from the Python API,
the command line (``--set onsets.KEY=VALUE``, YAML values) and a manifest's ``analysis:`` section, and a bad value
is refused with a message naming the option (issue 16, point 5; issue 14, settings as data).

The end-to-end runs (a manifest imported, ``aiida-ssb analyse --set``) are in ``tests/aiida/test_voltammetry_options.py``.
"""

from __future__ import annotations

import inspect

import pytest
import yaml
from pydantic.fields import PydanticUndefined

from aiida_ssb.analysis import voltammetry as vm
from aiida_ssb.analysis.registry import validate_options
from aiida_ssb.analysis.voltammetry import OnsetSettings, StepwiseCvSettings
from aiida_ssb.cli.analysis import parse_settings
from aiida_ssb.exceptions import InputError, SettingsError
from aiida_ssb.schemas.cell import CellSpec
from tests.analysis.test_voltammetry import synthetic_cv, synthetic_stepwise
from tests.analysis.voltammetry_family import Case, Feature

#: a written value (as on the command line, YAML) and what the settings hold, for every onset option
ONSET_EXAMPLES = {
    'method': ('edge', 'edge'),
    'direction': ('cathodic', 'cathodic'),
    'cycles': ('[1, 2]', (1, 2)),
    'sweep': ('2', (2,)),
    'window_v': ('[2.6, 4.15]', (2.6, 4.15)),
    'background_window_v': ('[[2.6, 3.4], [3.9, 4.15]]', ((2.6, 3.4), (3.9, 4.15))),
    'rise_window_v': ('[3.5, 3.8]', ((3.5, 3.8),)),
    'r2_min': ('0.995', 0.995),
    'min_window_v': ('0.08', 0.08),
    'min_points': ('12', 12),
    'curvature_f_max': ('15', 15.0),
    'min_slope_ratio': ('2.5', 2.5),
    'min_significance_sigma': ('8', 8.0),
    'headline_significance_sigma': ('20', 20.0),
    'headline_min_relative': ('0.1', 0.1),
    'peak_return_fraction': ('0.3', 0.3),
    'band_shift_v': ('0.02', 0.02),
    'band_end_fraction': ('0.3', 0.3),
    'band_max_v': ('0.03', 0.03),
    'max_onsets': ('1', 1),
    'noise_ma': ('1e-6', 1e-6),
    'despike': ('false', False),
    'despike_factor': ('15', 15.0),
    'threshold_ma': ('0.001', 0.001),
    'threshold_ma_cm2': ('0.01', 0.01),
    'k_consecutive': ('4', 4),
    'subtract_background': ('true', True),
    'interpolate': ('false', False),
    'derivative_window_v': ('0.04', 0.04),
    'k_sigma': ('4', 4.0),
    'reversal_tolerance_v': ('0.03', 0.03),
}

STEPWISE_EXAMPLES = {
    'soar_factor': ('4', 4.0),
    'reference_steps': ('2', 2),
    'confirm_steps': ('0', 0),
    'min_steps': ('4', 4),
    'ucv_tolerance_v': ('0.02', 0.02),
    'reversal_tolerance_v': ('0.03', 0.03),
}

#: values that must be refused, and a word of the message
BAD = [
    ('method', 'tangent', 'method'),
    ('direction', 'up', 'direction'),
    ('sweep', 'second', 'sweep'),
    ('background_window_v', '[[3.4, 2.6]]', 'v_min < v_max'),
    ('background_window_v', '[2.6, 3.4, 3.9]', 'background_window_v'),
    ('background_window_v', '[]', 'empty'),
    ('rise_window_v', 'up to 4 V', 'rise_window_v'),
    ('min_significance_sigma', '0', 'min_significance_sigma'),
    ('headline_min_relative', '1.5', 'headline_min_relative'),
    ('band_end_fraction', '1', 'band_end_fraction'),
    ('min_rise_fraction', '0.02', 'known: method'),  # replaced by min_significance_sigma
    ('r2_min', 'nan', 'r2_min'),
]


def test_examples_cover_every_documented_option():
    assert set(ONSET_EXAMPLES) == set(OnsetSettings.model_fields)
    assert set(STEPWISE_EXAMPLES) == set(StepwiseCvSettings.model_fields)
    for settings in (OnsetSettings, StepwiseCvSettings):
        for row in settings.option_table():
            assert row.description, f'{settings.__name__}.{row.name} has no description'
    assert OnsetSettings.option_table()[[r.name for r in OnsetSettings.option_table()].index('r2_min')].unit == ''


@pytest.mark.parametrize('name', sorted(ONSET_EXAMPLES))
def test_every_onset_option_from_the_command_line_and_the_manifest(name):
    written, expected = ONSET_EXAMPLES[name]
    extra = {'method': 'threshold', 'threshold_ma': 1e-3} if name == 'subtract_background' else {}
    if name == 'threshold_ma_cm2':
        extra = {'method': 'threshold'}
    if name == 'rise_window_v':
        extra = {'background_window_v': [[3.0, 3.4]]}
    cli = [f'onsets.{name}={written}'] + [
        f'onsets.{key}={yaml.safe_dump(value).strip()}' for key, value in extra.items()
    ]
    from_cli = parse_settings(tuple(cli))['onsets']
    from_manifest = CellSpec.model_validate(_cell({'onsets': {name: yaml.safe_load(written), **extra}})).analysis
    for section in (from_cli, from_manifest['onsets']):
        settings = OnsetSettings.resolve(section)
        assert getattr(settings, name) == expected
        assert OnsetSettings.resolve(settings.parameters()) == settings  # stored and read back


@pytest.mark.parametrize('name', sorted(STEPWISE_EXAMPLES))
def test_every_stepwise_option_from_the_command_line_and_the_manifest(name):
    written, expected = STEPWISE_EXAMPLES[name]
    from_cli = parse_settings((f'stepwise_cv.{name}={written}',))['stepwise_cv']
    from_manifest = validate_options({'stepwise': {name: yaml.safe_load(written)}}, where='analysis')['stepwise_cv']
    for section in (from_cli, from_manifest):
        assert getattr(StepwiseCvSettings.resolve(section), name) == expected


@pytest.mark.parametrize(('name', 'written', 'word'), BAD, ids=[f'{n}={w}' for n, w, _ in BAD])
def test_bad_options_are_refused_with_the_option_named(name, written, word):
    with pytest.raises(SettingsError, match=r'--set\.onsets') as caught:
        parse_settings((f'onsets.{name}={written}',))
    assert word in str(caught.value)
    with pytest.raises(Exception, match=r'analysis\.onsets') as caught:
        CellSpec.model_validate(_cell({'onsets': {name: yaml.safe_load(written)}}))
    assert word in str(caught.value)


def test_cross_field_rules_are_checked_where_the_options_are_given():
    with pytest.raises(SettingsError, match='one of each per onset'):
        parse_settings(('onsets.background_window_v=[[2.6,3.4],[3.9,4.15]]', 'onsets.rise_window_v=[3.5,3.8]'))
    with pytest.raises(SettingsError, match='exactly one of threshold_ma'):
        parse_settings(('onsets.method=threshold',))
    with pytest.raises(InputError, match=r'SECTION\.KEY=VALUE'):
        parse_settings(('background_window_v=[2.6,3.4]',))


def test_the_issue_examples_reach_the_analysis():
    """``--set onsets.background_window_v=[[2.6,3.4],[3.9,4.15]]`` (refused before), ``sweep=2``,
    ``direction=cathodic`` and the significance levels, applied by the analysis."""
    options = parse_settings(
        ('onsets.background_window_v=[[2.6,2.9],[3.3,3.9]]', 'onsets.rise_window_v=[[3.3,3.9],[4.2,4.5]]')
    )['onsets']
    case = Case('two', 2.4, 4.6, (Feature('knee', 2.93, 2e-4, 0.01), Feature('knee', 4.07, 5e-3, 0.015)))
    result = vm.find_onsets(*case.sweep()[:2], settings=options)
    assert [o.windows for o in result.onsets] == ['given', 'given']
    assert [o.onset_v for o in result.onsets] == pytest.approx([2.93, 4.07], abs=0.02)
    potential, current, time, cycles = synthetic_cv(2)
    second = vm.find_onsets(
        potential, current, cycle_index=cycles, settings=parse_settings(('onsets.sweep=2',))['onsets']
    )
    assert [s.sweep.sweep_index for s in second.sweeps] == [2]
    cathodic = parse_settings(('onsets.direction=cathodic', 'onsets.headline_significance_sigma=1e12'))['onsets']
    result = vm.find_onsets(potential, current, time_s=time, cycle_index=cycles, settings=cathodic)
    assert {s.sweep.direction for s in result.sweeps} == {'cathodic'}
    assert result.onsets and result.reductive_onset_v is None  # found, but none reaches that significance
    assert result.to_dict()['headline_significance_sigma'] == 1e12


def test_pure_functions_take_every_tunable_as_a_setting():
    """No hidden keyword tunables: the pure functions take the data, what comes from the cell or measurement, and
    ``settings`` (plus overrides)."""
    onsets = set(inspect.signature(vm.find_onsets).parameters)
    assert onsets == {
        'potential_v',
        'current_ma',
        'area_cm2',
        'cycle_index',
        'time_s',
        'scan_rate_mv_s',
        'working_electrode',
        'settings',
        'overrides',
    }
    stepwise = set(inspect.signature(vm.analyse_stepwise_cv).parameters)
    assert stepwise == {'potential_v', 'current_ma', 'time_s', 'scan_rate_mv_s', 'cycle_index', 'settings', 'overrides'}
    for settings in (OnsetSettings, StepwiseCvSettings):
        for name, info in settings.model_fields.items():
            assert info.default is not PydanticUndefined, f'{settings.__name__}.{name} has no default'


def test_results_store_every_setting():
    potential, current, time, _ = synthetic_stepwise()
    stepwise = vm.analyse_stepwise_cv(potential, current, time_s=time, settings={'soar_factor': 4.0})
    assert stepwise.parameters['soar_factor'] == 4.0 and stepwise.parameters['ucv_tolerance_v'] == 0.01
    assert vm.analyse_stepwise_cv(potential, current, time_s=time, soar_factor=4.0).parameters == stepwise.parameters
    potential, current, _time, _cycles = synthetic_cv(1)
    result = vm.find_onsets(potential, current, settings=OnsetSettings(min_significance_sigma=7.0), max_onsets=1)
    assert result.parameters == OnsetSettings(min_significance_sigma=7.0, max_onsets=1).parameters()
    record = result.to_dict()
    for key, value in OnsetSettings(min_significance_sigma=7.0, max_onsets=1).parameters().items():
        assert record[key] == value


def _cell(analysis: dict) -> dict:
    return {
        'id': 'CV-1',
        'format': 'half',
        'diameter': '12 mm',
        'layers': [{'role': 'working', 'material': 'WE-1'}, {'role': 'counter', 'material': 'NA-1'}],
        'analysis': analysis,
    }
