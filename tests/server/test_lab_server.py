"""The shared lab server path: PostgreSQL storage, RabbitMQ broker, two daemon workers (skipped without services).

Everything runs in subprocesses on a throw-away server profile (see ``conftest.py``):

* the profile that ``aiida-ssb server setup`` made: storage, broker, caching, workers; refusals of a second setup;
* a campaign analysed by the daemon (``analyse --submit``): every workchain finishes, the cells table holds the
  numbers the generator encoded, no checkpoint failed;
* two importers at the same time: two manifests sharing every material and lab step both complete, with one
  copy of each; the same manifest twice gives one copy of everything;
* a daemon worker killed with SIGKILL in the middle of a campaign re-analysis: circus restarts it, every
  workchain finishes, every cell has exactly one complete result of the run; ``server tidy`` closes what the dead
  worker left;
* a second machine joining with the join file: same graph, and its worker runs work submitted on the server.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import sys
import time
from collections import Counter

import pytest
import yaml

pytestmark = [pytest.mark.services, pytest.mark.slow]

SEED002 = 'seed002-stability-method'
SEED004 = 'seed004-milling-series'
SEED000 = 'seed000-4v-cell'
BIN = pathlib.Path(sys.executable).parent


def _manifest_ids(manifest: dict) -> tuple[list[str], list[str], list[str]]:
    """(material/intermediate sample ids, cell ids, raw file names) of a manifest."""
    materials = [entry['id'] for entry in manifest.get('materials', [])]
    materials += [process['output']['id'] for process in manifest.get('processes', [])]
    cells = [entry['id'] for entry in manifest.get('cells', [])]
    files = [os.path.basename(entry['file']) for entry in manifest.get('measurements', [])]
    return materials, cells, files


def _cells_table(lab_server, campaign: str, columns: str) -> dict[str, dict]:
    result = lab_server.ssb('cells', '--campaign', campaign, '--columns', columns, '--format', 'json')
    return {row['sample_id']: row for row in json.loads(result.stdout[result.stdout.index('[') :])}


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope='module')
def seed002_analysed(lab_server, demo_campaigns):
    """seed002 imported, analysed through the daemon; the pk before the submission and the submit output."""
    lab_server.ssb('import', str(demo_campaigns / SEED002 / 'manifest.yaml'), timeout=180)
    after = lab_server.query('max_pk')
    submitted = lab_server.ssb('analyse', '--campaign', SEED002, '--submit')
    start = time.monotonic()
    lab_server.wait_idle(timeout=240)
    print(f'\nseed002 analysed by 2 daemon workers in {time.monotonic() - start:.1f} s')
    return after, submitted.stdout


@pytest.fixture(scope='module')
def split_import(lab_server, demo_campaigns):
    """seed004 split in two manifests (campaigns conc-a and conc-b) sharing every material, lab step and material
    record, imported by two processes started together."""
    folder = demo_campaigns / SEED004
    manifest = yaml.safe_load((folder / 'manifest.yaml').read_text(encoding='utf-8'))
    cells = [cell['id'] for cell in manifest['cells']]
    halves = {'conc-a': cells[:5], 'conc-b': cells[5:]}
    paths = {}
    for campaign, keep in halves.items():
        part = dict(
            manifest,
            campaign=campaign,
            cells=[c for c in manifest['cells'] if c['id'] in keep],
            # a material's records (no cell) go into both: one file named by two manifests is stored once
            measurements=[m for m in manifest['measurements'] if m.get('cell', keep[0]) in keep],
        )
        paths[campaign] = folder / f'{campaign}.yaml'
        paths[campaign].write_text(yaml.safe_dump(part, sort_keys=False, allow_unicode=True), encoding='utf-8')
    start = time.monotonic()
    processes = {campaign: lab_server.ssb_async('import', str(path)) for campaign, path in paths.items()}
    outputs = {campaign: (process.wait(timeout=240), *process.communicate()) for campaign, process in processes.items()}
    print(f'\ntwo concurrent imports of seed004 halves: {time.monotonic() - start:.1f} s')
    return manifest, halves, outputs


# ------------------------------------------------------------------------------------------------ tests
def test_server_profile(lab_server):
    """The profile is on PostgreSQL + RabbitMQ, caches the analyses and runs two workers; a second setup onto the
    same profile or database is refused with a clear message and creates nothing."""
    from aiida_ssb.server.profile import CACHED_ANALYSES

    status = lab_server.status()
    assert status['storage']['backend'] == 'core.psql_dos'
    assert lab_server.database in status['storage']['location'] and 'error' not in status['storage']
    assert status['broker']['backend'] == 'core.rabbitmq' and 'error' not in status['broker']
    assert status['caching_enabled_for'] == [CACHED_ANALYSES]
    assert status['daemon']['running'] and len(status['daemon']['workers']) == 2
    assert lab_server.join_file.stat().st_mode & 0o077 == 0  # holds the database password

    same_profile = lab_server.ssb('server', 'setup', '--profile-name', lab_server.profile, check=False)
    assert same_profile.returncode == 1 and 'already exists' in same_profile.stderr
    assert 'Traceback' not in same_profile.stderr
    same_database = lab_server.ssb(
        'server',
        'setup',
        '--profile-name',
        'other',
        '--postgres-hostname',
        '127.0.0.1',
        '--database-name',
        lab_server.database,
        '--database-username',
        'nobody_new',
        check=False,
    )
    assert same_database.returncode == 1
    assert f"the database '{lab_server.database}' already exists on 127.0.0.1:5432" in same_database.stderr
    profiles = lab_server.verdi('profile', 'list').stdout
    assert 'other' not in profiles.split()


def test_submit_campaign_to_daemon(lab_server, demo_campaigns, seed002_analysed):
    """`aiida-ssb analyse --campaign X --submit`: every CellAnalysisWorkChain and child finishes OK in the daemon,
    the query index points at each run's summary, and the cells table shows the encoded numbers."""
    after, submitted = seed002_analysed
    manifest = yaml.safe_load((demo_campaigns / SEED002 / 'manifest.yaml').read_text(encoding='utf-8'))
    cells = [cell['id'] for cell in manifest['cells']]
    measured_materials = {m['material'] for m in manifest['measurements'] if m.get('material')}
    # one run per cell and per material with records of its own (e.g. a powder's diffraction pattern)
    assert f'Submitted {len(cells) + len(measured_materials)} CellAnalysisWorkChain(s)' in submitted
    runs = lab_server.query('runs', after=after, campaign=SEED002)
    assert len(runs) == len(cells) and {run['cell'] for run in runs} == set(cells)
    for run in runs:
        assert run['finished_ok'], run
        assert len(run['summaries']) == 1 and run['index_summary'] == run['summaries'][0], run
        assert run['children'] and all(child['finished_ok'] for child in run['children']), run

    expected = json.loads((demo_campaigns / 'expected.json').read_text())['seed002']
    table = _cells_table(
        lab_server, SEED002, 'sample_id,oxidative_onset_v,ccd_ma_cm2,interface_growth_rate_ohm_cm2_per_sqrt_h'
    )
    for cell, onset in expected['oxidative_onset_v'].items():
        assert table[cell]['oxidative_onset_v'] == pytest.approx(onset, abs=0.01), cell
    assert table['LI-SYM-CCD']['ccd_ma_cm2'] == pytest.approx(
        expected['ccd_ma_cm2']['LI-SYM-CCD']['sudden_drop'], abs=0.005
    )
    growth = expected['interphase_growth']['LI-SYM-OCV']['k_ohm_cm2_h05']
    assert table['LI-SYM-OCV']['interface_growth_rate_ohm_cm2_per_sqrt_h'] == pytest.approx(growth, abs=0.5)


