"""The demonstration-campaign generator (aiida_ssb.demo_data, shipped in the package; examples/demo/generate.py
runs it from a checkout): deterministic, readable by our readers, valid manifests, and the numbers it encodes are
in its files.

The generator imports nothing of aiida_ssb outside aiida_ssb.demo_data (checked here on its source); these tests may.
"""

from __future__ import annotations

import ast
import json
import math
import pathlib
import sys

import numpy as np
import pytest
import yaml

from aiida_ssb.demo_data.generate import generate

REPO = pathlib.Path(__file__).resolve().parent.parent
DEMO = REPO / 'aiida_ssb' / 'demo_data'
SCRIPT = REPO / 'examples' / 'demo' / 'generate.py'

#: manifest technique -> what our reader must detect
DETECTED = {
    'peis': 'peis',
    'cv': 'cv',
    'gcpl': 'gcpl',
    'critical_current_density': 'gcpl',
    'ca': 'ca',
    'sta': 'sta',
    'xrd': 'xrd',
}
#: techniques whose files are not EC-Lab exports (NETZSCH STA, two-column patterns: issue 21's demo records)
NOT_ECLAB = ('sta', 'xrd')


@pytest.fixture(scope='module')
def reduced(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo-reduced')
    manifests = generate(out, reduced=True)
    return out, manifests


def _all_files(folder: pathlib.Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob('*')) if path.is_file()}


def _manifest(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text(encoding='utf-8'))


def _data_rows(path: pathlib.Path) -> int:
    lines = path.read_bytes().decode('latin-1').split('\r\n')
    n_header = int(lines[1].split(':')[1])
    return len([line for line in lines[n_header:] if line.strip()])


def test_the_generator_does_not_import_aiida_ssb():
    sources = sorted(DEMO.glob('*.py'))
    assert len(sources) > 10  # the generator's modules, not an empty folder
    for source in sources:
        tree = ast.parse(source.read_text(encoding='utf-8'))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ['aiida_ssb.demo_data' if node.level else (node.module or '')]
            for name in names:
                if name == 'aiida_ssb.demo_data' or name.startswith('aiida_ssb.demo_data.'):
                    continue  # its own modules
                assert not name.startswith('aiida'), f'{source.name} imports {name}'
                top = name.split('.')[0]
                assert top == 'numpy' or top in sys.stdlib_module_names, (
                    f'{source.name} imports {name}: only numpy and the standard library are allowed'
                )


def test_same_bytes_twice(reduced, tmp_path):
    out, _ = reduced
    again = tmp_path / 'again'
    generate(again, reduced=True)
    first, second = _all_files(out), _all_files(again)
    assert first.keys() == second.keys()
    different = [name for name in first if first[name] != second[name]]
    assert not different, f'not byte-identical: {different[:5]}'


def test_every_file_reads_with_our_reader_as_intended(reduced):
    from aiida_ssb.parsers import read

    _, manifests = reduced
    for manifest_path in manifests:
        manifest = _manifest(manifest_path)
        for entry in manifest['measurements']:
            path = manifest_path.parent / entry['file']
            record = read(path)
            assert record.technique == DETECTED[entry['technique']], path.name
            if entry['technique'] in NOT_ECLAB:
                text = path.read_text(encoding='latin-1')
                assert 'SYNTHETIC' in text
                rows = [line for line in text.splitlines() if line.strip() and not line.startswith('#')]
                assert record.n_rows == len(rows), path.name
                continue
            assert len(record.columns['time_s']) == _data_rows(path), path.name
            assert 'SYNTHETIC' in record.metadata['comments']
            if record.kind == 'eis':
                assert np.all(record.columns['frequency_hz'] > 0) and np.all(np.isfinite(record.columns['z_real_ohm']))
            else:
                assert np.all(np.isfinite(record.columns['voltage_v']))
                assert np.all(np.isfinite(record.columns['current_ma']))


def test_manifests_are_well_formed_and_reference_every_file_once(reduced):
    _, manifests = reduced
    assert [path.parent.name for path in manifests] == [
        'seed004-milling-series',
        'seed000-4v-cell',
        'seed001-infiltrated-electrodes',
        'seed002-stability-method',
    ]
    ids: list[str] = []
    for manifest_path in manifests:
        manifest = _manifest(manifest_path)
        assert manifest['campaign'] == manifest_path.parent.name
        assert set(manifest) <= {'campaign', 'description', 'materials', 'processes', 'cells', 'measurements'}
        ids += [item['id'] for item in manifest['materials']]
        ids += [process['output']['id'] for process in manifest['processes']]
        ids += [cell['id'] for cell in manifest['cells']]
        referenced = [entry['file'] for entry in manifest['measurements']]
        on_disk = sorted(f'raw/{path.name}' for path in (manifest_path.parent / 'raw').iterdir())
        assert sorted(referenced) == on_disk
        for entry in manifest['measurements']:
            assert entry['technique'] in DETECTED
            assert 'temperature' in entry or entry['technique'] == 'sta'  # a DSC/TG run scans the temperature
    assert len(ids) == len(set(ids)), 'sample ids must be unique across the campaigns'


