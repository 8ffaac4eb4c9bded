"""Importing a large EC-Lab text export: wall time and peak memory of ``import_file`` on a 1,000,000-row ``.mpt``.

A GCPL-like ``.mpt`` (31 columns, as EC-Lab/BT-Lab write them for galvanostatic cycling, about 465 bytes a row)
is generated in a temporary folder, then imported end to end (raw file kept verbatim, parse process, measurement
node stored) in a child process with a profile of its own (SQLite + disk-objectstore in a temporary folder).
The child reports the import's wall time, its peak resident memory (``VmHWM``) and the resident memory before
the import; the size of the stored arrays gives the ratio the target is stated in (peak memory within ~2x the
final arrays' size; a 1M-row ``.mpt`` under 15 s and under 1 GB resident).

``--baseline-src DIR`` measures another source tree in the same run (e.g. a worktree of ``main``) for a
before/after comparison; ``--rows N`` changes the size.

    python benchmarks/bench_large_import.py [--rows 1000000] [--baseline-src ../main]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
TIME_LIMIT_S = 15.0
MEMORY_LIMIT_MB = 1024.0

COLUMNS = (
    'mode',
    'ox/red',
    'error',
    'control changes',
    'Ns changes',
    'counter inc.',
    'Ns',
    'time/s',
    'dq/mA.h',
    'control/V/mA',
    'Ewe/V',
    'I Range',
    'Ece/V',
    'P/W',
    'Q charge/discharge/mA.h',
    'half cycle',
    '(Q-Qo)/mA.h',
    'Energy charge/W.h',
    'Energy discharge/W.h',
    'Capacitance charge/µF',
    'Capacitance discharge/µF',
    '<I>/mA',
    'x',
    'Q discharge/mA.h',
    'Q charge/mA.h',
    'Capacity/mA.h',
    'Efficiency/%',
    'control/V',
    'control/mA',
    'cycle number',
    'Ewe-Ece/V',
)

HEADER = """EC-Lab ASCII FILE
Nb header lines : {n_header}

Galvanostatic Cycling with Potential Limitation

Run on channel : 1 (SN 1234)
User : bench
Acquisition started on : 01/15/2025 10:00:00.000
Device : VMP3 (SN 0001)
EC-Lab for windows v11.50 (software)
Electrode surface area : 1.131 cm²
Characteristic mass : 2.000 mg
Cycle Definition : Charge/Discharge alternance
Ns                  0                   1                   2
Set I/C             I                   I                   I
Is                  0.100               -0.100              0.000
unit Is             mA                  mA                  mA
vs.                 <None>              <None>              <None>
N                   1.00                1.00                1.00
I sign              > 0                 < 0                 > 0
t1 (h:m:s)          0:00:0.0000         0:00:0.0000         0:00:0.0000
I Range             1 mA                1 mA                1 mA
EM (V)              4.150               2.500               pass
dq                  0.000               0.000               0.000
unit dq             mA.h                mA.h                mA.h
goto Ns'            0                   0                   0
nc cycles           0                   0                   0
"""


def _fixed(values: np.ndarray, digits: int) -> np.ndarray:
    """EC-Lab's scientific format, e.g. 2.3403094E+000 (7 or 15 decimals, 3-digit exponent)."""
    text = np.char.mod(f'%.{digits}E', values)
    # numpy writes a 2-digit exponent (E+00); EC-Lab writes three digits
    return np.char.replace(np.char.replace(text, 'E+', 'E+0'), 'E-', 'E-0')


