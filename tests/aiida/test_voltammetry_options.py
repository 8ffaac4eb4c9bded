"""Onset options end to end (issue 16, point 5): a manifest's ``analysis: onsets:`` section and ``aiida-ssb analyse
--set onsets.KEY=VALUE`` reach the analysis and are stored with its result; bad values are refused cleanly.

The CV file is written with the demonstration's EC-Lab writer: a weak oxidation at 2.90 V (2e-4 mA/V) and a strong
one at 3.45 V (3e-3 mA/V), up to 4.2 V and back."""

from __future__ import annotations

import datetime as dt
import pathlib

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from aiida_ssb.cli import cmd_ssb
from aiida_ssb.demo_data.eclab import Instrument
from aiida_ssb.demo_data.voltammetry import Hinge, VoltammetryModel, cv_file, sweep_program

CELL = 'CV-OPT-1'


def _invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def _manifest(folder: pathlib.Path, analysis: dict) -> pathlib.Path:
    raw = folder / 'raw'
    raw.mkdir(parents=True, exist_ok=True)
    model = VoltammetryModel(
        capacitance_f=3.9e-3,
        leak_ma_v=1e-6,
        reference_v=2.6,
        hinges=(Hinge(onset_v=2.9, slope_ma_v=2e-4), Hinge(onset_v=3.45, slope_ma_v=3e-3)),
        noise_ma=2e-7,
    )
    vertices = [2.6, 4.2, 2.6]
    rng = np.random.default_rng(7)
    record = sweep_program(model, vertices, 0.01, 0.005, rng)
    path = raw / 'CV-OPT-1_CV.mpt'
    cv_file(
        path,
        record=record,
        vertices_v=vertices,
        scan_rate_mv_s=0.01,
        started=dt.datetime(2024, 1, 1, 8, 0),
        instrument=Instrument(),
        directory='C:/data',
        area_cm2=1.131,
        electrode_material='Pt',
        electrolyte='test',
        comment='synthetic',
        rng=rng,
    )
    manifest = {
        'campaign': 'onset-options',
        'materials': [
            {'id': 'SE-OPT', 'name': 'Na2B12H12', 'role': 'electrolyte'},
            {'id': 'WE-OPT', 'name': 'Na2B12H12/C65', 'role': 'composite'},
            {'id': 'NA-OPT', 'name': 'sodium foil', 'role': 'metal_foil'},
        ],
        'cells': [
            {
                'id': CELL,
                'format': 'half',
                'diameter': '12 mm',
                'layers': [
                    {'role': 'working', 'material': 'WE-OPT', 'mass': '5 mg'},
                    {'role': 'separator', 'material': 'SE-OPT', 'mass': '80 mg'},
                    {'role': 'counter', 'material': 'NA-OPT'},
                ],
                'analysis': analysis,
            }
        ],
        'measurements': [
            {'cell': CELL, 'technique': 'cv', 'file': 'raw/CV-OPT-1_CV.mpt', 'scan_rate': '0.01 mV/s'},
        ],
    }
    target = folder / 'manifest.yaml'
    target.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return target


def _onsets_summary():
    from aiida_ssb.query.results import latest_results

    (result,) = latest_results(CELL, 'onsets', limit=1)
    return result.summary.get_dict()


@pytest.fixture(scope='module')
def imported(aiida_profile, tmp_path_factory):
    aiida_profile.reset_storage()
    analysis = {
        'onsets': {
            'background_window_v': [[2.7, 2.85], [3.0, 3.4]],
            'rise_window_v': [[3.0, 3.4], [3.55, 4.1]],
            'direction': 'anodic',
            'headline_significance_sigma': 20,
        }
    }
    manifest = _manifest(tmp_path_factory.mktemp('onset-options'), analysis)
    result = _invoke('import', manifest)
    assert result.exit_code == 0, result.output
    return manifest


