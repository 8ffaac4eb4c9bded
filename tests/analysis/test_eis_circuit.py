"""Circuit strings, element formulas and the analytic Jacobian."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_ssb.analysis.eis import Circuit, CircuitSyntaxError, ParameterError

F = np.logspace(6, -2, 45)
W = 2 * np.pi * F


# ------------------------------------------------------------------------------------------- parsing


def test_parameter_names_units_keys():
    c = Circuit('R0-p(R1,CPE1)-p(R2,CPE2)-CPE3')
    assert c.parameter_names == (
        'R0',
        'R1',
        'CPE1_Q',
        'CPE1_alpha',
        'R2',
        'CPE2_Q',
        'CPE2_alpha',
        'CPE3_Q',
        'CPE3_alpha',
    )
    assert c.parameter_units[:4] == ('ohm', 'ohm', 'S s^alpha', '1')
    assert c.parameter_keys[:4] == ('r0_ohm', 'r1_ohm', 'cpe1_q_s_sa', 'cpe1_alpha')
    assert c.stderr_keys[:4] == ('r0_stderr_ohm', 'r1_stderr_ohm', 'cpe1_q_stderr_s_sa', 'cpe1_alpha_stderr')
    assert [e.kind for e in c.elements] == ['R', 'R', 'CPE', 'R', 'CPE', 'CPE']
    assert c.elements[2] == ('CPE1', 'CPE')


def test_every_element_kind_and_suffixes():
    c = Circuit('L0-Rb-p(Rgb,CPEgb)-p(R2-Wo1,C2)-Ws1-W1-CPEel')
    assert [(e.name, e.kind) for e in c.elements] == [
        ('L0', 'L'),
        ('Rb', 'R'),
        ('Rgb', 'R'),
        ('CPEgb', 'CPE'),
        ('R2', 'R'),
        ('Wo1', 'Wo'),
        ('C2', 'C'),
        ('Ws1', 'Ws'),
        ('W1', 'W'),
        ('CPEel', 'CPE'),
    ]
    assert c.parameter_keys == (
        'l0_h',
        'rb_ohm',
        'rgb_ohm',
        'cpegb_q_s_sa',
        'cpegb_alpha',
        'r2_ohm',
        'wo1_r_ohm',
        'wo1_tau_s',
        'c2_f',
        'ws1_r_ohm',
        'ws1_tau_s',
        'w1_sigma_ohm_per_sqrt_s',
        'cpeel_q_s_sa',
        'cpeel_alpha',
    )
    assert c.parameter_units[c.index('W1_sigma')] == 'ohm s^-0.5'
    assert c.parameter_units[c.index('wo1_tau_s')] == 's'
    assert c.index('CPEgb_alpha') == c.index('cpegb_alpha')


def test_whitespace_and_nesting():
    c = Circuit(' R0 - p( R1 , p(C1, R2-C2) - L1 ) ')
    assert c.parameter_names == ('R0', 'R1', 'C1', 'R2', 'C2', 'L1')
    assert c.tree.signature() == 'R-p(R,p(C,R-C)-L)'


@pytest.mark.parametrize(
    'spec, column, fragment',
    [
        ('R0-p(R1,CPE1)-X3', 15, "unknown element 'X3'"),
        ('R0-p(R1,X3)', 9, "unknown element 'X3'"),
        ('R0-p(R1,CPE1', 13, "'(' at column 5 is never closed"),
        ('R0-R1)', 6, "unexpected ')'"),
        ('R0-p(R1,R0)', 9, "duplicate element name 'R0'"),
        ('R0--R1', 4, 'expected an element'),
        ('R0-p(R1)', 4, 'at least two branches'),
        ('R0-(R1,C1)', 4, "unexpected '('"),
        ('R0-p(R1,C1)-', 13, 'the circuit ends'),
        ('R0 R1', 4, 'expected "-"'),
        ('R0-p(R1;C1)', 8, "unexpected character ';'"),
    ],
)
def test_syntax_errors_name_the_column(spec, column, fragment):
    with pytest.raises(CircuitSyntaxError) as info:
        Circuit(spec)
    assert info.value.column == column
    assert fragment in str(info.value)
    assert f'column {column}' in str(info.value)


def test_empty_and_non_string():
    with pytest.raises(CircuitSyntaxError, match='empty'):
        Circuit('   ')
    with pytest.raises(TypeError):
        Circuit(None)  # type: ignore[arg-type]


def test_parameter_value_errors():
    c = Circuit('R0-p(R1,C1)')
    with pytest.raises(ParameterError, match='missing values for C1'):
        c.impedance(F, {'R0': 1, 'R1': 2})
    with pytest.raises(ParameterError, match='not a parameter'):
        c.impedance(F, {'R0': 1, 'R1': 2, 'C1': 1e-6, 'Q9': 1})
    with pytest.raises(ParameterError, match='has 3 parameters'):
        c.impedance(F, [1, 2])
    with pytest.raises(ValueError, match='frequency_hz'):
        c.impedance([1.0, -1.0], [1, 2, 3])


# ------------------------------------------------------------------------------------------ formulas


def test_element_formulas_closed_form():
    c = Circuit('R1-C1-L1-CPE1-W1')
    z = c.impedance(F, {'R1': 7.0, 'C1': 1e-6, 'L1': 1e-7, 'CPE1_Q': 2e-5, 'CPE1_alpha': 0.8, 'W1_sigma': 30.0})
    expected = 7.0 + 1 / (1j * W * 1e-6) + 1j * W * 1e-7 + 1 / (2e-5 * (1j * W) ** 0.8) + 30.0 * (1 - 1j) / np.sqrt(W)
    np.testing.assert_allclose(z, expected, rtol=1e-12)


def test_parallel_composition():
    c = Circuit('R0-p(R1,CPE1)')
    p = {'R0': 10, 'R1': 500, 'CPE1_Q': 5e-9, 'CPE1_alpha': 0.92}
    zq = 1 / (5e-9 * (1j * W) ** 0.92)
    np.testing.assert_allclose(c.impedance(F, p), 10 + 1 / (1 / 500 + 1 / zq), rtol=1e-12)


def test_finite_warburg_limits_and_stability():
    r, tau = 100.0, 2.0
    f = np.logspace(-8, 9, 60)
    w = 2 * np.pi * f
    zo = Circuit('Wo1').impedance(f, [r, tau])
    zs = Circuit('Ws1').impedance(f, [r, tau])
    assert np.all(np.isfinite(zo)) and np.all(np.isfinite(zs))
    x = np.sqrt(1j * w * tau)
    np.testing.assert_allclose(zo, r / np.tanh(x) / x, rtol=1e-9)
    np.testing.assert_allclose(zs, r * np.tanh(x) / x, rtol=1e-9)
    low, high = w * tau < 1e-4, w * tau > 1e4
    # reflective: R/3 + R/(j w tau) at low frequency; transmissive closes on R; both R/sqrt(j w tau) high
    np.testing.assert_allclose(zo[low], r / 3 + r / (1j * w[low] * tau), rtol=1e-4)
    np.testing.assert_allclose(zs[low], r, rtol=1e-4)
    np.testing.assert_allclose(zo[high], r / x[high], rtol=1e-6)
    np.testing.assert_allclose(zs[high], r / x[high], rtol=1e-6)


@pytest.mark.parametrize(
    'spec, values',
    [
        ('R0-p(R1,CPE1)-p(R2,CPE2)-CPE3', [10, 500, 5e-9, 0.92, 1500, 5e-7, 0.85, 1e-5, 0.8]),
        ('L0-R0-p(R1-Wo1,C1)-Ws1-W1', [1e-7, 12, 300, 800, 2.0, 1e-6, 300, 0.5, 30]),
        ('p(R1,p(C1,R2-CPE2))-L1', [100, 1e-8, 40, 3e-5, 0.7, 1e-6]),
    ],
)
def test_jacobian_matches_finite_differences(spec, values):
    c = Circuit(spec)
    p = np.array(values, dtype=float)
    jac = c.jacobian(F, p)
    z0 = c.impedance(F, p)
    assert jac.shape == (F.size, p.size)
    for i in range(p.size):
        h = 1e-6 * abs(p[i])
        q1, q2 = p.copy(), p.copy()
        q1[i] += h
        q2[i] -= h
        fd = (c.impedance(F, q1) - c.impedance(F, q2)) / (2 * h)
        # truncation error of the central difference plus the round-off of differencing |Z|
        tolerance = 1e-6 * np.max(np.abs(jac[:, i])) + 1e-13 * np.max(np.abs(z0)) / h
        assert np.max(np.abs(fd - jac[:, i])) < tolerance, c.parameter_names[i]
    assert np.all(np.isfinite(z0))


def test_matches_impedance_py_when_installed():
    circuits = pytest.importorskip('impedance.models.circuits')
    spec = 'R0-p(R1,CPE1)-p(R2-Wo1,C2)-Ws1-W1-L1'
    p = [10, 500, 5e-9, 0.92, 1500, 800, 2.0, 1e-6, 300, 0.5, 30, 1e-7]
    peer = circuits.CustomCircuit(spec, initial_guess=p)
    with pytest.warns(UserWarning):
        z_peer = peer.predict(F)
    np.testing.assert_allclose(Circuit(spec).impedance(F, p), z_peer, rtol=1e-10)
