"""Scale benchmark: import, analysis and the filtered cells table on the embedded default (SQLite) and on the lab
server (PostgreSQL + RabbitMQ), in process and with 1 or 2 daemon workers.

What is measured, for each number of cells N (``--n``, default 100):

* **full pipeline** (N <= ``--full-limit``, default 1000): a synthetic campaign of N half cells is written as a lab
  manifest with one small galvanostatic record (EC-Lab ``.mpt``, 8 cycles, ~340 rows, written with the demo's
  EC-Lab writer) per cell. For each backend (``--backends``), a fresh profile is created, the manifest is imported
  with ``aiida-ssb import`` (parse + store, one transaction), every cell is analysed in process
  (``run_cell_analyses``, no cache), then submitted to the daemon with each number of workers (``--workers``),
  caching off so every pass computes everything. Nodes per second = nodes created in the phase / its time.
  SQLite profiles use the ZeroMQ broker (no services); PostgreSQL profiles are made by ``aiida-ssb server setup``
  (RabbitMQ).
* **cells table** on the same data: ``aiida_ssb.query.tables.cells`` with a record filter and an analysis filter
  (``stack_pressure_mpa < 1`` and ``capacity_retention_percent_at_end >= 80``; it reads the query index extras),
  beside the naive alternative without the index: a QueryBuilder join from each cell through its
  ``summarise_cell`` process to the summary Dict, filtered on the Dict's attributes. Median of 7 after a
  warm-up; the two must return the same cells (the gate).
* **index only** (N > ``--full-limit``, e.g. 10,000): cells are stored directly through the Python API and their
  index extras set directly, **bypassing import and analysis** (the output says so); each cell also gets the
  provenance a real analysis leaves (cell -> ``summarise_cell`` process node -> summary Dict, built with links,
  not by running the process), so that the naive join has the same graph to walk. Only the query is timed.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--n 100 1000 10000] [--backends sqlite postgres]
[--workers 1 2]``. PostgreSQL and RabbitMQ are taken on 127.0.0.1 (``--postgres-host``, ``--broker-host``); when
they are not reachable the postgres backend is skipped with the reason. Everything runs in subprocesses with a
temporary ``AIIDA_PATH``; databases are dropped at the end (``--keep`` keeps everything).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

REPO = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
FILTERS = ['stack_pressure_mpa < 1', 'capacity_retention_percent_at_end >= 80']
STACK_PRESSURES_MPA = (0.2, 0.5, 2.0, 5.0, 70.0)
N_CYCLES = 8
POINTS_PER_HALF = 20
QUERY_REPEATS = 7


# ------------------------------------------------------------------------------------------------ synthetic data
def _cell_parameters(index: int) -> dict[str, float]:
    import numpy as np

    rng = np.random.default_rng(1000 + index)
    return {
        'stack_pressure_mpa': STACK_PRESSURES_MPA[index % len(STACK_PRESSURES_MPA)],
        'fade_per_cycle': float(rng.uniform(0.002, 0.05)),  # retention after 8 cycles from ~98 % to ~70 %
        'capacity_mah_g': float(rng.uniform(100.0, 115.0)),
    }


def cell_record(index: int, parameters: dict) -> dict:
    """The record of benchmark cell ``index`` (a half cell of the three BENCH materials) with its parameters."""
    return {
        'sample_id': f'BENCH-{index:05d}',
        'format': 'half',
        'diameter': '10 mm',
        'layers': [
            {'role': 'positive', 'material': 'BENCH-CAM', 'mass': '10 mg', 'active_fraction': 0.7},
            {'role': 'separator', 'material': 'BENCH-SE', 'mass': '50 mg'},
            {'role': 'negative', 'material': 'BENCH-NA'},
        ],
        'stack_pressure': f'{parameters["stack_pressure_mpa"]} MPa',
        'one_c': '120 mA/g',
    }


def write_campaign(folder: pathlib.Path, n_cells: int) -> pathlib.Path:
    """N half cells (NaCrO2 | Na4(B12H12)(B10H10) | Na), each with one 8-cycle GCPL record; returns the manifest."""
    import datetime as dt

    import numpy as np
    import yaml

    from aiida_ssb.demo_data.eclab import Instrument
    from aiida_ssb.demo_data.electrode import GcplRecorder, GcplSequence, gcpl_file

    active_mg, one_c_ma_g, area_cm2 = 7.0, 120.0, 0.785
    raw = folder / 'raw'
    raw.mkdir(parents=True, exist_ok=True)
    s = np.linspace(0.0, 1.0, POINTS_PER_HALF)
    cells, measurements = [], []
    for index in range(n_cells):
        cell_id = f'BENCH-{index:05d}'
        parameters = _cell_parameters(index)
        recorder = GcplRecorder(np.random.default_rng(index))
        current_ma = 0.5 * one_c_ma_g * active_mg / 1000.0
        recorder.rest(600.0, 2.9, 5, ns=0)
        for cycle in range(N_CYCLES):
            q_dis = parameters['capacity_mah_g'] * (1.0 - parameters['fade_per_cycle']) ** cycle * active_mg / 1000.0
            q_ch = q_dis / 0.995
            recorder.constant_current(s * q_ch, 2.95 + 0.35 * s + 0.08 * s**6, current_ma, ns=1)
            recorder.constant_current(s * q_dis, 3.30 - 0.35 * s - 0.12 * s**6, -current_ma, ns=2)
        path = raw / f'{cell_id}_GCPL.mpt'
        gcpl_file(
            path,
            recorder=recorder,
            started=dt.datetime(2024, 1, 1) + dt.timedelta(hours=index),
            sequences=[
                GcplSequence('rest', duration_h=600 / 3600),
                GcplSequence('cc', current_ma=current_ma, limit_v=3.4),
                GcplSequence('cc', current_ma=-current_ma, limit_v=2.9, goto=1, cycles=N_CYCLES - 1),
            ],
            instrument=Instrument(),
            directory='C:\\bench\\',
            area_cm2=area_cm2,
            active_mass_mg=active_mg,
            molar_mass_g_mol=106.98,
            ion_mass_g_mol=22.99,
            battery_capacity_mah=one_c_ma_g * active_mg / 1000.0,
            electrode_material='NaCrO2',
            electrolyte='Na4(B12H12)(B10H10)',
            comment=f'SYNTHETIC benchmark data (aiida-ssb benchmarks/bench_scale.py), cell {index}',
        )
        cells.append(
            {
                'id': cell_id,
                'format': 'half',
                'diameter': '10 mm',
                'layers': [
                    {
                        'role': 'positive',
                        'material': 'BENCH-CAM',
                        'mass': f'{active_mg / 0.7:.3f} mg',
                        'active_fraction': 0.7,
                    },
                    {'role': 'separator', 'material': 'BENCH-SE', 'mass': '50 mg'},
                    {'role': 'negative', 'material': 'BENCH-NA'},
                ],
                'stack_pressure': f'{parameters["stack_pressure_mpa"]} MPa',
                'one_c': f'{one_c_ma_g} mA/g',
            }
        )
        measurements.append(
            {'cell': cell_id, 'technique': 'gcpl', 'file': f'raw/{path.name}', 'temperature': '25 degC'}
        )
    manifest = {
        'campaign': f'bench-{n_cells}',
        'description': f'{n_cells} synthetic half cells for the scale benchmark',
        'materials': [
            {
                'id': 'BENCH-CAM',
                'name': 'NaCrO2',
                'formula': 'NaCrO2',
                'role': 'active_material',
                'theoretical_capacity': '120 mAh/g',
            },
            {'id': 'BENCH-SE', 'name': 'Na4(B12H12)(B10H10)', 'role': 'electrolyte'},
            {'id': 'BENCH-NA', 'name': 'sodium metal', 'formula': 'Na', 'role': 'metal_foil'},
        ],
        'cells': cells,
        'measurements': measurements,
    }
    path = folder / 'manifest.yaml'
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding='utf-8')
    return path


# ------------------------------------------------------------------------------------------------ tasks (subprocess)
def _load(profile: str) -> None:
    import warnings

    warnings.filterwarnings('ignore')
    from aiida import load_profile

    load_profile(profile, allow_switch=True)


def _count_nodes() -> int:
    from aiida import orm

    return orm.QueryBuilder().append(orm.Node).count()


def task_count(_: dict) -> dict:
    return {'nodes': _count_nodes()}


def task_analyse(_: dict) -> dict:
    """Every cell analysed in this process, without the cache."""
    from aiida import orm

    from aiida_ssb.cli.analysis import run_cell_analyses
    from aiida_ssb.cli.demo import quiet_console
    from aiida_ssb.data.cell import CellData

    quiet_console()
    cells = orm.QueryBuilder().append(CellData).order_by({CellData: {'id': 'asc'}}).all(flat=True)
    before = _count_nodes()
    start = time.perf_counter()
    nodes = run_cell_analyses(cells, {}, submit=False, use_cache=False)
    seconds = time.perf_counter() - start
    return {'seconds': seconds, 'nodes': _count_nodes() - before, 'failed': sum(not n.is_finished_ok for n in nodes)}


def task_progress(arguments: dict) -> dict:
    """State of the CellAnalysisWorkChains created after ``after``: how many, how many terminated / failed, the
    last modification time of the terminated ones (Unix s)."""
    from aiida import orm

    query = orm.QueryBuilder().append(
        orm.WorkChainNode,
        filters={'id': {'>': arguments['after']}, 'process_type': {'like': '%ssb.cell_analysis'}},
        project=['attributes.process_state', 'attributes.exit_status', 'mtime'],
    )
    rows = query.all()
    done = [row for row in rows if row[0] in ('finished', 'excepted', 'killed')]
    return {
        'total': len(rows),
        'done': len(done),
        'failed': sum(row[0] != 'finished' or row[1] != 0 for row in done),
        'last_mtime': max((row[2].timestamp() for row in done), default=None),
        'nodes': _count_nodes(),
    }


def _naive_cells(filters: list[str]):
    """The same filtered table without the query index: join each cell through its ``summarise_cell`` process to
    the summary Dict and filter on the Dict's attributes."""
    import pandas as pd
    from aiida import orm

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.query.tables import _qb_condition, parse_filter

    parsed = [parse_filter(text) for text in filters]
    cell_filters = {f'attributes.{f.field}': _qb_condition(f) for f in parsed if f.field == 'stack_pressure_mpa'}
    summary_filters = {f'attributes.{f.field}': _qb_condition(f) for f in parsed if f.field != 'stack_pressure_mpa'}
    query = orm.QueryBuilder()
    query.append(
        CellData,
        filters=cell_filters,
        tag='cell',
        project=['id', 'attributes.sample_id', 'attributes.stack_pressure_mpa'],
    )
    query.append(
        orm.CalcFunctionNode,
        with_incoming='cell',
        edge_filters={'label': 'cell'},
        tag='process',
        filters={'process_type': {'like': '%ssb.summarise_cell'}, 'attributes.exit_status': 0},
    )
    query.append(
        orm.Dict,
        with_incoming='process',
        filters=summary_filters,
        tag='summary',
        project=['attributes.capacity_retention_percent_at_end', 'ctime'],
    )
    rows = {}
    for pk, sample_id, pressure, retention, ctime in query.all():
        if pk not in rows or ctime > rows[pk][-1]:  # the latest summary of each cell
            rows[pk] = (sample_id, pressure, retention, ctime)
    return pd.DataFrame(
        [
            {'sample_id': s, 'stack_pressure_mpa': p, 'capacity_retention_percent_at_end': r}
            for s, p, r, _ in rows.values()
        ]
    )


