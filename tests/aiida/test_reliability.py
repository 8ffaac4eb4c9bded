"""Reliability probes on a profile (issue 13): nothing lost, nothing duplicated, nothing outside its place.

Each test reproduces a probe of the issue (item numbers in the docstrings). The fast ones share the session's
profile and give every sample a unique id (no cleaning); the two that need an empty profile say so. The slow
ones run real concurrent processes on an SQLite profile of their own (marked ``slow``); the PostgreSQL ones are
in ``tests/server/test_reliability_server.py``."""

from __future__ import annotations

import itertools
import os
import pathlib
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_ssb.calculations.record import link_label
from aiida_ssb.cli import cmd_ssb
from aiida_ssb.data.campaign import campaign_label, find_campaign_group
from aiida_ssb.data.sample import SampleGroup, find_sample
from aiida_ssb.importer.manifest import ManifestError, import_manifest, plan_import, run_import

_counter = itertools.count()
BIN = pathlib.Path(sys.executable).parent


def unique() -> str:
    """A prefix that makes this test's sample ids unique in the shared profile."""
    return f'R{os.getpid() % 1000}T{next(_counter)}'


def invoke(*args):
    return CliRunner().invoke(cmd_ssb, [str(a) for a in args], catch_exceptions=False)


def spectrum(path: pathlib.Path, r: float | None = None) -> pathlib.Path:
    """An impedance table (frequency, Z', Z'') of an R||C arc and a blocking capacitance, resistance ``r`` (by
    default a different one at each call: files of different tests never share their content)."""
    r = r if r is not None else 1000.0 + 0.125 * next(_counter)
    path.parent.mkdir(parents=True, exist_ok=True)
    f = np.logspace(6, -1, 30)
    z = r / (1 + 1j * 2 * np.pi * f * r * 1e-9) + 1 / (1j * 2 * np.pi * f * 1e-6)
    path.write_text(''.join(f'{a:.6e},{b:.6e},{c:.6e}\n' for a, b, c in zip(f, z.real, z.imag)))
    return path


def pellet_manifest(prefix: str, files: list[str] = (), campaign: str | None = None, extra: str = '') -> str:
    measurements = ''.join(
        f'  - {{cell: {prefix}-PEL, file: "{name}", technique: impedance, temperature: {25 + 5 * i} degC}}\n'
        for i, name in enumerate(files)
    )
    return (
        textwrap.dedent(f"""\
        campaign: {campaign or prefix + '-campaign'}
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
        """)
        + extra
        + ('measurements:\n' + measurements if files else '')
    )


def write(folder: pathlib.Path, text: str, name: str = 'manifest.yaml') -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def node_count() -> int:
    return orm.QueryBuilder().append(orm.Node).count()


def problems_of(path, **kwargs) -> str:
    with pytest.raises(ManifestError) as info:
        import_manifest(path, **kwargs)
    return str(info.value)


# ------------------------------------------------------------------------------------------------ identity (4, 5)
def test_inputs_differing_only_in_punctuation_keep_their_own_links(aiida_profile, tmp_path):
    """Item 4: a mixing of LPS-1 and LPS_1 imported with one input link; LPS-1's history was lost."""
    p = unique()
    ids = [f'{p}-LPS-1', f'{p}-LPS_1', f'{p}-LPS.1']
    path = write(
        tmp_path,
        textwrap.dedent(f"""\
        campaign: {p}
        materials:
          - {{id: {ids[0]}, role: electrolyte}}
          - {{id: {ids[1]}, role: electrolyte}}
          - {{id: {ids[2]}, role: electrolyte}}
        processes:
          - type: mixing
            inputs: {{{ids[0]}: {{fraction: 50 wt%}}, {ids[1]}: {{fraction: 30 wt%}}, {ids[2]}: {{fraction: 20 wt%}}}}
            output: {{id: {p}-MIX, role: electrolyte}}
        """),
    )
    import_manifest(path)
    process = find_sample(f'{p}-MIX').creator
    links = {
        link.link_label: link.node.sample_id
        for link in process.base.links.get_incoming().all()
        if link.link_label not in ('parameters', 'product')
    }
    assert {label: links[label] for label in map(link_label, ids)} == {link_label(i): i for i in ids}
    from aiida_ssb.query.history import history, render_history

    text = '\n'.join(render_history(history(find_sample(f'{p}-MIX'))))
    assert all(sample_id in text for sample_id in ids)
    import_manifest(path)  # and a re-import recognises the stored step as unchanged


