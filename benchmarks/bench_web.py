"""Web page benchmark: the server time of the cells table on a 10,000-cell profile.

The cells are stored directly through the Python API with their query-index extras and the provenance of a
cell summary (``bench_scale.task_create_indexed``: import and analysis are bypassed, the output says so), in a
fresh SQLite profile under a temporary ``AIIDA_PATH``. Then, in a second process (cold caches, as a server
that has just started), the work the page's server does for

* **first page**: the cells page's layout and its first 50 rows (default columns, sorted by sample id) as the
  grid asks for them (:func:`aiida_ssb.query.paging.table_page`), serialised to JSON;
* **filtered**: ``stack_pressure_mpa < 1`` and ``capacity_retention_percent_at_end >= 80`` (a record and an
  analysis filter), sorted by retention, descending, first 50 rows, counted;

is timed (median of 7 after a warm-up) beside the peer: the whole table built by
:func:`aiida_ssb.query.tables.cells` (what ``aiida-ssb cells`` does) and its first 50 rows taken. The gate:
first page and filtered page under 1 s each, with the same rows as the peer.

Run: ``.venv/bin/python benchmarks/bench_web.py [--n 10000] [--keep]``; ``--reuse AIIDA_PATH`` measures a kept
profile again (topping it up to ``--n`` cells, index extras only).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
BIN = pathlib.Path(sys.executable).parent
FILTERS = ['stack_pressure_mpa < 1', 'capacity_retention_percent_at_end >= 80']
COLUMNS = ['sample_id', 'format', 'stack_pressure_mpa', 'capacity_retention_percent_at_end', 'mass_loading_mg_cm2']
REPEATS = 7
GATE_S = 1.0


def _median(function, repeats: int = REPEATS):
    result = function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _bench_scale():
    spec = importlib.util.spec_from_file_location('bench_scale', HERE / 'bench_scale.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def task_count(_: dict) -> dict:
    from aiida import orm

    from aiida_ssb.data.cell import CellData

    return {'cells': orm.QueryBuilder().append(CellData).count()}


def task_create(arguments: dict) -> dict:
    return _bench_scale().task_create_indexed({'n': arguments['n']})


def task_top_up(arguments: dict) -> dict:
    """Cells ``start`` to ``n`` with their index extras only (no summary provenance: the page reads the index),
    the same records and numbers as ``bench_scale`` makes; for topping up a kept profile."""
    from aiida.manage import get_manager

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.sample import find_sample
    from aiida_ssb.query.index import INDEX_EXTRA

    scale = _bench_scale()
    materials = {sample_id: find_sample(sample_id).facts() for sample_id in ('BENCH-CAM', 'BENCH-SE', 'BENCH-NA')}
    storage = get_manager().get_profile_storage()
    start = time.perf_counter()
    for first in range(arguments['start'], arguments['n'], 500):
        with storage.transaction():
            for index in range(first, min(first + 500, arguments['n'])):
                parameters = scale._cell_parameters(index)
                cell = CellData(
                    scale.cell_record(index, parameters),
                    materials=materials,
                ).store()
                retention = 100.0 * (1.0 - parameters['fade_per_cycle']) ** (scale.N_CYCLES - 1)
                cell.base.extras.set(
                    INDEX_EXTRA,
                    {
                        'capacity_retention_percent_at_end': retention,
                        'initial_discharge_capacity_mah_g': parameters['capacity_mah_g'],
                    },
                )
    return {'seconds': time.perf_counter() - start, 'cells': arguments['n'] - arguments['start']}


def task_measure(_: dict) -> dict:
    from aiida_ssb.query.paging import table_page
    from aiida_ssb.query.tables import cells
    from aiida_ssb.web import tables as page

    def first_page():
        layout = page.layout('cells', {})
        rows = table_page('cells', offset=0, limit=50)
        return layout, json.dumps({'rowData': rows.rows, 'rowCount': rows.total}), rows

    def filtered():
        rows = table_page(
            'cells',
            filters=FILTERS,
            columns=COLUMNS,
            sort='capacity_retention_percent_at_end',
            descending=True,
            limit=50,
        )
        return json.dumps({'rowData': rows.rows, 'rowCount': rows.total}), rows

    start = time.perf_counter()
    first_page()
    cold_s = time.perf_counter() - start  # the very first request of a fresh server process
    first_s, (_, _, first) = _median(first_page)
    filtered_s, (_, matched) = _median(filtered)
    peer_first_s, peer_first = _median(lambda: cells().head(50), 3)
    peer_filtered_s, peer_filtered = _median(
        lambda: cells(filters=FILTERS, columns=COLUMNS, sort='capacity_retention_percent_at_end', descending=True).head(
            50
        ),
        3,
    )
    same_first = [r['sample_id'] for r in first.rows] == list(peer_first['sample_id'])
    peer_retention = list(peer_filtered['capacity_retention_percent_at_end'])
    same_filtered = [r['capacity_retention_percent_at_end'] for r in matched.rows] == peer_retention
    return {
        'cells': first.total,
        'matches': matched.total,
        'cold_s': cold_s,
        'first_s': first_s,
        'filtered_s': filtered_s,
        'peer_first_s': peer_first_s,
        'peer_filtered_s': peer_filtered_s,
        'same_first': same_first,
        'same_filtered': same_filtered,
    }


TASKS = {'create': task_create, 'top-up': task_top_up, 'count': task_count, 'measure': task_measure}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--n', type=int, default=10000, help='number of cells (default 10,000)')
    parser.add_argument('--keep', action='store_true', help='keep the temporary profile')
    parser.add_argument(
        '--reuse', help='AIIDA_PATH of a kept profile (its cells are kept; cells are added up to --n, index only)'
    )
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
    try:
        import dash  # noqa: F401
    except ImportError:
        print('bench_web skipped: the web extra is not installed (pip install -e ".[web]")')
        return 0
    root = pathlib.Path(args.reuse) if args.reuse else pathlib.Path(tempfile.mkdtemp(prefix='ssb-bench-web-'))
    env = dict(os.environ, AIIDA_PATH=str(root), PYTHONWARNINGS='ignore')
    env.pop('AIIDA_PROFILE', None)

    def run(*command: str) -> str:
        result = subprocess.run(
            list(command), env=env, capture_output=True, text=True, check=False, cwd=str(HERE.parent)
        )
        if result.returncode != 0:
            raise RuntimeError(f'{" ".join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}')
        return result.stdout

    def task(name: str, **arguments) -> dict:
        output = run(
            sys.executable, __file__, '--task', name, '--profile', 'bench-web', '--arguments', json.dumps(arguments)
        )
        return json.loads(output.strip().splitlines()[-1])

    try:
        if args.reuse:
            existing = task('count')['cells']
            created = task('top-up', start=existing, n=args.n) if existing < args.n else {'seconds': 0.0}
            print(
                f'reused a profile with {existing} cells (stored directly, with summary provenance); '
                f'{max(0, args.n - existing)} cells added with their index extras only in {created["seconds"]:.0f} s',
                flush=True,
            )
        else:
            run(str(BIN / 'verdi'), 'presto', '--profile-name', 'bench-web', '--use-zeromq', '--non-interactive')
            created = task('create', n=args.n)
            print(
                f'{args.n} cells stored directly with their index extras (import and analysis bypassed) in '
                f'{created["seconds"]:.0f} s, SQLite profile',
                flush=True,
            )
        result = task('measure')
    finally:
        if args.keep or args.reuse:
            print(f'kept: AIIDA_PATH={root}')
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f'\ncells page server time on {result["cells"]} cells (SQLite; median of {REPEATS} after a warm-up)')
    header = f'{"request":<44} {"web page s":>10} {"whole table (peer) s":>21} {"same rows":>9}'
    print(header)
    print('-' * len(header))
    print(
        f'{"first page (layout + 50 rows as JSON)":<44} {result["first_s"]:>10.3f} {result["peer_first_s"]:>21.3f} {"yes" if result["same_first"] else "NO":>9}'
    )
    label = f'filtered ({result["matches"]} match), sorted, 50 rows'
    print(
        f'{label:<44} {result["filtered_s"]:>10.3f} {result["peer_filtered_s"]:>21.3f} {"yes" if result["same_filtered"] else "NO":>9}'
    )
    print(f'first request of a fresh server process: {result["cold_s"]:.3f} s (imports and caches included)')
    ok = (
        result['first_s'] < GATE_S
        and result['filtered_s'] < GATE_S
        and result['same_first']
        and result['same_filtered']
    )
    print(
        f'gate: first page {result["first_s"]:.3f} s and filtered page {result["filtered_s"]:.3f} s < {GATE_S:g} s, '
        f'same rows as the whole table: {"PASS" if ok else "FAIL"}'
    )
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