def test_manifest_options_reach_the_analysis(imported):
    result = _invoke('analyse', CELL)
    assert result.exit_code == 0, result.output
    summary = _onsets_summary()
    assert summary['options']['background_window_v'] == [[2.7, 2.85], [3.0, 3.4]]
    assert summary['options']['headline_significance_sigma'] == 20
    assert [o['windows'] for o in summary['onsets']] == ['given', 'given']
    assert [o['onset_v'] for o in summary['onsets']] == pytest.approx([2.9, 3.45], abs=0.01)
    assert {s['direction'] for s in summary['sweeps']} == {'anodic'}
    assert summary['oxidative_onset_v'] == pytest.approx(2.9, abs=0.01)


def test_set_options_override_the_manifest_on_reanalysis(imported):
    result = _invoke(
        'reanalyse',
        CELL,
        '--set',
        'onsets.background_window_v=[[2.7,2.85]]',
        '--set',
        'onsets.rise_window_v=[[3.55,4.1]]',
        '--set',
        'onsets.headline_min_relative=0.1',
        '--set',
        'onsets.sweep=1',
        '--set',
        'onsets.direction=both',
    )
    assert result.exit_code == 0, result.output
    summary = _onsets_summary()
    assert summary['options']['sweep'] == [1] and summary['options']['direction'] == 'both'
    assert [s['sweep_index'] for s in summary['sweeps']] == [1]
    (onset,) = summary['onsets']
    assert onset['background_v_max'] <= 2.85 and onset['rise_v_min'] >= 3.55
    # the automatic path with the headline by relative significance: the minor onset stays in the table
    result = _invoke(
        'reanalyse',
        CELL,
        '--set',
        'onsets.background_window_v=',
        '--set',
        'onsets.rise_window_v=',
        '--set',
        'onsets.sweep=',
        '--set',
        'onsets.direction=anodic',
        '--set',
        'onsets.headline_min_relative=0.1',
        '--set',
        'onsets.headline_significance_sigma=10',
    )
    assert result.exit_code == 0, result.output
    summary = _onsets_summary()
    assert [o['windows'] for o in summary['onsets']] == ['auto', 'auto']
    assert [o['headline'] for o in summary['onsets']] == [False, True]
    assert summary['oxidative_onset_v'] == pytest.approx(3.45, abs=0.01)
    assert summary['oxidative_onset_band_low_v'] <= 3.45 <= summary['oxidative_onset_band_high_v'] + 1e-3


@pytest.mark.parametrize(
    ('setting', 'fragment'),
    [
        ('onsets.background_window_v=[[3.4,2.6]]', 'v_min < v_max'),
        ('onsets.direction=upwards', 'direction'),
        ('onsets.min_rise_fraction=0.02', 'known: method'),
        ('onsets.sweep=first', 'sweep'),
    ],
)
def test_bad_set_values_are_refused_cleanly(imported, setting, fragment):
    result = CliRunner().invoke(cmd_ssb, ['analyse', CELL, '--set', setting])
    assert result.exit_code == 1 and fragment in result.output and 'Traceback' not in result.output


def test_a_sweep_that_does_not_exist_fails_the_analysis_with_its_reason(imported):
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.workflows.run import AnalysisRun
    from aiida_ssb.workflows.steps import onsets

    run = AnalysisRun(load_sample(CELL), {'onsets': {'sweep': 7}})
    onsets(run)
    (outcome,) = run.results['onsets'].values()
    assert not outcome.ok and outcome.process.exit_status == 300 and 'no sweep [7]' in outcome.process.exit_message


def test_the_onsets_plot_shows_the_result(imported, tmp_path):
    """``aiida-ssb plot CELL --kind onsets`` (the analysis's name; ``voltammogram`` is the former one)."""
    for kind in ('onsets', 'voltammogram'):
        target = tmp_path / f'{kind}.png'
        result = _invoke('plot', CELL, '--kind', kind, '-o', target)
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 5000