def test_export_writes_one_file_per_measurement(aiida_profile, tmp_path):
    """Items 3/5: three raw/{25,40,60}C/PEIS_C01 files (and names differing in punctuation/case) were exported
    to one file, index.csv pointing several spectra at it."""
    p = unique()
    names = [
        'raw/25C/PEIS_C01.csv',
        'raw/40C/PEIS_C01.csv',
        'raw/60C/PEIS_C01.csv',
        'raw/PEIS-C01.csv',
        'raw/peis_c01.csv',
    ]
    for index, name in enumerate(names):
        spectrum(tmp_path / name, r=1000.0 * (index + 1))
    import_manifest(write(tmp_path, pellet_manifest(p, names)))
    out = tmp_path / 'export'
    result = invoke('export', f'{p}-PEL', '-o', out)
    assert result.exit_code == 0, result.output
    index = (out / 'index.csv').read_text().splitlines()[1:]
    files = [line.split(',')[0] for line in index if line.startswith('measurements/')]
    assert len(files) == len(set(files)) == len(names)
    assert len({name.casefold() for name in files}) == len(names)  # also on case-insensitive file systems
    first_z = sorted(float((out / f).read_text().splitlines()[1].split(',')[1]) for f in files)
    assert len(set(np.round(first_z, 3))) == len(names)  # five different spectra, none overwritten
    again = invoke('export', f'{p}-PEL', '-o', out)
    assert again.exit_code == 1 and 'not empty' in again.output and '--force' in again.output
    assert invoke('export', f'{p}-PEL', '-o', out, '--force').exit_code == 0


# ------------------------------------------------------------------------------------------------ campaigns (6)
def test_campaign_named_like_a_sample_id_leaves_the_registry_alone(aiida_profile, tmp_path):
    """Item 6: a campaign label equal to a sample id put every node into that sample's registry group; later
    imports failed with MultipleObjectsError. A campaign also merged into a user's group of the same name."""
    p = unique()
    import_manifest(write(tmp_path / 'a', pellet_manifest(p)))
    user_group = orm.Group(label=f'{p}-mine').store()
    user_group.add_nodes(orm.Int(1).store())
    q = unique()
    import_manifest(write(tmp_path / 'b', pellet_manifest(q, campaign=f'{p}-SE')))
    import_manifest(write(tmp_path / 'c', pellet_manifest(unique(), campaign=f'{p}-mine')))
    registry = orm.QueryBuilder().append(SampleGroup, filters={'label': f'{p}-SE'}, project='*').one()[0]
    assert [node.sample_id for node in registry.nodes] == [f'{p}-SE']
    assert len(user_group.nodes) == 1
    assert find_campaign_group(f'{p}-SE').label == campaign_label(f'{p}-SE')
    assert {node.sample_id for node in find_campaign_group(f'{p}-SE').nodes if hasattr(node, 'sample_id')} >= {
        f'{q}-PEL'
    }
    import_manifest(write(tmp_path / 'd', pellet_manifest(unique(), campaign=f'{p}-SE')))  # no MultipleObjectsError
    result = invoke('cells', '--campaign', f'{p}-SE', '--format', 'csv', '--columns', 'sample_id')
    assert result.exit_code == 0 and f'{q}-PEL' in result.output


