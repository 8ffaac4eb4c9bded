"""The demonstration's checks on real instrument files (aiida_ssb.realdata): pass on the shared files, say so when
the folder is absent, and fail when a file is damaged."""

import shutil

from aiida_ssb.realdata import real_data_checks


def test_every_real_data_check_passes_on_the_shared_files(shared_data):
    checks = real_data_checks(shared_data)
    assert checks and all(check.ok for check in checks), [c for c in checks if not c.ok]
    names = ' '.join(check.name for check in checks)
    assert 'counter' in names and '.mpr' in names


def test_absent_folder_gives_no_checks(tmp_path):
    assert real_data_checks(tmp_path / 'nowhere') is None


def test_a_damaged_twin_fails_its_check(shared_file, tmp_path):
    folder = tmp_path / 'biologic'
    folder.mkdir()
    shutil.copy(shared_file('biologic/peis.mpr'), folder / 'peis.mpr')
    text = shared_file('biologic/peis.mpt').read_bytes().decode('latin-1').splitlines(keepends=True)
    lines = text[:-3] + ['\t'.join('9' for _ in text[-3].split('\t')) + '\n'] + text[-2:]  # a value changed
    (folder / 'peis.mpt').write_bytes(''.join(lines).encode('latin-1'))
    checks = {check.name: check for check in real_data_checks(tmp_path)}
    twins = next(check for name, check in checks.items() if '.mpr' in name)
    assert not twins.ok
