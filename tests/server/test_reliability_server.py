"""Reliability on the lab server (issue 13, items 2 and 9): PostgreSQL enforces one copy of every sample and raw
file inside the storing transaction, whoever writes at the same time; the join file is private.

A profile of its own (``server setup`` without daemon workers, a database with a unique name, dropped at the end);
every command runs as a separate process. Skips, with the reason, without PostgreSQL and RabbitMQ."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.server.conftest import BIN, POSTGRES, RABBITMQ, REPO

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture(scope='module')
def psql_profile(services, tmp_path_factory):
    """``(env, profile name, join file)`` of a fresh PostgreSQL profile in its own AIIDA_PATH."""
    from aiida_ssb.server.services import admin_connection, drop_database, drop_role

    token = secrets.token_hex(4)
    root = tmp_path_factory.mktemp('psql-reliability')
    env = dict(os.environ, AIIDA_PATH=str(root), PYTHONWARNINGS='ignore')
    env['PATH'] = f'{BIN}{os.pathsep}{env.get("PATH", "")}'
    env.pop('AIIDA_PROFILE', None)
    profile, database = f'ssb-rel-{token}', f'aiida_ssb_rel_{token}'
    join_file = root / 'join.json'
    join_file.write_text('{"stale": "world-readable"}')
    os.chmod(join_file, 0o644)
    setup = subprocess.run(
        [str(BIN / 'aiida-ssb'), 'server', 'setup', '--profile-name', profile, '--email', 'rel@test']
        + ['--postgres-hostname', POSTGRES[0], '--postgres-port', str(POSTGRES[1]), '--database-name', database]
        + ['--broker-host', RABBITMQ[0], '--broker-port', str(RABBITMQ[1]), '--join-file', str(join_file)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=str(REPO),
    )
    try:
        assert setup.returncode == 0, setup.stderr
        yield env, profile, join_file, setup.stdout
    finally:
        connection = admin_connection(POSTGRES[0], POSTGRES[1], 'postgres', None)
        try:
            drop_database(connection, database)
            drop_role(connection, database)
        finally:
            connection.close()


def _ssb(env, profile, *args):
    return subprocess.Popen(
        [str(BIN / 'aiida-ssb'), '-p', profile, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
    )


def _spectrum(path, r):
    f = np.logspace(6, -1, 30)
    z = r / (1 + 1j * 2 * np.pi * f * r * 1e-9) + 1 / (1j * 2 * np.pi * f * 1e-6)
    path.write_text(''.join(f'{a:.6e},{b:.6e},{c:.6e}\n' for a, b, c in zip(f, z.real, z.imag)))
    return path


def _manifest(folder, prefix, files):
    measurements = ''.join(
        f'  - {{cell: {prefix}-PEL, file: {name}, technique: impedance, temperature: {25 + i} degC}}\n'
        for i, name in enumerate(files)
    )
    text = (
        textwrap.dedent(f"""\
        campaign: {prefix}
        materials:
          - {{id: {prefix}-SE, role: electrolyte}}
          - {{id: {prefix}-IN, role: metal_foil}}
        cells:
          - id: {prefix}-PEL
            format: blocking_pellet
            diameter: 10 mm
            layers:
              - {{role: blocking_electrode, material: {prefix}-IN}}
              - {{role: electrolyte, material: {prefix}-SE, thickness: 500 um}}
              - {{role: blocking_electrode, material: {prefix}-IN}}
        measurements:
        """)
        + measurements
    )
    path = folder / 'manifest.yaml'
    path.write_text(text)
    return path


_COUNT = """
import json, sys
from aiida import load_profile, orm
load_profile(sys.argv[1])
from aiida_ssb.data.sample import SampleGroup
checksums, ids = json.loads(sys.argv[2]), json.loads(sys.argv[3])
raw = {sha: orm.QueryBuilder().append(orm.SinglefileData, filters={'attributes.sha256': sha}).count() for sha in checksums}
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.material import MaterialData
from aiida_ssb.data.measurements import ImpedanceSpectrumData
nodes = {i: orm.QueryBuilder().append((CellData, MaterialData), filters={'attributes.sample_id': i}).count() for i in ids}
records = {i: orm.QueryBuilder().append(ImpedanceSpectrumData, filters={'attributes.sample_id': i}).count() for i in ids}
groups = {i: orm.QueryBuilder().append(SampleGroup, filters={'label': i}).count() for i in ids}
print(json.dumps({'raw': raw, 'nodes': nodes, 'groups': groups, 'records': records}))
"""


def _counts(env, profile, checksums, ids):
    result = subprocess.run(
        [sys.executable, '-c', _COUNT, profile, json.dumps(checksums), json.dumps(ids)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_join_file_is_private_whatever_was_there(psql_profile):
    """Item 9: an existing join file kept its mode 0644 while the command said "readable by you only"."""
    _env, _profile, join_file, stdout = psql_profile
    assert stat.S_IMODE(join_file.stat().st_mode) == 0o600
    assert 'database_password' in join_file.read_text() and 'mode 0600' in stdout


def test_concurrent_imports_and_import_files_store_one_copy(psql_profile, tmp_path):
    """Item 2: two concurrent imports each reported "created 8" and the same spectrum was listed twice; two
    concurrent import-file stored one file twice."""
    env, profile, _join, _out = psql_profile
    prefix = f'PG{secrets.token_hex(2)}'
    files = [f's{i}.csv' for i in range(4)]
    for i, name in enumerate(files):
        _spectrum(tmp_path / name, 700.0 + 13 * i)
    manifest = _manifest(tmp_path, prefix, files)
    processes = [_ssb(env, profile, 'import', manifest) for _ in range(2)]
    for process in processes:
        _stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0 and 'Traceback' not in stderr, stderr
    extra = _spectrum(tmp_path / 'extra.csv', 1999.0)
    processes = [
        _ssb(env, profile, 'import-file', extra, '--cell', f'{prefix}-PEL', '--technique', 'impedance')
        for _ in range(2)
    ]
    for process in processes:
        _stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0 and 'Traceback' not in stderr, stderr
    checksums = [hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in [*files, 'extra.csv']]
    ids = [f'{prefix}-SE', f'{prefix}-IN', f'{prefix}-PEL']
    counts = _counts(env, profile, checksums, ids)
    assert set(counts['raw'].values()) == {1}, counts
    assert set(counts['nodes'].values()) == {1} and set(counts['groups'].values()) == {1}, counts
    assert counts['records'][f'{prefix}-PEL'] == len(checksums), counts  # every spectrum listed once


_STALE = """
import sys
from aiida import load_profile
load_profile(sys.argv[1])
from aiida_ssb.importer.manifest import plan_import, run_import
from aiida_ssb.importer.measurements import import_file
stale = plan_import(sys.argv[2])  # planned before the other writer stored the same file
import_file(sys.argv[3], sys.argv[4], technique='impedance', temperature='40 degC')
try:
    run_import(stale)
except Exception as exc:
    print(type(exc).__name__)
"""


def test_a_stale_plan_meets_the_database_constraint(psql_profile, tmp_path):
    """Item 2, deterministically: the uniqueness of raw files is a database constraint checked inside the
    storing transaction, not a query before it."""
    env, profile, _join, _out = psql_profile
    prefix = f'PS{secrets.token_hex(2)}'
    first = _manifest(tmp_path, prefix, [])
    process = _ssb(env, profile, 'import', first)
    assert process.wait(timeout=300) == 0, process.communicate()[1]
    path = _spectrum(tmp_path / 'late.csv', 3141.0)
    manifest = _manifest(tmp_path, prefix, ['late.csv'])
    result = subprocess.run(
        [sys.executable, '-c', _STALE, profile, str(manifest), str(path), f'{prefix}-PEL'],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip().splitlines()[-1] == 'DuplicateRawFileError', result.stderr
    counts = _counts(env, profile, [hashlib.sha256(path.read_bytes()).hexdigest()], [f'{prefix}-PEL'])
    assert list(counts['raw'].values()) == [1]