# ------------------------------------------------------------------------------------------------ raw files (7, 2, 15)
def test_a_raw_file_listed_twice_is_refused(aiida_profile, tmp_path):
    """Item 7: one raw file listed twice in one manifest was stored twice."""
    p = unique()
    spectrum(tmp_path / 'a.csv')
    (tmp_path / 'copy.csv').write_bytes((tmp_path / 'a.csv').read_bytes())
    count = node_count()
    for files in (['a.csv', 'a.csv'], ['a.csv', 'copy.csv']):
        message = problems_of(write(tmp_path, pellet_manifest(p, files)))
        assert 'list it once' in message and 'measurements[1].file' in message
    assert node_count() == count


def test_a_stale_plan_meets_the_registry_and_is_replanned(aiida_profile, tmp_path):
    """Items 2/15: the duplicate check ran before the transaction, and no database constraint backed it, so two
    concurrent imports stored the same spectrum twice. A plan made before another writer stored the same samples
    or file now fails at the registry constraint inside its transaction, and import_manifest plans again."""
    from aiida_ssb.data.rawfile import DuplicateRawFileError
    from aiida_ssb.data.sample import DuplicateSampleError

    p = unique()
    spectrum(tmp_path / 'a.csv')
    path = write(tmp_path, pellet_manifest(p, ['a.csv']))
    stale = plan_import(path)
    import_manifest(path)  # the other writer, first
    count = node_count()
    with pytest.raises(DuplicateSampleError):
        run_import(stale)
    assert node_count() == count
    # the same file, planned while only the cell existed
    more = write(tmp_path, pellet_manifest(p, ['a.csv', 'b.csv']), 'more.yaml')
    spectrum(tmp_path / 'b.csv')
    stale = plan_import(more)
    from aiida_ssb.importer.measurements import import_file

    assert import_file(tmp_path / 'b.csv', f'{p}-PEL', technique='impedance', temperature='30 degC')[0] == 'new'
    count = node_count()
    with pytest.raises(DuplicateRawFileError):
        run_import(stale)
    assert node_count() == count
    report = import_manifest(more)
    assert report.plan.n_new == 0 and node_count() == count
    raws = orm.QueryBuilder().append(orm.SinglefileData, filters={'attributes.sha256': stale.measurements[1].sha256})
    assert raws.count() == 1


def test_import_file_racing_another_writer_stores_once(aiida_profile, tmp_path, monkeypatch):
    """Items 2/15: two concurrent import-file of one file stored it twice."""
    from aiida_ssb.importer import measurements

    p = unique()
    import_manifest(write(tmp_path, pellet_manifest(p)))
    path = spectrum(tmp_path / 'race.csv')
    assert measurements.import_file(path, f'{p}-PEL', technique='impedance')[0] == 'new'
    count = node_count()
    real = measurements.check_measurement
    calls = []

    def stale_check(entry, file):  # what the second writer saw before the first committed
        calls.append(file)
        return 'new' if len(calls) == 1 else real(entry, file)

    monkeypatch.setattr(measurements, 'check_measurement', stale_check)
    status, nodes = measurements.import_file(path, f'{p}-PEL', technique='impedance')
    assert (status, nodes, node_count()) == ('unchanged', [], count) and len(calls) == 2