def _median_time(function, repeats: int) -> tuple[float, Any]:
    result = function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def task_query(arguments: dict) -> dict:
    from aiida_ssb.query.tables import cells

    columns = ['sample_id', 'stack_pressure_mpa', 'capacity_retention_percent_at_end']
    repeats = arguments.get('repeats', QUERY_REPEATS)
    index_s, table = _median_time(lambda: cells(filters=FILTERS, columns=columns), repeats)
    naive_s, naive = _median_time(lambda: _naive_cells(FILTERS), repeats)
    same = sorted(table['sample_id']) == sorted(naive['sample_id']) if len(naive) else table.empty
    from aiida import orm

    from aiida_ssb.data.cell import CellData

    return {
        'index_s': index_s,
        'naive_s': naive_s,
        'rows': len(table),
        'naive_rows': len(naive),
        'same': same,
        'cells': orm.QueryBuilder().append(CellData).count(),
    }


def task_create_indexed(arguments: dict) -> dict:
    """N cells stored directly with their index extras set directly (no import, no analysis), each with the
    provenance of a cell summary built from links: cell -> summarise_cell process node -> summary Dict."""
    from aiida import orm
    from aiida.common.links import LinkType
    from aiida.manage import get_manager

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.sample import find_sample
    from aiida_ssb.query.index import INDEX_EXTRA

    n_cells, batch = arguments['n'], 500
    start = time.perf_counter()
    materials = {}
    for spec in (
        {'sample_id': 'BENCH-CAM', 'name': 'NaCrO2', 'role': 'active_material', 'theoretical_capacity_mah_g': 120.0},
        {'sample_id': 'BENCH-SE', 'name': 'Na4(B12H12)(B10H10)', 'role': 'electrolyte'},
        {'sample_id': 'BENCH-NA', 'name': 'sodium metal', 'role': 'metal_foil'},
    ):
        material = find_sample(spec['sample_id']) or MaterialData(spec).store()
        materials[material.sample_id] = material.facts()
    storage = get_manager().get_profile_storage()
    for first in range(0, n_cells, batch):
        with storage.transaction():
            for index in range(first, min(first + batch, n_cells)):
                parameters = _cell_parameters(index)
                cell = CellData(
                    cell_record(index, parameters),
                    materials=materials,
                ).store()
                retention = 100.0 * (1.0 - parameters['fade_per_cycle']) ** (N_CYCLES - 1)
                values = {
                    'sample_id': cell.sample_id,
                    'capacity_retention_percent_at_end': retention,
                    'initial_discharge_capacity_mah_g': parameters['capacity_mah_g'],
                    'n_summaries': 1,
                }
                process = orm.CalcFunctionNode()
                process.process_type = 'aiida.calculations:ssb.summarise_cell'
                process.base.links.add_incoming(cell, link_type=LinkType.INPUT_CALC, link_label='cell')
                process.set_process_state('finished')
                process.set_exit_status(0)
                process.store()
                summary = orm.Dict(values)
                summary.base.links.add_incoming(process, link_type=LinkType.CREATE, link_label='summary')
                summary.store()
                process.seal()
                entry = {key: value for key, value in values.items() if key not in ('sample_id', 'n_summaries')}
                entry['summary_uuid'] = summary.uuid
                cell.base.extras.set(INDEX_EXTRA, entry)
    return {'seconds': time.perf_counter() - start, 'cells': n_cells}


