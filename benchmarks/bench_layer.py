"""The AiiDA layer around the science (issue 22): per-cell import and analysis against bare-process floors measured
in the same run, N cells end to end, the peak memory of a 1M-row ``.mpt`` import, and the command line's latency.

Everything runs in profiles of a temporary ``AIIDA_PATH`` (SQLite + disk-objectstore, made with ``verdi
presto``), each measurement in a child process of its own:

* **per cell** (``--repeats`` cells, median): importing one cell's 8-cycle GCPL ``.mpt`` (``import_file``: raw file,
  parse process, measurement node) against a bare calcfunction that reads the same file with the same reader and
  stores its columns; analysing that cell in process as ``aiida-ssb analyse`` does (the cell-analysis workchain: the
  cycling and dQ/dV calcfunctions, the summary, the query index; without the cache) against two floors doing the
  same science (the same pure functions on the same record, curves and summaries stored): *a workchain calling two
  calcfunctions* (the project's structure without its bookkeeping) and *two bare calcfunctions* (the flattest
  structure). Printed as ratios to the floors;
* **end to end**: ``--n`` cells (default 5; the documented target is 1,000 in under 10 minutes on the 2-core
  machine of the README) written as a manifest, imported (``import_manifest``) and analysed, per cell;
* **memory**: a ``--rows`` (default 1,000,000) row GCPL ``.mpt`` generated in a temporary folder and imported in a
  child process (:mod:`bench_large_import`): wall time and peak resident memory against the final arrays' size;
* **command line**: wall and CPU time (median of 3, fresh processes) of ``aiida-ssb --help``, ``cells`` on an empty
  profile, and ``cells`` and ``show`` on a profile of ``--cli-cells`` cells (default 10,000: the end-to-end cells
  plus cells stored with their query-index extras only, as ``bench_web.py`` does). Targets: under 1 s wall.

The load average is printed before and after: on a busy machine the wall times are not the machine's.

    python benchmarks/bench_layer.py [--n 5] [--repeats 3] [--rows 1000000] [--cli-cells 10000] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
BIN = pathlib.Path(sys.executable).parent
CLI_TARGET_S = 1.0
END_TO_END_TARGET = (1000, 600.0)  # cells, seconds


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------------ floors (child)
def _floors():
    """The bare processes of the floors: the same science as the cell analysis of a GCPL cell, no bookkeeping."""
    from aiida import orm
    from aiida.engine import WorkChain, calcfunction

    from aiida_ssb.analysis.cycling import CyclingSettings, summarise_measurement
    from aiida_ssb.analysis.dqdv import DqdvSettings, incremental_capacity_measurement
    from aiida_ssb.calculations.common import cell_masses_mg, clean, curves_node

    @calcfunction
    def floor_parse(raw: orm.SinglefileData) -> orm.ArrayData:
        """The same reader on the same file, its columns stored packed in one file (as the measurement node
        stores them; AiiDA's ArrayData would write one file per column, see bench_arrays.py)."""
        from aiida_ssb.parsers import read

        with raw.as_path() as path:
            record = read(path, technique='gcpl')
        return curves_node(record.columns)

    @calcfunction
    def floor_science(measurement: orm.ArrayData, cell: orm.Data, cycling: orm.Dict, dqdv: orm.Dict):
        """The cycling summary and the dQ/dV of the record (the pure functions the cell analysis calls)."""
        record = measurement.to_measurement()
        cycled = summarise_measurement(
            record, cell=dict(cell.base.attributes.all), settings=CyclingSettings.resolve(cycling.get_dict())
        )
        masses = cell_masses_mg(cell, ['active'])
        incremental = incremental_capacity_measurement(
            record, mass_mg=masses.get('active'), settings=DqdvSettings.resolve(dqdv.get_dict())
        )
        return {
            'cycling': orm.Dict(clean(cycled.to_dict())),
            'cycling_curves': curves_node(cycled.arrays()),
            'dqdv': orm.Dict(clean(incremental.to_dict())),
            'dqdv_curves': curves_node(incremental.arrays()),
        }

    @calcfunction
    def floor_summary(cell: orm.Data, cycling: orm.Dict, dqdv: orm.Dict) -> orm.Dict:
        """A few headline numbers of the cell from the two summaries."""
        first, second = cycling.get_dict(), dqdv.get_dict()
        return orm.Dict(
            {
                'sample_id': cell.base.attributes.get('sample_id'),
                'capacity_retention_percent_at_end': first.get('capacity_retention_percent_at_end'),
                'n_cycles': first.get('n_cycles'),
                'dqdv_peak_separation_v': second.get('peak_separation_v'),
            }
        )

    class FloorWorkChain(WorkChain):
        """One workchain whose step calls the two calcfunctions."""

        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input('measurement', valid_type=orm.ArrayData)
            spec.input('cell', valid_type=orm.Data)
            spec.input('cycling', valid_type=orm.Dict)
            spec.input('dqdv', valid_type=orm.Dict)
            spec.output('summary', valid_type=orm.Dict)
            spec.outline(cls.analyse)

        def analyse(self):
            science = floor_science(
                measurement=self.inputs.measurement,
                cell=self.inputs.cell,
                cycling=self.inputs.cycling,
                dqdv=self.inputs.dqdv,
            )
            self.out('summary', floor_summary(cell=self.inputs.cell, cycling=science['cycling'], dqdv=science['dqdv']))

    return floor_parse, floor_science, floor_summary, FloorWorkChain


def task_per_cell(arguments: dict) -> dict:
    """Import and analyse ``repeats`` cells one by one, each step beside its floors, interleaved."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_ssb.cli.demo import quiet_console
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.importer.measurements import import_file
    from aiida_ssb.importer.store import import_manifest
    from aiida_ssb.workflows.cell import run_cell_analyses

    quiet_console()
    floor_parse, floor_science, floor_summary, floor_workchain = _floors()
    folder = pathlib.Path(arguments['folder'])
    manifest = _module('bench_scale').write_campaign(folder, arguments['repeats'] + 1)
    import yaml

    data = yaml.safe_load(manifest.read_text(encoding='utf-8'))
    files = {entry['cell']: folder / entry['file'] for entry in data.pop('measurements')}
    bare = folder / 'cells_only.yaml'
    bare.write_text(yaml.safe_dump(data, sort_keys=False), encoding='utf-8')
    import_manifest(bare)
    times: dict[str, list[float]] = {key: [] for key in ('import', 'parse', 'analyse', 'workchain', 'bare')}
    ran: set[str] = set()
    for number, (sample_id, path) in enumerate(files.items()):
        cell = load_sample(sample_id)
        start = time.perf_counter()
        _, nodes = import_file(path, sample_id, technique='gcpl', temperature='25 degC')
        imported = time.perf_counter() - start
        start = time.perf_counter()
        run_get_node(floor_parse, raw=orm.SinglefileData(path))
        parsed = time.perf_counter() - start
        record = next(node for node in nodes if node.__class__.__name__ == 'CyclingData')
        start = time.perf_counter()
        (run,) = run_cell_analyses([cell], {}, use_cache=False)
        analysed = time.perf_counter() - start
        assert run.is_finished_ok, run.exit_message
        ran |= {child.process_type.rsplit('.', 1)[-1] for child in run.called if 'ssb.analyse.' in child.process_type}
        options = {'cycling': orm.Dict({}), 'dqdv': orm.Dict({})}
        start = time.perf_counter()
        _, node = run_get_node(floor_workchain, measurement=record, cell=cell, **options)
        workchain = time.perf_counter() - start
        assert node.is_finished_ok
        start = time.perf_counter()
        science = floor_science(measurement=record, cell=cell, **{k: orm.Dict({}) for k in options})
        floor_summary(cell=cell, cycling=science['cycling'], dqdv=science['dqdv'])
        bare_s = time.perf_counter() - start
        if number == 0:
            continue  # the first cell warms the imports and caches of every path
        for key, value in zip(times, (imported, parsed, analysed, workchain, bare_s)):
            times[key].append(value)
    return {
        'medians': {key: statistics.median(values) for key, values in times.items()},
        'cells': len(times['import']),
        'analyses': sorted(ran),
    }


def task_end_to_end(arguments: dict) -> dict:
    """N cells written as a manifest, imported and analysed (without the cache)."""
    from aiida_ssb.cli.demo import quiet_console
    from aiida_ssb.data.cell import CellData
    from aiida_ssb.importer.store import import_manifest
    from aiida_ssb.workflows.cell import run_cell_analyses

    quiet_console()
    folder = pathlib.Path(arguments['folder'])
    start = time.perf_counter()
    manifest = _module('bench_scale').write_campaign(folder, arguments['n'])
    written = time.perf_counter() - start
    start = time.perf_counter()
    import_manifest(manifest)
    imported = time.perf_counter() - start
    from aiida import orm

    cells = orm.QueryBuilder().append(CellData).order_by({CellData: {'id': 'asc'}}).all(flat=True)
    start = time.perf_counter()
    nodes = run_cell_analyses(cells, {}, use_cache=False)
    analysed = time.perf_counter() - start
    return {
        'written_s': written,
        'import_s': imported,
        'analyse_s': analysed,
        'cells': len(cells),
        'failed': sum(not node.is_finished_ok for node in nodes),
    }


TASKS = {'per-cell': task_per_cell, 'end-to-end': task_end_to_end}


# ------------------------------------------------------------------------------------------------ orchestration
class Profiles:
    """SQLite profiles in a temporary AIIDA_PATH, driven through subprocesses."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.env = dict(os.environ, AIIDA_PATH=str(root), PYTHONWARNINGS='ignore', MPLBACKEND='Agg')
        self.env.pop('AIIDA_PROFILE', None)

    def run(self, *command: str, timeout: float = 7200) -> subprocess.CompletedProcess:
        result = subprocess.run(
            list(command),
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            cwd=str(HERE.parent),
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f'{" ".join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}')
        return result

    def create(self, name: str) -> str:
        self.run(str(BIN / 'verdi'), 'presto', '--profile-name', name, '--non-interactive')
        return name

    def task(self, script: pathlib.Path, profile: str, name: str, **arguments) -> dict:
        output = self.run(
            sys.executable, str(script), '--task', name, '--profile', profile, '--arguments', json.dumps(arguments)
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

    def timed(self, *command: str, repeats: int = 3) -> tuple[float, float, str]:
        """Median wall and CPU seconds (user + system, of the child) of a command, and its output."""
        walls, cpus, output = [], [], ''
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            output = self.run(*command).stdout
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return statistics.median(walls), statistics.median(cpus), output


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f'load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--n', type=int, default=5, help='cells imported and analysed end to end (target: 1,000)')
    parser.add_argument('--repeats', type=int, default=3, help='cells of the per-cell medians (after one warm-up)')
    parser.add_argument('--rows', type=int, default=1_000_000, help='rows of the large .mpt (0: skip)')
    parser.add_argument('--cli-cells', type=int, default=10_000, help='cells of the command-line profile')
    parser.add_argument('--quick', action='store_true', help='--n 2 --repeats 2 --rows 200000 --cli-cells 1000')
    parser.add_argument('--task', help=argparse.SUPPRESS)
    parser.add_argument('--profile', help=argparse.SUPPRESS)
    parser.add_argument('--arguments', default='{}', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        import warnings

        warnings.filterwarnings('ignore')
        from aiida import load_profile

        load_profile(args.profile, allow_switch=True)
        print(json.dumps(TASKS[args.task](json.loads(args.arguments))))
        return 0
    if args.quick:
        args.n, args.repeats, args.rows, args.cli_cells = 2, 2, 200_000, 1000
    print(f'before: {_load()}', flush=True)
    root = pathlib.Path(tempfile.mkdtemp(prefix='ssb-bench-layer-'))
    profiles = Profiles(root)
    status = 0
    try:
        profiles.create('layer')
        profiles.create('empty')
        profiles.create('cli')
        script = pathlib.Path(__file__).resolve()

        # per cell, against the floors
        folder = root / 'per-cell'
        per = profiles.task(script, 'layer', 'per-cell', folder=str(folder), repeats=args.repeats)
        m = per['medians']
        print(f'\nper cell (median of {per["cells"]} cells after a warm-up; analyses: {", ".join(per["analyses"])})')
        header = f'{"step":<58} {"s":>7} {"ratio":>7}'
        print(header)
        print('-' * len(header))
        rows = [
            ('import one GCPL .mpt (import_file)', m['import'], m['import'] / m['parse']),
            ('  floor: 1 bare calcfunction, same reader, columns stored packed', m['parse'], 1.0),
            ('analyse the cell in process (`aiida-ssb analyse`)', m['analyse'], m['analyse'] / m['bare']),
            ('  floor: a workchain calling 2 calcfunctions (same science)', m['workchain'], m['workchain'] / m['bare']),
            ('  floor: 2 bare calcfunctions (same science)', m['bare'], 1.0),
        ]
        for label, seconds, ratio in rows:
            print(f'{label:<58} {seconds:>7.3f} {ratio:>6.2f}x')
        print(
            f'analysis: {m["analyse"] / m["bare"]:.2f}x the 2-calcfunction floor, '
            f'{m["analyse"] / m["workchain"]:.2f}x the workchain floor (issue 22 target: within 1.3x)'
        )

        # end to end
        e2e = profiles.task(script, 'cli', 'end-to-end', folder=str(root / 'e2e'), n=args.n)
        per_cell = (e2e['import_s'] + e2e['analyse_s']) / max(1, e2e['cells'])
        cells_target, seconds_target = END_TO_END_TARGET
        print(
            f'\nend to end: {e2e["cells"]} cells imported in {e2e["import_s"]:.1f} s and analysed in '
            f'{e2e["analyse_s"]:.1f} s ({e2e["failed"]} failed): {per_cell:.2f} s per cell, so {cells_target:,} cells '
            f'in about {per_cell * cells_target / 60:.1f} min (target under {seconds_target / 60:.0f} min)'
        )
        status |= 1 if e2e['failed'] else 0

        # memory of the large import
        if args.rows:
            large = _module('bench_large_import')
            with tempfile.TemporaryDirectory(prefix='ssb-bench-layer-mpt-') as mpt_folder:
                path = pathlib.Path(mpt_folder) / 'large_gcpl.mpt'
                large.generate_mpt(path, args.rows)
                size_mb = path.stat().st_size / 2**20
                result = large.measure(path, None)
            if 'error' in result:
                print(f'\nlarge import failed: {result["error"]}')
                status = 1
            else:
                print(
                    f'\nimport of a {args.rows:,}-row GCPL .mpt ({size_mb:.0f} MB): {result["seconds"]:.1f} s, peak '
                    f'resident {result["peak_mb"]:.0f} MB ({result["before_mb"]:.0f} MB before; arrays '
                    f'{result["array_mb"]:.0f} MB, peak-before = '
                    f'{(result["peak_mb"] - result["before_mb"]) / result["array_mb"]:.1f}x the arrays)'
                )

        # command line
        existing = e2e['cells']
        if args.cli_cells > existing:
            web = str(HERE / 'bench_web.py')
            start = time.perf_counter()
            profiles.run(
                sys.executable,
                web,
                '--task',
                'top-up',
                '--profile',
                'cli',
                '--arguments',
                json.dumps({'start': existing, 'n': args.cli_cells}),
            )
            print(
                f'\n{args.cli_cells - existing} cells added with their index extras only '
                f'({time.perf_counter() - start:.0f} s)'
            )
        aiida_ssb = str(BIN / 'aiida-ssb')
        print(
            f'\ncommand line (median of 3 fresh processes; {args.cli_cells:,} cells; target under {CLI_TARGET_S:g} s)'
        )
        header = f'{"command":<52} {"wall s":>7} {"CPU s":>7} {"rows":>7}'
        print(header)
        print('-' * len(header))
        for label, command in (
            ('aiida-ssb --help', [aiida_ssb, '--help']),
            ('aiida-ssb cells (empty profile)', [aiida_ssb, '-p', 'empty', 'cells']),
            (f'aiida-ssb cells ({args.cli_cells:,} cells)', [aiida_ssb, '-p', 'cli', 'cells']),
            ('aiida-ssb cells --retention-min 80', [aiida_ssb, '-p', 'cli', 'cells', '--retention-min', '80']),
            ('aiida-ssb show BENCH-00000', [aiida_ssb, '-p', 'cli', 'show', 'BENCH-00000']),
        ):
            wall, cpu, output = profiles.timed(*command)
            lines = output.count('\n') - 2 if ' cells' in label else 0
            print(f'{label:<52} {wall:>7.2f} {cpu:>7.2f} {lines if lines > 0 else "":>7}')
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f'\nafter: {_load()}')
    return status


if __name__ == '__main__':
    sys.exit(main())