def test_long_imports_store_in_batches_and_complete_after_an_interruption(aiida_profile, tmp_path, monkeypatch):
    """Item 15: the import held SQLite's write lock for its whole duration (40-170 s). Entries are stored in short
    transactions; an interrupted import leaves complete entries, and importing again stores the rest."""
    from aiida_ssb.importer import measurements, store

    p = unique()
    files = [f'r{i}.csv' for i in range(5)]
    for i, name in enumerate(files):
        spectrum(tmp_path / name)
    path = write(tmp_path, pellet_manifest(p, files))
    monkeypatch.setattr(store, 'BATCH_SECONDS', 0.0)
    real = measurements.store_measurement
    stored = []

    def fail_on_the_fourth(entry, file, sample=None):
        if len(stored) == 3:
            raise RuntimeError('power cut')
        stored.append(file)
        return real(entry, file, sample)

    monkeypatch.setattr(measurements, 'store_measurement', fail_on_the_fourth)
    with pytest.raises(RuntimeError, match='power cut'):
        run_import(plan_import(path), batch_seconds=0.0)
    partial = plan_import(path)
    assert [m.status for m in partial.measurements] == ['unchanged'] * 3 + ['new'] * 2
    assert all(c['new'] == 0 for name, c in partial.counts().items() if name != 'measurements')
    monkeypatch.setattr(measurements, 'store_measurement', real)
    report = run_import(partial, batch_seconds=0.0)
    assert report.transactions == 2 and plan_import(path).n_new == 0
    q = unique()
    report = run_import(plan_import(write(tmp_path / 'one', pellet_manifest(q))), single_transaction=True)
    assert report.transactions == 1


# ------------------------------------------------------------------------------------------------ archives (8)
def test_archive_of_records_that_exist_under_other_uuids_is_refused(aiida_profile_clean, tmp_path):
    """Item 8: an archive import duplicated 15 sample ids and 10 raw files; `reindex` did not warn."""
    from aiida.tools.archive import create_archive
    from aiida.tools.archive import import_archive as plain_import

    from aiida_ssb.importer.archive import consistency_report, import_archive_checked

    p = unique()
    spectrum(tmp_path / 'a.csv')
    path = write(tmp_path, pellet_manifest(p, ['a.csv']))
    import_manifest(path)
    archive = tmp_path / 'campaign.aiida'
    create_archive([find_campaign_group(f'{p}-campaign')], filename=archive)
    assert import_archive_checked(archive).check.conflicts == []  # the same nodes merge
    aiida_profile_clean.reset_storage()
    import_manifest(path)  # the same records, other UUIDs (another machine)
    count = node_count()
    result = invoke('import-archive', archive)
    assert result.exit_code == 1 and f"sample id '{p}-PEL'" in result.output and 'nothing was imported' in result.output
    assert 'raw file' in result.output and node_count() == count
    plain_import(archive)  # what `verdi archive import` does
    duplicates = consistency_report()
    assert set(duplicates['sample_ids']) == {f'{p}-SE', f'{p}-IN', f'{p}-PEL'} and len(duplicates['raw_files']) == 1
    reindex = CliRunner().invoke(cmd_ssb, ['reindex'], catch_exceptions=False)
    assert reindex.exit_code == 0 and f"sample id '{p}-PEL' is held by 2 nodes" in reindex.stderr
    aiida_profile_clean.reset_storage()
    report = import_archive_checked(archive)  # into a profile without those records
    assert report.nodes_after > report.nodes_before and find_sample(f'{p}-PEL') is not None
    assert find_campaign_group(f'{p}-campaign') is not None and consistency_report()['sample_ids'] == {}


# ------------------------------------------------------------------------------------------------ paths (10, 19)
def test_measurement_files_must_lie_in_the_manifest_folder(aiida_profile, tmp_path):
    """Item 10: absolute paths, .. and symlinks pointing outside the manifest's folder were read and stored."""
    p = unique()
    outside = spectrum(tmp_path / 'elsewhere' / 'x.csv')
    folder = tmp_path / 'campaign'
    folder.mkdir()
    (folder / 'link.csv').symlink_to(outside)
    (folder / 'inside').mkdir()
    (folder / 'inside' / 'up.csv').symlink_to(folder / 'ok.csv')
    spectrum(folder / 'ok.csv')
    count = node_count()
    for name in (str(outside), '../elsewhere/x.csv', 'link.csv', 'inside/../../elsewhere/x.csv'):
        message = problems_of(write(folder, pellet_manifest(p, [name])))
        assert 'outside the manifest folder' in message and '--allow-outside' in message, message
    assert node_count() == count
    assert plan_import(write(folder, pellet_manifest(p, ['inside/up.csv']))).measurements[0].file.endswith('ok.csv')
    plan = plan_import(write(folder, pellet_manifest(p, [str(outside)])), allow_outside=True)
    assert plan.measurements[0].file == str(outside.resolve())
    result = invoke('import', '--dry-run', '--allow-outside', write(folder, pellet_manifest(p, ['link.csv'])))
    assert result.exit_code == 0, result.output


