"""Benchmark of the instrument-file readers (anchor B5 of the analysis notes).

Times ``aiida_ssb.parsers.read`` on three real BioLogic files beside the reference readers on the
same input in the same run:

* galvani (``datalab-org-galvani``, GPL-3; the library our ``.mpr`` reader wraps): ``MPRfile`` for
  the ``.mpr``, ``MPTfile`` for the ``.mpt`` files (galvani wants CRLF line ends and Latin-1 names,
  so the ``.mpt`` bytes are handed to it converted in memory, outside the timed part);
* yadg (GPL-3) when a Python with yadg is available: it pins pandas < 3, so it lives in a separate
  virtual environment, given by ``$YADG_PYTHON`` (default ``/tmp/yadg-venv/bin/python``), and is
  timed there in a subprocess with the same method.

Each time is the median of >= 11 runs after a warm-up. The accuracy gate compares our arrays with
the reference's on the same file: same number of rows, identical potentials and times.

Run: ``.venv/bin/python benchmarks/bench_parsers.py``
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
RUNS = 21

FILES = {
    'jdb11 GCPL .mpr (46,102 rows)': 'biologic/jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr',
    'cv.mpt (5,103 rows)': 'biologic/cv.mpt',
    'geis.mpt (2,528 rows)': 'biologic/geis.mpt',
}

YADG_SNIPPET = r"""
import json, statistics, sys, time
import numpy as np
from yadg.extractors import extract
path, filetype, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
extract(filetype=filetype, path=path)
times = []
for _ in range(runs):
    start = time.perf_counter()
    tree = extract(filetype=filetype, path=path)
    times.append(time.perf_counter() - start)
data = tree.to_dataset() if hasattr(tree, 'to_dataset') else tree.ds
name = 'Ewe' if 'Ewe' in data else '<Ewe>'
ewe = np.asarray(data[name].values, dtype=float)
print(json.dumps({'median_s': statistics.median(times), 'rows': int(ewe.size), 'ewe_sum': float(np.nansum(ewe))}))
"""


def shared_data() -> pathlib.Path:
    configured = os.environ.get('AIIDA_SSB_SHARED_DATA')
    return pathlib.Path(configured) if configured else REPO.parent / 'shared' / 'data'


def median_time(function: Callable[[], object], runs: int = RUNS) -> float:
    function()  # warm-up (imports, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def galvani_reader(path: pathlib.Path):
    """A zero-argument function that reads ``path`` with galvani, and a function returning the
    reference (time, Ewe) arrays; None when galvani is not importable."""
    try:
        from galvani import BioLogic
    except ImportError:
        return None
    if path.suffix == '.mpr':

        def run():
            with open(path, 'rb') as handle:
                return BioLogic.MPRfile(handle)

        def arrays(result):
            return np.asarray(result.data['time/s'], float), np.asarray(result.data['Ewe/V'], float)
    else:
        crlf = path.read_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')

        def run():
            return BioLogic.MPTfile(io.BytesIO(crlf), encoding='latin-1')

        def arrays(result):
            table = result[0]
            return np.asarray(table['time/s'], float), np.asarray(table['Ewe/V'], float)

    return run, arrays


def yadg_time(path: pathlib.Path) -> dict | None:
    python = os.environ.get('YADG_PYTHON', '/tmp/yadg-venv/bin/python')
    if not os.path.exists(python):
        return None
    filetype = 'eclab.mpr' if path.suffix == '.mpr' else 'eclab.mpt'
    try:
        result = subprocess.run(
            [python, '-c', YADG_SNIPPET, os.fspath(path), filetype, str(RUNS)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {'error': str(exc)}
    if result.returncode != 0:
        return {'error': result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'failed'}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    sys.path.insert(0, os.fspath(REPO))
    from aiida_ssb.parsers import read

    folder = shared_data()
    if not folder.is_dir():
        print(f'real instrument files not available: {folder} does not exist')
        return 1
    print(f'median of {RUNS} runs after a warm-up; ratio = reference time / our time (> 1: we are faster)')
    header = f'{"file":32s} {"ours":>9s} {"galvani":>9s} {"ratio":>6s} {"yadg":>9s} {"ratio":>6s}  accuracy gate'
    print(header)
    print('-' * len(header))
    failures = 0
    for label, relative in FILES.items():
        path = folder / relative
        if not path.is_file():
            print(f'{label:32s} missing: {path}')
            continue
        ours = median_time(lambda path=path: read(path))
        measurement = read(path, keep_dc_rows=True)
        voltage = measurement['voltage_v'] if 'voltage_v' in measurement else measurement['dc_voltage_v']
        galvani = galvani_reader(path)
        gate = 'galvani not installed'
        galvani_text = ratio_text = 'n/a'
        if galvani is not None:
            run, arrays = galvani
            reference_time = median_time(run)
            galvani_text = f'{reference_time * 1e3:7.2f}ms'
            ratio_text = f'{reference_time / ours:5.2f}x'
            ref_time, ref_ewe = arrays(run())
            same_rows = ref_ewe.size == measurement.n_rows
            ok = (
                same_rows
                and np.array_equal(ref_ewe, voltage)
                and np.allclose(ref_time, measurement['time_s'], rtol=0, atol=1e-9)
            )
            gate = (
                'PASS' if ok else 'FAIL'
            ) + f' (rows {measurement.n_rows} vs {ref_ewe.size}, Ewe and time identical)'
            failures += not ok
        yadg = yadg_time(path)
        if yadg is None:
            yadg_text = yadg_ratio = 'n/a'
        elif 'error' in yadg:
            yadg_text, yadg_ratio = 'error', ''
            gate += f'; yadg: {yadg["error"][:60]}'
        else:
            yadg_text = f'{yadg["median_s"] * 1e3:7.2f}ms'
            yadg_ratio = f'{yadg["median_s"] / ours:5.2f}x'
            yadg_ok = yadg['rows'] == measurement.n_rows and np.isclose(
                yadg['ewe_sum'], float(np.nansum(voltage)), rtol=1e-9
            )
            gate += f'; yadg {"PASS" if yadg_ok else "FAIL"}'
            failures += not yadg_ok
        print(
            f'{label:32s} {ours * 1e3:7.2f}ms {galvani_text:>9s} {ratio_text:>6s} {yadg_text:>9s} {yadg_ratio:>6s}  {gate}'
        )
    if os.environ.get('YADG_PYTHON') is None and not os.path.exists('/tmp/yadg-venv/bin/python'):
        print('yadg: not available (install it in a separate venv and set YADG_PYTHON; it pins pandas < 3)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
