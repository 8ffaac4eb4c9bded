"""Fits and Kramers-Kronig verdicts on real instrument spectra (``../shared/data``).

The numbers pinned here are regression values of this code on those files (1 % on well-determined
parameters, i.e. relative standard error below 10 %), not literature values.
"""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.analysis.eis import fit_circuit, lin_kk

try:  # the reader lives in another part of the package
    from aiida_ssb.parsers import read as _read
except ImportError as exc:  # pragma: no cover - depends on the parser package being present
    _read = None
    _READ_ERROR = str(exc)


def load(shared_file, relative: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(frequency_hz, z), ...]`` for every spectrum of a file, through ``aiida_ssb.parsers.read``."""
    if _read is None:
        pytest.skip(f'aiida_ssb.parsers.read is not importable: {_READ_ERROR}')
    measurement = _read(shared_file(relative))
    out = []
    for spectrum in measurement.spectra():
        c = spectrum.columns
        out.append((np.asarray(c['frequency_hz']), np.asarray(c['z_real_ohm']) + 1j * np.asarray(c['z_imag_ohm'])))
    return out


# (file, spectrum index, circuit, frequency range, pinned values, chi2_modulus)
FITS = [
    ('biologic/peis.mpt', 0, 'R0-p(R1,C1)', (60, None), {'R0': 10.79, 'R1': 5.242}, 0.071314),
    ('biologic/peis.mpr', 0, 'R0-p(R1,C1)', (60, None), {'R0': 10.79, 'R1': 5.242}, 0.071314),
    (
        'biologic/geis.mpt',
        0,
        'R0-p(R1,CPE1)-p(R2,CPE2)',
        (None, 1e5),
        {'R0': 7.7162, 'R1': 129.05, 'CPE1_Q': 7.5129e-06, 'CPE1_alpha': 0.90103},
        0.044367,
    ),
    (
        'biologic/geis.mpt',
        30,
        'R0-p(R1,CPE1)-p(R2,CPE2)',
        (None, 1e5),
        {'R0': 10.271, 'R1': 128.67, 'CPE1_Q': 8.2375e-06, 'CPE1_alpha': 0.88042},
        0.031951,
    ),
    (
        'biologic/geis.mpt',
        60,
        'R0-p(R1,CPE1)-p(R2,CPE2)',
        (None, 1e5),
        {'R0': 32.141, 'R1': 966.43, 'CPE1_alpha': 0.69536},
        0.58481,
    ),
    (
        'biologic/vsp_peis_with.mpr',
        0,
        'R0-p(R1,CPE1)-p(R2,CPE2)',
        (None, 1e5),
        {'R0': 14.533, 'CPE2_Q': 0.1727},
        0.014734,
    ),
    (
        'eis/exampleData.csv',
        0,
        'L0-R0-p(R1,CPE1)-p(R2,CPE2)-Wo1',
        None,
        {
            'L0': 1.6771e-07,
            'R0': 0.014839,
            'R1': 0.0066934,
            'CPE1_alpha': 0.74194,
            'R2': 0.009627,
            'CPE2_Q': 4.7272,
            'CPE2_alpha': 0.85885,
        },
        0.0085443,
    ),
    (
        'eis/exampleDataBioLogic.mpt',
        0,
        'R0-p(R1,CPE1)',
        None,
        {'R0': 63.562, 'R1': 48.197, 'CPE1_Q': 0.0092979, 'CPE1_alpha': 0.91516},
        0.03379,
    ),
    (
        'eis/exampleDataGamry.DTA',
        0,
        'p(R1,CPE1)-p(R2,CPE2)',
        None,
        {'R1': 4113.2, 'CPE1_alpha': 0.86616, 'R2': 17549.0, 'CPE2_Q': 0.00018449, 'CPE2_alpha': 0.69694},
        0.2261,
    ),
    ('eis/exampleDataZPlot.z', 0, 'R0-p(R1,C1)', None, {'R0': 149.62, 'R1': 501.2, 'C1': 3.1199e-08}, 0.0038466),
    (
        'eis/exampleDataAutolab.txt',
        0,
        'L0-R0-p(R1,CPE1)-p(R2,CPE2)-W1',
        None,
        {
            'L0': 1.2066e-07,
            'R0': 0.013044,
            'R1': 0.0071934,
            'CPE1_alpha': 0.76938,
            'R2': 0.010998,
            'CPE2_Q': 3.8158,
            'CPE2_alpha': 0.81929,
            'W1_sigma': 0.002861,
        },
        0.0028641,
    ),
]


@pytest.mark.parametrize(
    'relative, index, spec, frequency_range, pinned, chi2', FITS, ids=[f'{f[0]}#{f[1]}' for f in FITS]
)
def test_real_spectrum_fits(shared_file, relative, index, spec, frequency_range, pinned, chi2):
    frequency, z = load(shared_file, relative)[index]
    result = fit_circuit(spec, frequency, z, frequency_range_hz=frequency_range)
    assert result.success
    assert result.chi2_modulus == pytest.approx(chi2, rel=0.01)
    for name, value in pinned.items():
        assert result.values[name] == pytest.approx(value, rel=0.01), name
    # a wider search finds nothing better: the automatic start reached the optimum
    wide = fit_circuit(spec, frequency, z, frequency_range_hz=frequency_range, n_starts=12, seed=9)
    assert result.chi2_modulus <= wide.chi2_modulus * 1.001


def test_every_geis_loop_fits(shared_file):
    spectra = load(shared_file, 'biologic/geis.mpt')
    assert len(spectra) == 61
    r1 = []
    for frequency, z in spectra:
        result = fit_circuit('R0-p(R1,CPE1)-p(R2,CPE2)', frequency, z, frequency_range_hz=(None, 1e5))
        assert result.success and result.chi2_modulus < 1.0
        r1.append(result.values['R1'])
    # the main arc grows along the record
    assert r1[-1] > 5 * r1[0]
    assert np.all(np.isfinite(r1))


def test_every_vsp_loop_fits(shared_file):
    spectra = load(shared_file, 'biologic/vsp_peis_with.mpr')
    r0 = [
        fit_circuit('R0-p(R1,CPE1)-p(R2,CPE2)', f, z, frequency_range_hz=(None, 1e5)).values['R0'] for f, z in spectra
    ]
    assert len(r0) == 32
    assert r0[0] == pytest.approx(14.533, rel=0.01)
    assert r0[-1] > 1.5 * r0[0]


# (file, spectrum index, frequency range, verdict, stable over c in 0.80/0.85/0.90)
KK = [
    ('biologic/peis.mpt', 0, None, False, True),
    ('biologic/geis.mpt', 0, None, False, True),
    ('biologic/geis.mpt', 30, None, False, True),
    ('biologic/vsp_peis_with.mpr', 0, None, False, True),
    ('biologic/vsp_peis_with.mpr', 0, (1, 3e5), True, True),
    ('eis/exampleData.csv', 0, None, False, True),
    ('eis/exampleData.csv', 0, (1, 1e4), True, False),
    ('eis/exampleDataBioLogic.mpt', 0, None, False, True),
    ('eis/exampleDataGamry.DTA', 0, None, False, True),
    ('eis/exampleDataZPlot.z', 0, (3e3, 1e5), True, True),
    ('eis/exampleDataAutolab.txt', 0, None, False, True),
    ('eis/exampleDataAutolab.txt', 0, (1, 5e3), True, True),
]


@pytest.mark.parametrize(
    'relative, index, frequency_range, verdict, stable',
    KK,
    ids=[f'{k[0]}#{k[1]}{"" if k[2] is None else "-trimmed"}' for k in KK],
)
def test_real_kk_verdicts(shared_file, relative, index, frequency_range, verdict, stable):
    frequency, z = load(shared_file, relative)[index]
    result = lin_kk(frequency, z, frequency_range_hz=frequency_range)
    assert result.valid is verdict, result.reasons
    assert bool(result.reasons) is not verdict
    if stable:
        for c in (0.80, 0.90):
            assert lin_kk(frequency, z, c=c, frequency_range_hz=frequency_range).valid is verdict
    # the same answer twice (deterministic)
    again = lin_kk(frequency, z, frequency_range_hz=frequency_range)
    assert again.to_dict() == result.to_dict()


def test_text_and_binary_exports_agree(shared_file):
    ((f1, z1),) = load(shared_file, 'biologic/peis.mpt')
    ((f2, z2),) = load(shared_file, 'biologic/peis.mpr')
    k1, k2 = lin_kk(f1, z1), lin_kk(f2, z2)
    assert k1.m == k2.m and k1.valid == k2.valid
    assert k1.rms_residual_rel == pytest.approx(k2.rms_residual_rel, rel=1e-3)