def test_manifests_validate(reduced, aiida_profile_clean):
    from aiida_ssb.importer.manifest import plan_import

    _, manifests = reduced
    for manifest_path in manifests:
        plan = plan_import(manifest_path)
        assert plan.n_new > 0


def test_state_labels(reduced):
    _, manifests = reduced
    by_name = {path.parent.name: _manifest(path) for path in manifests}
    branches = {entry['branch'] for entry in by_name['seed004-milling-series']['measurements'] if 'branch' in entry}
    assert branches == {'heating', 'cooling'}
    stepwise = [entry for entry in by_name['seed000-4v-cell']['measurements'] if entry['technique'] == 'peis']
    assert [entry['cycle_index'] for entry in stepwise] == [0, 2, 7, 12, 17, 22, 27, 32, 37]
    assert [entry.get('upper_cutoff') for entry in stepwise][-1] == '4.40 V'
    times = [
        entry['time_since_assembly']
        for entry in by_name['seed002-stability-method']['measurements']
        if entry['technique'] == 'peis'
    ]
    assert times[0] == '6 h' and times[-1] == '80 h'


def test_reduced_set_is_small(reduced):
    out, _ = reduced
    files = json.loads((out / 'expected.json').read_text())['files']
    assert sum(item['count'] for item in files.values()) < 80
    assert sum(item['bytes'] for item in files.values()) < 6e6


def test_expected_numbers_are_the_papers(reduced):
    out, _ = reduced
    expected = json.loads((out / 'expected.json').read_text())
    s4 = expected['seed004']
    assert s4['conductivity_25c_s_cm']['PEL-NCB-45'] == pytest.approx(4e-3)
    assert s4['conductivity_25c_s_cm']['PEL-NCB-360'] == pytest.approx(1e-8, rel=0.05)
    assert s4['optimum_milling_time_min'] == 45
    ea = s4['activation_energy_ev']
    assert ea['PEL-NCB-45']['high_t']['fit_of_model_ev'] == pytest.approx(0.205, abs=0.01)
    assert ea['PEL-NCB-45']['low_t']['fit_of_model_ev'] == pytest.approx(0.671, abs=0.01)
    assert ea['PEL-NCB-0']['ordered']['fit_of_model_ev'] == pytest.approx(0.629, abs=0.002)
    assert s4['ccd_ma_cm2']['SYM-NA-MM45'] == {'sudden_drop': 0.12, 'zero_volt': 0.3}
    s0 = expected['seed000']['long_term']['NVOPF-FC-415']
    last = s0['at_cycle'][str(s0['cycles'])]
    assert s0['first_discharge_mah_g'] == pytest.approx(104.0)
    assert s0['first_ce_percent'] == pytest.approx(91.4)
    assert last['capacity_retention_percent'] == pytest.approx(100 * 78 / 99)
    assert last['energy_retention_percent'] == pytest.approx(76.0)
    hl = expected['seed000']['high_loading']['NVOPF-FC-HL']
    assert hl['specific_energy_cam_wh_kg'] == pytest.approx(443, abs=1)
    assert hl['specific_energy_composite_wh_kg'] == pytest.approx(310, abs=1)
    s1 = expected['seed001']
    assert s1['cycling']['NCO-HC-70MPA']['capacity_retention_percent'] == pytest.approx(95.6)
    assert s1['cycling']['NCO-HC-3MPA']['capacity_retention_percent'] == pytest.approx(85.9)
    assert s1['rate_test']['NCO-HC-RATE']['rate_5c_over_01c_percent'] == pytest.approx(67.4, abs=0.01)
    s2 = expected['seed002']
    assert s2['oxidative_onset_v'] == {
        'LIBH4-SP25-10': 2.04,
        'LIBH4-KB5-10': 2.08,
        'LIBH4-MCMB25-10': 2.61,
        'LIBH4-NOC-10': 3.1,
        'LIBH4-SP25-100': 2.19,
        'LIBH4-SP25-500': 2.64,
    }
    assert s2['ccd_ma_cm2']['LI-SYM-CCD']['sudden_drop'] == 0.16