def test_workchains_checkpoint_in_daemon(lab_server, seed002_analysed):
    """Every step of every workchain could be checkpointed (its ctx holds only storable values): the daemon log
    records no failed checkpoint and no excepted process."""
    log = lab_server.daemon_log()
    assert 'CellAnalysisWorkChain' in log, 'the daemon workers logged no analysis'
    assert 'Exception trying to save checkpoint' not in log, lab_server.log_tail(80)
    errors = [line for line in log.splitlines() if '[ERROR]' in line or '[CRITICAL]' in line or 'Traceback' in line]
    assert not errors, '\n'.join(errors[:20])


def test_concurrent_imports_of_different_manifests(lab_server, split_import):
    """Two importers at the same time, two manifests sharing all materials and lab steps: both complete, and every
    sample and file is stored once."""
    manifest, halves, outputs = split_import
    for campaign, (code, stdout, stderr) in outputs.items():
        assert code == 0, f'{campaign}: {stdout}\n{stderr}'
        assert 'Traceback' not in stderr
    materials, cells, files = _manifest_ids(manifest)
    counts = lab_server.query('samples', ids=materials + cells)
    assert all(count == {'nodes': 1, 'groups': 1} for count in counts.values()), counts
    assert set(lab_server.query('files', names=files).values()) == {1}
    for campaign, keep in halves.items():
        assert set(_cells_table(lab_server, campaign, 'sample_id')) == set(keep)


def test_concurrent_imports_of_the_same_manifest(lab_server, demo_campaigns):
    """The same manifest imported by two processes at the same time: both succeed, one copy of everything."""
    path = demo_campaigns / SEED000 / 'manifest.yaml'
    processes = [lab_server.ssb_async('import', str(path)) for _ in range(2)]
    outputs = [(process.wait(timeout=240), *process.communicate()) for process in processes]
    for code, stdout, stderr in outputs:
        assert code == 0, f'{stdout}\n{stderr}'
    manifest = yaml.safe_load(path.read_text(encoding='utf-8'))
    materials, cells, files = _manifest_ids(manifest)
    counts = lab_server.query('samples', ids=materials + cells)
    assert all(count == {'nodes': 1, 'groups': 1} for count in counts.values()), counts
    assert set(lab_server.query('files', names=files).values()) == {1}
    assert set(_cells_table(lab_server, SEED000, 'sample_id')) == set(cells)


