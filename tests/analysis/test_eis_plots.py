"""Impedance figures mark rejected and flagged fits, and draw intervals."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip('matplotlib')

from aiida_ssb.analysis.arrhenius import fit_arrhenius
from aiida_ssb.analysis.eis.drt import compute_drt
from aiida_ssb.analysis.eis.model import fit_spectrum
from aiida_ssb.analysis.eis.synthetic import pellet_series
from aiida_ssb.plotting.impedance import fit_style, plot_arrhenius, plot_bode, plot_drt, plot_nyquist


@pytest.fixture(scope='module')
def pinned():
    (s,) = pellet_series(2, [25.0], noise=0.005, seed=7, resistance_ratios=(0.3, 3.0))
    result = fit_spectrum(
        s.frequency_hz,
        s.z,
        circuit='p(R1,CPE1)-CPE2',
        cell_format='blocking_pellet',
        thickness_cm=s.thickness_cm,
        area_cm2=s.area_cm2,
        drt_evidence=False,
    )
    return s, result


def lines(figure):
    return [(line.get_linestyle(), line.get_label()) for ax in figure.axes for line in ax.get_lines()]


def test_rejected_fit_is_dashed_and_says_why(pinned):
    s, result = pinned
    summary = dict(result.to_dict(), accepted=False, quality='rejected', quality_reason='chi2/|Z| = 0.6 above 0.02')
    assert fit_style(summary) == ('--', 'rejected (chi2/|Z| = 0.6 above 0.02)')
    for figure in (
        plot_nyquist(s.frequency_hz, s.z, curves=result.arrays(), summary=summary),
        plot_bode(s.frequency_hz, s.z, curves=result.arrays(), summary=summary),
    ):
        drawn = lines(figure)
        assert ('--', 'rejected (chi2/|Z| = 0.6 above 0.02)') in drawn
        assert not any(label == 'fit' for _, label in drawn)


def test_flagged_fit_is_labelled_with_its_flags(pinned):
    s, result = pinned
    summary = result.to_dict()
    style, label = fit_style(summary)
    assert summary['quality'] == 'flagged' and style == '-'
    assert label.startswith('fit, flagged (pinned circuit rejected, residual structure)')
    assert ('-', label) in lines(plot_nyquist(s.frequency_hz, s.z, curves=result.arrays(), summary=summary))
    assert fit_style({'circuit': 'R0', 'quality': 'good'}) == ('-', 'fit: R0')


def test_arrhenius_draws_intervals_and_drt_its_peaks(pinned):
    s, _ = pinned
    t = np.array([-20.0, 0.0, 20.0, 40.0, 60.0, 80.0])
    sigma = 1e-3 * np.exp(-0.35 / 8.617e-5 * (1 / (t + 273.15) - 1 / 298.15)) * 298.15 / (t + 273.15)
    result = fit_arrhenius(
        t, sigma * np.exp(0.01 * np.random.default_rng(0).standard_normal(t.size)), stderr_rel=[0.01] * 6
    )
    curves = result.arrays()
    curves['measured_conductivity_s_cm'] = result.conductivity_s_cm
    curves['measured_conductivity_low_s_cm'] = result.conductivity_s_cm * 0.98
    curves['measured_conductivity_high_s_cm'] = result.conductivity_s_cm * 1.02
    figure = plot_arrhenius(result.to_dict(), curves)
    ax = figure.axes[0]
    assert any('±' in text.get_text() for text in ax.get_legend().get_texts())
    assert ax.collections  # the band and the error bars
    drt = compute_drt(s.frequency_hz, s.z)
    figure = plot_drt(drt.to_dict(), drt.arrays())
    assert figure.axes[0].get_xscale() == 'log' and len(figure.axes[0].texts) == len(drt.peaks)


def test_arrhenius_legend_says_a_regime_was_trimmed_or_is_bent():
    """A regime whose bend was trimmed names its untrimmed extent and Ea; with curvature='flag' a bent regime says
    its Ea is an average; a straight series says neither."""
    from aiida_ssb.demo_data.ncb_conductivity import NcbConductivity

    t = np.array(sorted([float(v) for v in range(-100, 101, 10)] + [25.0]))
    law = NcbConductivity(crossover_c=-25.0).sigma_45_two_step
    sigma = law(t) * np.exp(0.001 * np.random.default_rng(5).standard_normal(t.size))

    def legend(curvature):
        result = fit_arrhenius(t, sigma, stderr_rel=np.full(t.size, 0.001), curvature=curvature)
        summary = dict(result.to_dict(), options={'alpha': 0.01, 'curvature': curvature})
        figure = plot_arrhenius(summary, result.arrays())
        texts = figure.legends[0].get_texts() if figure.legends else figure.axes[0].get_legend().get_texts()
        return ' '.join(text.get_text() for text in texts)

    assert 'bend trimmed off (untrimmed: 0.2' in legend('trim') and 'bent' not in legend('trim')
    assert 'bent: Ea averages over the bend' in legend('flag') and 'trimmed' not in legend('flag')
    kelvin = t + 273.15
    straight = fit_arrhenius(t, 1e3 / kelvin * np.exp(-0.3 / (8.617333e-5 * kelvin)))
    figure = plot_arrhenius(dict(straight.to_dict(), options={'alpha': 0.01}), straight.arrays())
    assert 'bend' not in ' '.join(text.get_text() for text in figure.axes[0].get_legend().get_texts())
