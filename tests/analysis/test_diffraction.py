"""Powder patterns of known cubic phases: peaks, matching, lattice refinement, Scherrer sizes, references."""

import numpy as np
import pytest

from aiida_ssb.analysis.diffraction import (
    DiffractionSettings,
    ReferencePhase,
    analyse_pattern,
    d_spacing,
    reference_lines,
    two_theta,
)
from aiida_ssb.exceptions import InsufficientDataError, SettingsError
from tests.analysis.known_answers import cubic_reflections, powder_pattern

BCC = {'name': 'bcc', 'crystal_system': 'cubic', 'a_angstrom': 7.85, 'centring': 'I'}

#: a (A), centring, size nm, zero shift, background, points: a within 0.002 A, size within 10 %
CASES = {
    'seed 004 bcc NCB': (7.882, 'I', 40.0, 0.0, 200.0, 10000),
    'zero shift 0.05 deg': (7.882, 'I', 40.0, 0.05, 200.0, 10000),
    'small crystallites 12 nm': (7.882, 'I', 12.0, 0.0, 200.0, 10000),
    'strong background': (7.882, 'I', 40.0, 0.0, 2000.0, 10000),
    'coarse 3500 points': (7.882, 'I', 40.0, 0.0, 200.0, 3500),
    'fcc a = 10.066': (10.066, 'F', 60.0, 0.0, 200.0, 10000),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_known_cubic_phase_is_found_refined_and_sized(name):
    a, centring, size, zero, background, points = CASES[name]
    x, y, truth = powder_pattern(
        a, centring=centring, size_nm=size, zero_shift_deg=zero, background=background, points=points
    )
    reference = dict(BCC, centring=centring, a_angstrom=round(a * 0.997, 3), name='phase')
    result = analyse_pattern(
        x, y, wavelength=1.5406, references=[reference], instrument_fwhm_deg=0.06, profile='gaussian'
    )
    summary = result.to_dict()
    phase = summary['phases'][0]
    assert phase['found'] and phase['refined_lattice']
    assert summary['lattice_a_angstrom'] == pytest.approx(a, abs=0.002)
    if zero:
        assert phase['zero_shift_deg'] == pytest.approx(zero, abs=0.01)
    assert summary['crystallite_size_nm'] == pytest.approx(size, rel=0.10)
    # every generated reflection is found within 0.01 deg or 3 % of its width
    positions = np.array(result.peaks['two_theta_deg'])
    for centre, _, fwhm in truth:
        if 10.5 < centre < 79.5:
            assert np.min(np.abs(positions - centre)) < max(0.01, 0.03 * fwhm)
    # at most one weak noise peak is left unexplained (and said)
    unexplained = result.peaks['phase'] < 0
    assert unexplained.sum() <= 1 and np.all(result.peaks['relative_intensity'][unexplained] < 0.02)


def test_peak_widths_intensities_and_d_spacings():
    x, y, truth = powder_pattern(7.882, poisson=False, background=0.0, size_nm=30.0)
    result = analyse_pattern(x, y, wavelength=1.5406, profile='gaussian', background_window_deg=3.0)
    for centre, hkl, fwhm in truth:
        if 12 < centre < 78:
            j = int(np.argmin(np.abs(result.peaks['two_theta_deg'] - centre)))
            assert result.peaks['fwhm_deg'][j] == pytest.approx(fwhm, rel=0.03)
            assert result.peaks['d_angstrom'][j] == pytest.approx(7.882 / np.sqrt(sum(h * h for h in hkl)), rel=2e-4)
    assert d_spacing(two_theta(2.0, 1.5406), 1.5406) == pytest.approx(2.0)


def test_second_phase_and_wrong_references():
    # bcc with an extra reflection of a second phase (seed 004: a residual orthorhombic phase)
    x, y, _ = powder_pattern(7.882, extra_peaks=[(14.5, 0.2, 300.0)])
    wrong = {'name': 'fcc', 'crystal_system': 'cubic', 'a_angstrom': 9.0, 'centring': 'F'}
    ortho = {'name': 'ortho', 'd_spacings_angstrom': [float(d_spacing(14.5, 1.5406))], 'hkl': [[1, 1, 1]]}
    result = analyse_pattern(x, y, wavelength=1.5406, references=[BCC, wrong, ortho])
    phases = {phase['name']: phase for phase in result.to_dict()['phases']}
    assert phases['bcc']['found'] and not phases['fcc']['found'] and phases['ortho']['found']
    assert phases['ortho']['intensity_share'] < 0.1
    alone = analyse_pattern(x, y, wavelength=1.5406, references=[BCC])
    assert any(f['flag'] == 'unexplained_peaks' and 14.4 < f['two_theta_deg'][0] < 14.6 for f in alone.flags)


def test_references_from_a_cif_and_a_pattern_file(tmp_path):
    cif = tmp_path / 'nacl.cif'
    cif.write_text(
        'data_NaCl\n_cell_length_a 5.64\n_cell_length_b 5.64\n_cell_length_c 5.64\n'
        '_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n'
        "_symmetry_space_group_name_H-M 'F m -3 m'\nloop_\n_symmetry_equiv_pos_as_xyz\n"
        'x,y,z\nx,y+1/2,z+1/2\nx+1/2,y,z+1/2\nx+1/2,y+1/2,z\nloop_\n_atom_site_label\n_atom_site_type_symbol\n'
        '_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa1 Na 0 0 0\nCl1 Cl 0.5 0.5 0.5\n'
    )
    lines = reference_lines(ReferencePhase(name='NaCl', cif=str(cif)), 1.5406, 1.0)['lines']
    expected = [angle for angle, _ in cubic_reflections(5.64, 'F', 1.5406, 100)]
    assert np.allclose(np.sort(lines['two_theta_deg'])[:4], expected[:4], atol=1e-6)
    strongest = lines['hkl'][int(np.argmax(lines['intensity']))]
    assert tuple(strongest) == (2, 0, 0)  # NaCl: (200) strongest, (111) weak (Na and Cl nearly cancel)
    x, y, _ = powder_pattern(5.64, centring='F', seed=2)
    pattern = tmp_path / 'reference.xy'
    pattern.write_text('# wavelength: 1.5406 A\n' + '\n'.join(f'{a:.5f} {b:.1f}' for a, b in zip(x, y)))
    measured_x, measured_y, _ = powder_pattern(5.64, centring='F', seed=5, zero_shift_deg=0.02)
    result = analyse_pattern(
        measured_x,
        measured_y,
        wavelength=1.5406,
        references=[{'name': 'NaCl (CIF)', 'cif': str(cif)}, {'name': 'NaCl (pattern)', 'pattern': str(pattern)}],
    )
    assert all(phase['found'] for phase in result.phases)
    assert result.to_dict()['lattice_a_angstrom'] == pytest.approx(5.64, abs=0.003)


def test_settings_and_edge_cases():
    with pytest.raises(SettingsError):
        DiffractionSettings.resolve({'references': [{'name': 'x'}]})
    with pytest.raises(SettingsError):
        DiffractionSettings.resolve({'references': [{'name': 'x', 'a_angstrom': 5.0}]})
    with pytest.raises(InsufficientDataError):
        analyse_pattern(np.linspace(10, 20, 10), np.ones(10))
    with pytest.raises(InsufficientDataError):
        analyse_pattern(np.linspace(10, 80, 1000), np.full(1000, 100.0))
    x, y, _ = powder_pattern(7.882)
    result = analyse_pattern(x, y)
    assert any(f['flag'] == 'wavelength_assumed' for f in result.flags)
    assert any(f['flag'] == 'no_instrument_broadening' for f in result.flags)