def _first_cycle(record) -> tuple[float, float]:
    """Charge and discharge capacity (mAh) of the first cycle, integrated here (trapezoid on |I|)."""
    t, i = record.columns['time_s'], record.columns['current_ma']
    half = record.columns['half_cycle_index']
    out = []
    for index in (0, 1):
        rows = (half == index) & (record.columns['control_mode'] == 1)
        out.append(float(np.trapezoid(np.abs(i[rows]), t[rows]) / 3600.0))
    return out[0], out[1]


def test_the_files_hold_the_encoded_capacities(reduced):
    """Integrating the written current gives back the encoded first-cycle capacity and coulombic efficiency."""
    from aiida_ssb.parsers import read

    out, _ = reduced
    record = read(out / 'seed000-4v-cell' / 'raw' / 'NVOPF-FC-415_GCPL_long_term.mpt')
    charge, discharge = _first_cycle(record)
    assert discharge / 1.4e-3 == pytest.approx(104.0, rel=1e-4)
    assert 100 * discharge / charge == pytest.approx(91.4, rel=1e-4)
    record = read(out / 'seed001-infiltrated-electrodes' / 'raw' / 'NCO-HC-70MPA_GCPL.mpt')
    charge, discharge = _first_cycle(record)
    active = json.loads((out / 'expected.json').read_text())['seed001']['active_mass_mg']
    assert discharge / active * 1000 == pytest.approx(118.0, rel=1e-4)
    assert 100 * discharge / charge == pytest.approx(95.2, rel=1e-4)


def test_the_spectra_hold_the_encoded_resistance(reduced):
    """At 100 degC the 45-min pellet's bulk arc lies above 7 MHz: the highest-frequency real part is R_bulk."""
    from aiida_ssb.parsers import read

    out, _ = reduced
    expected = json.loads((out / 'expected.json').read_text())['seed004']
    truth = next(
        item
        for item in expected['conductivity_s_cm']['PEL-NCB-45']
        if item['temperature_c'] == 100.0 and item['branch'] == 'heating'
    )
    path = next((out / 'seed004-milling-series' / 'raw').glob('PEL-NCB-45_PEIS_*_heating_p100C.mpt'))
    record = read(path)
    assert record.columns['z_real_ohm'][0] == pytest.approx(truth['resistance_ohm'], rel=0.03)
    pellet = expected['pellet']['PEL-NCB-45']
    sigma = pellet['thickness_cm'] / (truth['resistance_ohm'] * pellet['area_cm2'])
    assert sigma == pytest.approx(truth['conductivity_s_cm'], rel=1e-9)


def test_full_set_limits(tmp_path):
    generate(tmp_path, reduced=False)
    files = json.loads((tmp_path / 'expected.json').read_text())['files']
    assert sum(item['count'] for item in files.values()) < 300
    assert sum(item['bytes'] for item in files.values()) < 50e6
    expected = json.loads((tmp_path / 'expected.json').read_text())
    at = expected['seed000']['long_term']['NVOPF-FC-415']['at_cycle']
    assert at['400']['capacity_retention_percent'] == pytest.approx(100 * 90 / 99)
    assert at['400']['energy_retention_percent'] == pytest.approx(89.0)
    assert at['800']['discharge_mah_g'] == pytest.approx(78.0)
    assert math.isclose(expected['seed000']['long_term']['NVOPF-FC-430']['at_cycle']['160']['discharge_mah_g'], 43.0)


def test_the_script_of_the_checkout_runs_the_packaged_generator(tmp_path, reduced):
    """examples/demo/generate.py writes what the package's generator writes (the same bytes)."""
    import subprocess

    out = tmp_path / 'script'
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), '--reduced'], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert 'instrument files' in result.stdout
    folder, _ = reduced
    assert _all_files(out) == _all_files(folder)


def test_the_demo_reads_its_generator_and_literature_from_the_package():
    """`aiida-ssb demo` needs no checkout: the generator and the literature manifest are inside the package."""
    from aiida_ssb import demo, demo_data

    package = pathlib.Path(demo_data.__file__).resolve().parent
    assert demo.LITERATURE_MANIFEST.parent == package
    assert demo.LITERATURE_MANIFEST.is_file()
    assert yaml.safe_load(demo.LITERATURE_MANIFEST.read_text(encoding='utf-8'))
    assert demo.generate is generate