def generate_mpt(path: pathlib.Path, rows: int, block: int = 50_000) -> None:
    """A GCPL record: 0.1 mA half cycles of 3 h between 2.5 and 4.15 V, a point every 10 s."""
    n_header = HEADER.count('\n') + 1
    with open(path, 'wb') as handle:
        handle.write(HEADER.format(n_header=n_header).replace('\n', '\r\n').encode('cp1252'))
        handle.write(('\t'.join(COLUMNS) + '\t\r\n').encode('cp1252'))
        for start in range(0, rows, block):
            index = np.arange(start, min(start + block, rows))
            t = index * 10.0
            half = (t // 10800).astype(np.int64)
            phase = (t % 10800) / 10800
            charging = half % 2 == 0
            current = np.where(charging, 0.1, -0.1)
            ewe = np.where(charging, 2.5 + 1.65 * phase, 4.15 - 1.65 * phase)
            q = np.where(charging, 0.3 * phase, 0.3 * (1 - phase))
            fields = {
                'mode': np.ones(index.size, dtype=np.int64).astype(str),
                'ox/red': charging.astype(np.int64).astype(str),
                'error': np.zeros(index.size, dtype=np.int64).astype(str),
                'control changes': (phase == 0).astype(np.int64).astype(str),
                'Ns changes': (phase == 0).astype(np.int64).astype(str),
                'counter inc.': np.zeros(index.size, dtype=np.int64).astype(str),
                'Ns': (half % 2).astype(str),
                'time/s': _fixed(t, 15),
                'dq/mA.h': _fixed(current * 10 / 3600, 15),
                'control/V/mA': _fixed(current, 7),
                'Ewe/V': _fixed(ewe, 7),
                'I Range': np.full(index.size, '13'),
                'Ece/V': _fixed(np.full(index.size, 0.01), 7),
                'P/W': _fixed(ewe * current / 1000, 7),
                'Q charge/discharge/mA.h': _fixed(np.where(charging, q, -q), 15),
                'half cycle': half.astype(str),
                '(Q-Qo)/mA.h': _fixed(q, 15),
                'Energy charge/W.h': _fixed(np.where(charging, q * 3.3e-3, 0.0), 15),
                'Energy discharge/W.h': _fixed(np.where(charging, 0.0, q * 3.3e-3), 15),
                'Capacitance charge/µF': _fixed(np.zeros(index.size), 15),
                'Capacitance discharge/µF': _fixed(np.zeros(index.size), 15),
                '<I>/mA': _fixed(current, 15),
                'x': _fixed(phase, 15),
                'Q discharge/mA.h': _fixed(np.where(charging, 0.0, q), 15),
                'Q charge/mA.h': _fixed(np.where(charging, q, 0.0), 15),
                'Capacity/mA.h': _fixed(q, 15),
                'Efficiency/%': _fixed(np.zeros(index.size), 7),
                'control/V': _fixed(np.zeros(index.size), 7),
                'control/mA': _fixed(current, 7),
                'cycle number': _fixed((half // 2).astype(float), 15),
                'Ewe-Ece/V': _fixed(ewe - 0.01, 7),
            }
            table = fields[COLUMNS[0]]
            for name in COLUMNS[1:]:
                table = np.char.add(np.char.add(table, '\t'), fields[name])
            handle.write(('\r\n'.join(table.tolist()) + '\r\n').encode('ascii'))


CHILD = r"""
import json, os, pathlib, sys, time, tempfile
source = os.environ.get('AIIDA_SSB_BENCH_SOURCE')
if source:  # another source tree: before any editable install of this one (its import hook is removed)
    import importlib
    sys.path.insert(0, source)
    sys.meta_path = [finder for finder in sys.meta_path if 'editable' not in type(finder).__module__.lower()]
    importlib.invalidate_caches()

def rss_mb(key):
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return float('nan')

path, folder = sys.argv[1], sys.argv[2]
from aiida import load_profile
from aiida.manage.configuration import create_profile, get_config, reset_config
from aiida.manage.configuration.settings import AiiDAConfigDir
reset_config()
AiiDAConfigDir.set(pathlib.Path(folder) / '.aiida')
profile = create_profile(get_config(create=True), storage_backend='core.sqlite_dos',
                         storage_config={'filepath': str(pathlib.Path(folder) / 'storage')},
                         name='bench-large-import', email='bench@localhost')
load_profile(profile.name, allow_switch=True)
import aiida_ssb
from aiida_ssb.calculations.record import assemble_cell
from aiida_ssb.data.material import MaterialData
from aiida_ssb.importer.measurements import import_file
MaterialData({'id': 'L-SE', 'role': 'electrolyte'}).store()
MaterialData({'id': 'L-NA', 'role': 'metal_foil'}).store()
assemble_cell({'id': 'L-CELL', 'format': 'symmetric', 'diameter': '10 mm',
               'layers': [{'role': 'negative', 'material': 'L-NA'}, {'role': 'electrolyte', 'material': 'L-SE'},
                          {'role': 'negative', 'material': 'L-NA'}]})
before = rss_mb('VmRSS:')
start = time.perf_counter()
status, nodes = import_file(path, 'L-CELL', technique='galvanostatic_cycling', temperature='25 degC')
elapsed = time.perf_counter() - start
peak = rss_mb('VmHWM:')
from aiida_ssb.data.measurements import MeasurementData
records = [node for node in nodes if isinstance(node, MeasurementData)]
array_bytes = sum(records[0].get_array(name).nbytes for name in records[0].get_arraynames())
print(json.dumps({'seconds': elapsed, 'peak_mb': peak, 'before_mb': before, 'rows': records[0].base.attributes.get('n_rows'),
                  'columns': len(records[0].get_arraynames()), 'array_mb': array_bytes / 2**20,
                  'source': os.path.dirname(aiida_ssb.__file__)}))
"""


def measure(path: pathlib.Path, source: str | None) -> dict:
    env = dict(os.environ)
    if source:
        env['AIIDA_SSB_BENCH_SOURCE'] = os.path.abspath(source)
    with tempfile.TemporaryDirectory(prefix='aiida-ssb-bench-large-') as folder:
        result = subprocess.run(
            [sys.executable, '-c', CHILD, str(path), folder], capture_output=True, text=True, env=env, check=False
        )
    if result.returncode != 0:
        return {'error': (result.stderr.strip().splitlines() or ['failed'])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--baseline-src', help='another source tree to measure in the same run (before/after)')
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix='aiida-ssb-large-mpt-') as folder:
        path = pathlib.Path(folder) / 'large_gcpl.mpt'
        start = time.perf_counter()
        generate_mpt(path, args.rows)
        size_mb = path.stat().st_size / 2**20
        print(f'generated {path.name}: {args.rows:,} rows, {size_mb:.0f} MB in {time.perf_counter() - start:.0f} s')
        runs = []
        if args.baseline_src:
            runs.append((f'baseline ({args.baseline_src})', measure(path, args.baseline_src)))
        runs.append(('this tree', measure(path, None)))
    print(
        f'\n{"code":<34} {"import":>9} {"peak RSS":>10} {"RSS before":>11} {"arrays":>9} {"peak-before / arrays":>21}'
    )
    status = 0
    for label, result in runs:
        if 'error' in result:
            print(f'{label:<34} failed: {result["error"]}')
            status = 1 if label == 'this tree' else status
            continue
        ratio = (result['peak_mb'] - result['before_mb']) / result['array_mb']
        print(
            f'{label:<34} {result["seconds"]:>7.1f} s {result["peak_mb"]:>7.0f} MB {result["before_mb"]:>8.0f} MB '
            f'{result["array_mb"]:>6.0f} MB {ratio:>20.1f}x'
        )
    ours = runs[-1][1]
    if 'error' not in ours:
        gate = ours['seconds'] < TIME_LIMIT_S and ours['peak_mb'] < MEMORY_LIMIT_MB
        print(
            f'\ngate ({args.rows:,} rows under {TIME_LIMIT_S:.0f} s and {MEMORY_LIMIT_MB:.0f} MB resident): '
            f'{"PASS" if gate else "FAIL"}'
        )
        status = 0 if gate else 1
    return status


if __name__ == '__main__':
    sys.exit(main())