def test_folders_and_fifos_are_named_as_such(aiida_profile, tmp_path):
    """Item 19: "file not found" for a directory or a FIFO (and a FIFO could block the reader)."""
    p = unique()
    (tmp_path / 'folder.csv').mkdir()
    os.mkfifo(tmp_path / 'pipe.csv')
    assert 'is a folder' in problems_of(write(tmp_path, pellet_manifest(p, ['folder.csv'])))
    assert 'not a regular file' in problems_of(write(tmp_path, pellet_manifest(p, ['pipe.csv'])))
    assert 'file not found' in problems_of(write(tmp_path, pellet_manifest(p, ['missing.csv'])))


# ------------------------------------------------------------------------------------------------ bounds (11, 12, 14)
def test_alias_bomb_manifest_is_refused_quickly(aiida_profile, tmp_path):
    """Item 11: 284 bytes took 112 s and 1.7 GB."""
    lines = ['campaign: bomb', 'a0: &a0 [x, x, x, x, x, x, x, x, x]']
    lines += [f'a{i}: &a{i} [{", ".join([f"*a{i - 1}"] * 9)}]' for i in range(1, 9)]
    start = time.perf_counter()
    assert 'alias' in problems_of(write(tmp_path, '\n'.join(lines) + '\n'))
    assert time.perf_counter() - start < 5


def test_unbounded_unit_in_a_manifest_is_refused_at_its_place(aiida_profile, tmp_path):
    """Item 12: mass: "1 mg*10**10**10" never returned."""
    p = unique()
    text = pellet_manifest(p).replace(
        f'{{id: {p}-SE, role: electrolyte}}', f'{{id: {p}-SE, role: electrolyte, mass: "1 mg*10**10**10"}}'
    )
    start = time.perf_counter()
    message = problems_of(write(tmp_path, text))
    assert 'materials[0].mass' in message and 'powers of powers' in message
    assert time.perf_counter() - start < 5
    result = invoke('cells', '--where', 'stack_pressure_mpa < 1 MPa*10**10**10')
    assert result.exit_code == 1 and 'powers of powers' in result.output


@pytest.mark.parametrize(
    ('old', 'new', 'place'),
    [
        ('diameter: 10 mm', 'diameter_mm: .nan', 'cells[0].diameter_mm'),
        ('diameter: 10 mm', 'diameter: .inf mm', 'cells[0].diameter'),
        ('role: electrolyte}', 'role: electrolyte, mass_mg: 1.0e+400}', 'materials[0].mass_mg'),
        (
            'format: blocking_pellet',
            'format: blocking_pellet\n    analysis: {eis: {circuit: R0-p(R1,C1), fixed: {R0: .nan}}}',
            'cells[0].analysis',
        ),
        ('temperature: 25 degC', 'temperature: .inf', 'measurements[0].temperature'),
    ],
)
def test_non_finite_numbers_in_a_manifest_are_refused_at_their_place(aiida_profile, tmp_path, old, new, place):
    """Item 14: NaN and +-inf passed validation and crashed at store time (one left an unreferenced file)."""
    p = unique()
    spectrum(tmp_path / 'a.csv')
    text = pellet_manifest(p, ['a.csv'])
    assert old in text
    count = node_count()
    message = problems_of(write(tmp_path, text.replace(old, new, 1)))
    assert place in message and 'finite' in message, message
    assert node_count() == count


def test_non_finite_literature_values_are_refused(aiida_profile, tmp_path):
    p = unique()
    extra = f'literature_values:\n  - {{id: L1, material: {p}-SE, conductivity: .inf S/cm, temperature: 25 degC}}\n'
    message = problems_of(write(tmp_path, pellet_manifest(p, extra=extra)))
    assert 'literature_values[0].conductivity' in message and 'finite' in message