TASKS = {
    'count': task_count,
    'analyse': task_analyse,
    'progress': task_progress,
    'query': task_query,
    'create-indexed': task_create_indexed,
}


# ------------------------------------------------------------------------------------------------ orchestration
class Bench:
    """Profiles in a temporary AIIDA_PATH, driven through subprocesses."""

    def __init__(self, root: pathlib.Path, postgres: tuple[str, int], broker: tuple[str, int]):
        self.root = root
        self.aiida_path = root / 'aiida'
        self.aiida_path.mkdir(parents=True, exist_ok=True)
        self.postgres = postgres
        self.broker = broker
        self.databases: list[str] = []
        self.profiles: list[str] = []

    def env(self) -> dict[str, str]:
        env = dict(os.environ, AIIDA_PATH=str(self.aiida_path), PYTHONWARNINGS='ignore')
        env.pop('AIIDA_PROFILE', None)
        env['PATH'] = f'{BIN}{os.pathsep}{env.get("PATH", "")}'
        return env

    def run(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        result = subprocess.run(
            list(args), env=self.env(), check=False, capture_output=True, text=True, timeout=timeout, cwd=str(REPO)
        )
        if result.returncode != 0:
            raise RuntimeError(
                f'{" ".join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
            )
        return result

    def task(self, profile: str, name: str, **arguments) -> dict:
        result = self.run(
            sys.executable, __file__, '--task', name, '--profile', profile, '--arguments', json.dumps(arguments)
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def create_profile(self, backend: str, name: str) -> str:
        if backend == 'sqlite':
            self.run(str(BIN / 'verdi'), 'presto', '--profile-name', name, '--use-zeromq', '--non-interactive')
        else:
            database = f'aiida_ssb_bench_{secrets.token_hex(4)}'
            self.databases.append(database)
            self.run(
                str(BIN / 'aiida-ssb'),
                'server',
                'setup',
                '--profile-name',
                name,
                '--no-set-default',
                '--postgres-hostname',
                self.postgres[0],
                '--postgres-port',
                str(self.postgres[1]),
                '--database-name',
                database,
                '--broker-host',
                self.broker[0],
                '--broker-port',
                str(self.broker[1]),
                '--join-file',
                str(self.root / f'{name}.json'),
            )
        # every pass computes everything: no caching (server setup enables it for the lab)
        subprocess.run(
            [str(BIN / 'verdi'), '-p', name, 'config', 'unset', 'caching.enabled_for'],
            env=self.env(),
            check=False,
            capture_output=True,
        )
        self.profiles.append(name)
        return name

    def daemon_pass(self, profile: str, workers: int, timeout: float) -> dict:
        self.run(str(BIN / 'verdi'), '-p', profile, 'daemon', 'start', str(workers))
        try:
            after = self._max_pk(profile)
            nodes_before = self.task(profile, 'count')['nodes']
            start = time.time()
            self.run(str(BIN / 'aiida-ssb'), '-p', profile, 'analyse', '--all', '--submit')
            deadline = time.monotonic() + timeout
            while True:
                progress = self.task(profile, 'progress', after=after)
                if progress['total'] and progress['done'] == progress['total']:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f'{profile}: daemon pass with {workers} worker(s) timed out: {progress}')
                time.sleep(2)
            seconds = progress['last_mtime'] - start
            return {'seconds': seconds, 'nodes': progress['nodes'] - nodes_before, 'failed': progress['failed']}
        finally:
            self.stop_daemon(profile)

    def stop_daemon(self, profile: str, attempts: int = 3) -> None:
        """``verdi daemon stop``, again after a pause when it times out (on a busy machine the daemon can take
        longer than verdi waits to answer); a daemon that will not stop is an error."""
        for attempt in range(attempts):
            try:
                self.run(str(BIN / 'verdi'), '-p', profile, 'daemon', 'stop')
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                time.sleep(10)

    def _max_pk(self, profile: str) -> int:
        result = self.run(
            sys.executable,
            '-c',
            (
                'import warnings; warnings.filterwarnings("ignore"); from aiida import load_profile, orm; '
                f'load_profile("{profile}"); '
                'print(orm.QueryBuilder().append(orm.Node, project="id").order_by({orm.Node: {"id": "desc"}}).first(flat=True) or 0)'
            ),
        )
        return int(result.stdout.strip().splitlines()[-1])

    def cleanup(self) -> None:
        for profile in self.profiles:
            subprocess.run(
                [str(BIN / 'verdi'), '-p', profile, 'daemon', 'stop'], env=self.env(), check=False, capture_output=True
            )
        if self.databases:
            sys.path.insert(0, str(REPO))
            from aiida_ssb.server.services import admin_connection, drop_database, drop_role

            connection = admin_connection(self.postgres[0], self.postgres[1], 'postgres', None)
            for database in self.databases:
                drop_database(connection, database)
                drop_role(connection, database)
            connection.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _reachable(address: tuple[str, int]) -> str | None:
    try:
        with socket.create_connection(address, timeout=2):
            return None
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__


def machine_description(postgres: tuple[str, int] | None, bench: Bench | None, pg_profile: str | None) -> list[str]:
    import sqlite3

    import aiida

    cpu = platform.processor() or ''
    try:
        for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    memory = ''
    try:
        kib = int(pathlib.Path('/proc/meminfo').read_text().split('MemTotal:')[1].split()[0])
        memory = f', {kib / 1024**2:.0f} GiB RAM'
    except (OSError, IndexError, ValueError):
        pass
    lines = [
        f'machine: {os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}',
        f'software: Python {platform.python_version()}, aiida-core {aiida.__version__}, SQLite {sqlite3.sqlite_version}',
    ]
    if postgres is not None:
        try:
            import psycopg

            with psycopg.connect(
                host=postgres[0], port=postgres[1], user='postgres', dbname='postgres', connect_timeout=3
            ) as connection:
                version = connection.execute('SHOW server_version').fetchone()[0]
            lines[-1] += f', PostgreSQL {version}'
        except Exception as exc:  # the version is a nicety; say why it is missing
            lines[-1] += f', PostgreSQL version unknown ({exc.__class__.__name__})'
        if bench is not None and pg_profile is not None:
            status = subprocess.run(
                [str(BIN / 'verdi'), '-p', pg_profile, 'status'],
                env=bench.env(),
                check=False,
                capture_output=True,
                text=True,
            )
            for line in (status.stdout + status.stderr).splitlines():
                if 'broker:' in line and 'RabbitMQ v' in line:
                    lines[-1] += ', RabbitMQ ' + line.split('RabbitMQ v', 1)[1].split()[0]
                    break
    lines.append('services on the same machine (127.0.0.1); all storage on local disk')
    return lines


def _rate(nodes: int, seconds: float) -> str:
    return f'{nodes / seconds:8.1f}' if seconds > 0 else '       -'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--n', type=int, nargs='+', default=[100], help='numbers of cells (default 100)')
    parser.add_argument('--backends', nargs='+', choices=['sqlite', 'postgres'], default=['sqlite', 'postgres'])
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2], help='daemon worker counts (0: none)')
    parser.add_argument(
        '--full-limit',
        type=int,
        default=1000,
        help='above this many cells, only the query is measured (cells created directly)',
    )
    parser.add_argument('--postgres-host', default='127.0.0.1')
    parser.add_argument('--postgres-port', type=int, default=5432)
    parser.add_argument('--broker-host', default='127.0.0.1')
    parser.add_argument('--broker-port', type=int, default=5672)
    parser.add_argument('--keep', action='store_true', help='keep the profiles, databases and files')
    parser.add_argument('--task', help=argparse.SUPPRESS)
    parser.add_argument('--profile', help=argparse.SUPPRESS)
    parser.add_argument('--arguments', default='{}', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.task:  # inside a subprocess: one task on one profile
        _load(args.profile)
        print(json.dumps(TASKS[args.task](json.loads(args.arguments))))
        return 0

    postgres = (args.postgres_host, args.postgres_port)
    broker = (args.broker_host, args.broker_port)
    backends = list(args.backends)
    if 'postgres' in backends:
        missing = [
            f'{name} at {host}:{port} ({reason})'
            for name, (host, port) in (('PostgreSQL', postgres), ('RabbitMQ', broker))
            if (reason := _reachable((host, port))) is not None
        ]
        if missing:
            print(f'postgres backend skipped: {"; ".join(missing)} not reachable')
            backends.remove('postgres')
    workers = [w for w in args.workers if w > 0]
    root = pathlib.Path(tempfile.mkdtemp(prefix='ssb-bench-'))
    bench = Bench(root, postgres, broker)
    pipeline_rows, query_rows = [], []
    pg_profile = None
    try:
        for n_cells in args.n:
            full = n_cells <= args.full_limit
            if full:
                start = time.perf_counter()
                manifest = write_campaign(root / f'campaign-{n_cells}', n_cells)
                print(
                    f'N = {n_cells}: wrote the manifest and {n_cells} GCPL files in {time.perf_counter() - start:.1f} s',
                    flush=True,
                )
            for backend in backends:
                profile = bench.create_profile(backend, f'bench-{backend}-{n_cells}')
                if backend == 'postgres':
                    pg_profile = profile
                label = 'SQLite (core.sqlite_dos)' if backend == 'sqlite' else 'PostgreSQL (core.psql_dos)'
                if not full:
                    created = bench.task(profile, 'create-indexed', n=n_cells)
                    print(
                        f'N = {n_cells}, {label}: {n_cells} cells created directly with their index extras '
                        f'(import and analysis bypassed) in {created["seconds"]:.0f} s',
                        flush=True,
                    )
                else:
                    before = bench.task(profile, 'count')['nodes']
                    start = time.perf_counter()
                    bench.run(str(BIN / 'aiida-ssb'), '-p', profile, 'import', str(manifest))
                    seconds = time.perf_counter() - start
                    nodes = bench.task(profile, 'count')['nodes'] - before
                    pipeline_rows.append((n_cells, label, 'import (aiida-ssb import, 1 process)', nodes, seconds, 0))
                    print(f'  {label}: import {seconds:.1f} s', flush=True)
                    result = bench.task(profile, 'analyse')
                    pipeline_rows.append(
                        (n_cells, label, 'analysis, in process', result['nodes'], result['seconds'], result['failed'])
                    )
                    print(f'  {label}: analysis in process {result["seconds"]:.1f} s', flush=True)
                    for count in workers:
                        broker_name = 'ZeroMQ' if backend == 'sqlite' else 'RabbitMQ'
                        result = bench.daemon_pass(profile, count, timeout=max(600.0, 5.0 * n_cells))
                        pipeline_rows.append(
                            (
                                n_cells,
                                label,
                                f'analysis, daemon {count} worker(s), {broker_name}',
                                result['nodes'],
                                result['seconds'],
                                result['failed'],
                            )
                        )
                        print(
                            f'  {label}: analysis with {count} daemon worker(s) {result["seconds"]:.1f} s', flush=True
                        )
                query = bench.task(profile, 'query')
                query_rows.append((n_cells, label, 'bypassed' if not full else 'imported + analysed', query))
    finally:
        description = machine_description(postgres if 'postgres' in backends else None, bench, pg_profile)
        if not args.keep:
            bench.cleanup()
        else:
            print(f'kept: {root} (AIIDA_PATH {bench.aiida_path}; databases {", ".join(bench.databases) or "none"})')

    print()
    for line in description:
        print(line)
    if pipeline_rows:
        print(f'\nimport and analysis ({N_CYCLES}-cycle GCPL record per cell; caching off; time = wall clock)')
        header = f'{"N":>6}  {"storage":<27} {"phase":<44} {"nodes":>7} {"time s":>8} {"nodes/s":>8} {"failed":>6}'
        print(header)
        print('-' * len(header))
        for n_cells, label, phase, nodes, seconds, failed in pipeline_rows:
            print(
                f'{n_cells:>6}  {label:<27} {phase:<44} {nodes:>7} {seconds:>8.1f} {_rate(nodes, seconds)} {failed:>6}'
            )
    if query_rows:
        print(f'\nfiltered cells table: {" and ".join(FILTERS)} (median of {QUERY_REPEATS} after a warm-up)')
        header = (
            f'{"N":>6}  {"storage":<27} {"cells made by":<20} {"rows":>6} {"index s":>8} {"naive join s":>12} '
            f'{"same rows":>9}'
        )
        print(header)
        print('-' * len(header))
        for n_cells, label, origin, query in query_rows:
            print(
                f'{n_cells:>6}  {label:<27} {origin:<20} {query["rows"]:>6} {query["index_s"]:>8.3f} '
                f'{query["naive_s"]:>12.3f} {"yes" if query["same"] else "NO":>9}'
            )
        gate = [q for n, label, _, q in query_rows if n >= 10000 and label.startswith('SQLite')]
        for query in gate:
            verdict = 'PASS' if query['index_s'] < 2.0 else 'FAIL'
            print(f'gate: cells table at {query["cells"]} cells on SQLite {query["index_s"]:.3f} s < 2 s: {verdict}')
    return 0 if all(q['same'] for *_, q in query_rows) else 1


if __name__ == '__main__':
    sys.exit(main())