def _busiest(pids: list[int]) -> int:
    """The worker that used the most CPU over half a second (the one most likely in the middle of a step)."""
    import psutil

    before = {}
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        before[pid] = times.user + times.system
    time.sleep(0.5)
    used = {}
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        used[pid] = times.user + times.system - before[pid]
    return max(used, key=used.get)


def test_worker_killed_during_reanalysis(lab_server, split_import):
    """SIGKILL one daemon worker in the middle of a campaign re-analysis: circus starts a new worker, RabbitMQ hands
    the dead worker's processes to the workers, every workchain finishes and every cell has exactly one complete
    result of the run (no duplicate summary, none missing). `server tidy` then closes the process functions the
    dead worker left unfinished."""
    _, halves, outputs = split_import
    assert outputs['conc-a'][0] == 0
    after = lab_server.query('max_pk')
    lab_server.ssb('reanalyse', '--campaign', 'conc-a', '--set', 'eis.seed=7', '--submit')
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # in the middle: some fits done, work still running
        activity = lab_server.query('activity', after=after)
        if activity['finished_analyses'] >= 2 and len(activity['active']) >= 2:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f'the re-analysis never got going: {activity}')
    workers = lab_server.status()['daemon']['workers']
    victim = _busiest(workers)
    os.kill(victim, signal.SIGKILL)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # circus replaces the dead worker
        workers = lab_server.status()['daemon']['workers']
        if len(workers) == 2 and victim not in workers:
            break
        time.sleep(1)
    else:
        pytest.fail(f'the daemon did not replace worker {victim}: workers {workers}')

    # a step runs its cell's analyses one after another inside the worker: minutes on a loaded 2-core machine
    activity = lab_server.wait_idle(timeout=600, after=after)
    runs = lab_server.query('runs', after=after, campaign='conc-a')
    assert sorted(run['cell'] for run in runs) == sorted(halves['conc-a']), runs  # one run per cell
    orphaned = set(activity['orphaned'])
    redone = 0
    for run in runs:
        assert run['finished_ok'], run
        assert len(run['summaries']) == 1 and run['index_summary'] == run['summaries'][0], run
        assert run['spectra'], run
        # a process function the dead worker left unfinished is an orphan (closed by `server tidy` below)
        stray = [child for child in run['children'] if not (child['finished_ok'] or child['pk'] in orphaned)]
        assert not stray, (run['cell'], stray, sorted(orphaned), activity)
        done = Counter((child['process_label'], child['spectrum']) for child in run['children'] if child['finished_ok'])
        for label in ('analyse_eis_fit', 'analyse_conductivity'):  # every spectrum has its fit and conductivity
            assert sorted(spectrum for (name, spectrum) in done if name == label) == run['spectra'], (label, run)
        assert done[('summarise_cell', None)] >= 1, run
        # a step the worker was in when killed runs again on resume: its finished calls come back from the cache
        redone += sum(count - 1 for count in done.values())
    print(
        f'\nworker {victim} killed; {redone} analyses were run again after the resume (from the cache), '
        f'{len(activity["orphaned"])} process function(s) orphaned'
    )

    tidy = lab_server.ssb('server', 'tidy')
    if activity['orphaned']:
        assert f'{len(activity["orphaned"])} orphaned process function(s) closed' in tidy.stdout
    final = lab_server.query('activity', after=after)
    assert final['active'] == [] and final['orphaned'] == []


def test_second_machine_joins(lab_server, seed002_analysed):
    """`server join` on another AIIDA_PATH (standing in for another machine): the same graph, and a worker started
    there runs work submitted on the server while the server's own workers are stopped."""
    joined_path = lab_server.aiida_path.parent / 'joined'
    joined_path.mkdir(exist_ok=True)
    joined = f'{lab_server.profile}-joined'

    def joined_ssb(*args, **kwargs):
        return lab_server.run(str(BIN / 'aiida-ssb'), '-p', joined, *args, aiida_path=joined_path, **kwargs)

    result = lab_server.run(
        str(BIN / 'aiida-ssb'),
        'server',
        'join',
        str(lab_server.join_file),
        '--profile-name',
        joined,
        '--email',
        'second@test',
        aiida_path=joined_path,
    )
    assert 'joined the lab server' in result.stdout
    here = _cells_table(lab_server, SEED002, 'sample_id,oxidative_onset_v')
    result = joined_ssb('cells', '--campaign', SEED002, '--columns', 'sample_id,oxidative_onset_v', '--format', 'json')
    there = {row['sample_id']: row for row in json.loads(result.stdout[result.stdout.index('[') :])}
    assert there == here

    lab_server.ssb('server', 'workers', '0')
    try:
        joined_ssb('server', 'workers', '1')
        after = lab_server.query('max_pk')
        lab_server.ssb('analyse', 'LIBH4-NOC-10', '--submit')
        lab_server.wait_idle(timeout=120)
        runs = lab_server.query('runs', after=after, campaign=SEED002)
        assert len(runs) == 1 and runs[0]['finished_ok'], runs
    finally:
        lab_server.run(str(BIN / 'verdi'), '-p', joined, 'daemon', 'stop', aiida_path=joined_path, check=False)
        lab_server.ssb('server', 'workers', '2')