# ------------------------------------------------------------------------------------------------ tracebacks (17, 19)
def test_malformed_sections_are_problems_not_tracebacks(aiida_profile, tmp_path):
    """Items 17/19: `parameters: 5` raised a TypeError; a malformed campaign analysis: section was ignored."""
    p = unique()
    steps = f'processes:\n  - {{type: drying, inputs: [{p}-SE], output: {{id: {p}-DRY}}, parameters: 5}}\n'
    assert 'processes[0].parameters: parameters must be a mapping' in problems_of(
        write(tmp_path, pellet_manifest(p, extra=steps))
    )
    for analysis, fragment in (
        ('analysis: {eis: 5}\n', 'analysis.eis: analysis.eis must be a mapping'),
        ('analysis: {nonsense: {a: 1}}\n', "unknown analysis 'nonsense'"),
        (
            'analysis: {cycling: {reference: cycle:x}}\n',
            "analysis.cycling: invalid CyclingSettings: reference: 'cycle:x'",
        ),
        ('analysis: [1, 2]\n', 'analysis: must be a mapping'),
    ):
        assert fragment in problems_of(write(tmp_path, pellet_manifest(p, extra=analysis))), analysis
    for campaign in ('"two\\nlines"', '"red\\e[31m"'):
        message = problems_of(write(tmp_path, pellet_manifest(p, campaign=campaign)))
        assert 'campaign' in message and 'control character' in message


def test_table_options_that_used_to_mislead(aiida_profile, tmp_path):
    """Item 19: --limit -1 dropped the last row; --columns sample_id,sample_id showed a QueryBuilder message."""
    p = unique()
    import_manifest(write(tmp_path, pellet_manifest(p)))
    assert invoke('samples', '--limit', '-1').exit_code == 2
    result = invoke('samples', '--where', f'sample_id == {p}-SE', '--columns', 'sample_id,sample_id', '--format', 'csv')
    assert result.exit_code == 0 and result.output.splitlines() == ['sample_id', f'{p}-SE']
    result = invoke('cells', '--where', 'stack_pressure_mpa < abc')
    assert result.exit_code == 1 and 'is a number' in result.output


def test_long_file_names_keep_labels_within_255_characters(aiida_profile, tmp_path):
    """Item 17: labels over 255 characters failed on PostgreSQL."""
    from aiida_ssb.importer.measurements import import_file

    p = unique()
    import_manifest(write(tmp_path, pellet_manifest(p)))
    path = spectrum(tmp_path / ('x' * 240 + '.csv'))
    _, nodes = import_file(path, f'{p}-PEL', technique='impedance')
    assert nodes and all(len(node.label) <= 255 for node in nodes)


# ------------------------------------------------------------------------------------------------ outputs (1)
def test_graph_and_plot_never_touch_other_files(aiida_profile, tmp_path):
    """Item 1: `graph X -o NAME.svg` overwrote and then deleted a file NAME beside the output."""
    p = unique()
    import_manifest(write(tmp_path, pellet_manifest(p)))
    (tmp_path / 'NAME').write_text('precious')
    (tmp_path / 'DIR').mkdir()
    out = tmp_path / 'NAME.dot'
    assert invoke('graph', f'{p}-PEL', '-o', out).exit_code == 0
    assert (tmp_path / 'NAME').read_text() == 'precious'
    again = invoke('graph', f'{p}-PEL', '-o', out)
    assert again.exit_code == 1 and 'use --force' in again.output
    assert invoke('graph', f'{p}-PEL', '-o', out, '--force').exit_code == 0
    assert invoke('graph', f'{p}-PEL', '-o', tmp_path / 'DIR.dot').exit_code == 0 and (tmp_path / 'DIR').is_dir()
    (tmp_path / 'figure.png').write_text('mine')
    plot = invoke('plot', f'{p}-PEL', '--kind', 'nyquist', '-o', tmp_path / 'figure.png')
    assert plot.exit_code == 1 and 'use --force' in plot.output and (tmp_path / 'figure.png').read_text() == 'mine'
    assert sorted(x.name for x in tmp_path.iterdir() if x.name.startswith('.')) == []


# ------------------------------------------------------------------------------------------------ planning (20)
def test_planning_queries_do_not_grow_with_the_manifest(aiida_profile, tmp_path):
    """Item 20: each new id cost two queries (2,000 materials took 290 s to plan). Planning now looks every id up
    at once: the number of SQL statements does not grow with the number of materials."""
    from aiida.manage import get_manager
    from sqlalchemy import event

    engine = get_manager().get_profile_storage().get_session().get_bind()
    statements = []

    def count(*args, **kwargs):
        statements.append(1)

    def manifest(n: int) -> pathlib.Path:
        p = unique()
        lines = [f'campaign: {p}', 'materials:'] + [f'  - {{id: {p}-M{i}, role: precursor}}' for i in range(n)]
        lines += ['processes:'] + [
            f'  - {{type: mixing, inputs: [{p}-M{i}, {p}-M{i + 1}], output: {{id: {p}-X{i}, role: composite}}}}'
            for i in range(0, n - 1, 2)
        ]
        return write(tmp_path / p, '\n'.join(lines) + '\n')

    small, large = manifest(10), manifest(1000)
    used = []
    for path in (small, large):
        statements.clear()
        event.listen(engine, 'before_cursor_execute', count)
        try:
            plan_import(path)
        finally:
            event.remove(engine, 'before_cursor_execute', count)
        used.append(len(statements))
    # a few batched queries per 500 ids (the old planner made about 2 per id: some 3,000 here)
    assert used[1] <= used[0] + 4 * (1500 // 500), used


# ------------------------------------------------------------------------------------------------ SQLite concurrency (15)
@pytest.fixture(scope='module')
def sqlite_profile(tmp_path_factory):
    """A presto (SQLite) profile in its own AIIDA_PATH, for commands run as separate processes."""
    root = tmp_path_factory.mktemp('sqlite-profile')
    env = dict(os.environ, AIIDA_PATH=str(root), PATH=f'{BIN}{os.pathsep}{os.environ.get("PATH", "")}')
    env.pop('AIIDA_PROFILE', None)
    env['PYTHONWARNINGS'] = 'ignore'
    subprocess.run(
        [str(BIN / 'verdi'), 'presto', '--profile-name', 'rel', '--no-broker'],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    return env


def _ssb_async(env, *args, extra_env=None):
    return subprocess.Popen(
        [str(BIN / 'aiida-ssb'), '-p', 'rel', *map(str, args)],
        env=dict(env, **(extra_env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_HOLD_LOCK = """
import sys
from aiida import load_profile
load_profile('rel')
from aiida_ssb.data.storage import write_transaction
from aiida import orm
with write_transaction('test'):
    orm.Int(1).store()
    print('locked', flush=True)
    sys.stdin.readline()  # hold the write lock until told to let go
"""


def _hold_lock(env):
    holder = subprocess.Popen(
        [sys.executable, '-c', _HOLD_LOCK], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == 'locked'
    return holder


def _release(holder):
    holder.stdin.write('\n')
    holder.stdin.flush()
    assert holder.wait(timeout=60) == 0


@pytest.mark.slow
def test_sqlite_writers_wait_for_each_other(sqlite_profile, tmp_path):
    """Item 15: an import during another write failed with a `database is locked` traceback. It now waits (up to
    the busy timeout), and a lock held longer than the timeout is one clear message, exit 1, nothing stored."""
    manifests = []
    for name in ('waits', 'gives-up'):
        spectrum(tmp_path / name / 'a.csv')
        manifests.append(write(tmp_path / name, pellet_manifest(unique(), ['a.csv'])))

    # a writer holds the lock for longer than the importer's 1 s busy timeout: one clear message, exit 1
    holder = _hold_lock(sqlite_profile)
    importer = _ssb_async(sqlite_profile, 'import', manifests[1], extra_env={'AIIDA_SSB_SQLITE_BUSY_TIMEOUT_S': '1'})
    _stdout, stderr = importer.communicate(timeout=240)
    _release(holder)
    assert importer.returncode == 1 and 'Traceback' not in stderr, stderr
    assert 'stayed locked' in stderr and 'AIIDA_SSB_SQLITE_BUSY_TIMEOUT_S' in stderr, stderr

    # the importer reaches its write while the lock is held, waits, and stores once the other writer is done
    holder = _hold_lock(sqlite_profile)
    importer = subprocess.Popen(
        [str(BIN / 'aiida-ssb'), '-p', 'rel', 'import', str(manifests[0])],
        env=sqlite_profile,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ''
    while 'Importing' not in seen:  # the progress bar starts when the storing starts
        char = importer.stderr.read(1)
        assert char, f'the importer stopped before storing: {seen}'
        seen += char
    time.sleep(3)
    assert importer.poll() is None, 'the importer should be waiting for the lock'
    _release(holder)
    _stdout, stderr = importer.communicate(timeout=240)
    assert importer.returncode == 0 and 'Traceback' not in seen + stderr, seen + stderr

    retry = _ssb_async(sqlite_profile, 'import', manifests[1])  # nothing of it was stored: it imports now
    assert retry.wait(timeout=240) == 0 and 'Imported' in retry.communicate()[0]


_COUNT = """
import json, sys
from aiida import load_profile, orm
load_profile('rel')
checksums, sample_id = json.loads(sys.argv[1]), sys.argv[2]
raw = orm.QueryBuilder().append(orm.SinglefileData, filters={'attributes.sha256': {'in': checksums}}).count()
query = orm.QueryBuilder().append(orm.Data, filters={'attributes.sample_id': sample_id}, project='*')
data = [node for node in query.all(flat=True) if not isinstance(node, orm.Dict)]
print(json.dumps([raw, len(data), [(n.pk, n.__class__.__name__, n.base.attributes.get('source_filename', None)) for n in data]]))
"""


@pytest.mark.slow
def test_concurrent_imports_on_sqlite_store_one_copy(sqlite_profile, tmp_path):
    """Items 2/15 on SQLite: two imports of one manifest at once, and two import-file of one file at once, each
    succeed; every sample and raw file is stored once."""
    import hashlib
    import json

    p = unique()
    files = [f'c{i}.csv' for i in range(4)]
    for i, name in enumerate(files):
        spectrum(tmp_path / name)
    manifest = write(tmp_path, pellet_manifest(p, files))
    processes = [_ssb_async(sqlite_profile, 'import', manifest) for _ in range(2)]
    for process in processes:
        code = process.wait(timeout=300)
        _stdout, stderr = process.communicate()
        assert code == 0 and 'Traceback' not in stderr, stderr
    extra = spectrum(tmp_path / 'extra.csv')
    processes = [
        _ssb_async(sqlite_profile, 'import-file', extra, '--cell', f'{p}-PEL', '--technique', 'impedance')
        for _ in range(2)
    ]
    for process in processes:
        code = process.wait(timeout=300)
        _stdout, stderr = process.communicate()
        assert code == 0 and 'Traceback' not in stderr, stderr
    checksums = [hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in [*files, 'extra.csv']]
    result = subprocess.run(
        [sys.executable, '-c', _COUNT, json.dumps(checksums), f'{p}-PEL'],
        env=sqlite_profile,
        capture_output=True,
        text=True,
        check=True,
    )
    raw, data, nodes = json.loads(result.stdout.strip().splitlines()[-1])
    assert raw == 5 and data == 1 + 5, nodes  # five raw files once each; the cell and its five spectra
