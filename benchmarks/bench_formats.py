"""Reading speed of the newer readers beside the peer library that reads the same file, in the same run.

* BDF (Battery Data Format) CSV, 200,000 rows written by aiida-ssb from a generated GCPL record: our
  ``read`` beside the reference package's ``bdf.read`` (``pip install batterydf``; skipped when absent);
* the same record as a Neware BTS CSV export (record layout): our ``read`` beside ``bdf.read`` (the reference
  package's neware-csv plugin);
* the same GCPL record as an EC-Lab ``.mpt``: our streaming reader beside galvani's ``MPTfile`` (the GPL-3
  reference we wrap for ``.mpr``; it wants CRLF line ends and reads every column) and pandas' C reader on
  the same bytes with no checks at all (the floor).

Median of 5 runs after a warm-up. ``python benchmarks/bench_formats.py [--rows N]``
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def median_s(function, runs: int = 5) -> float:
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    from bench_large_import import generate_mpt

    from aiida_ssb.parsers import read
    from aiida_ssb.parsers.bdf import write_bdf

    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=200_000)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    rows = []
    with tempfile.TemporaryDirectory(prefix='aiida-ssb-bench-formats-') as folder:
        mpt = pathlib.Path(folder) / 'gcpl.mpt'
        generate_mpt(mpt, args.rows)
        record = read(mpt)
        bdf_path, _ = write_bdf(record, pathlib.Path(folder) / 'gcpl.bdf.csv', extra_columns=False)
        ours_bdf = median_s(lambda: read(bdf_path))
        rows.append(('BDF CSV: aiida-ssb read', ours_bdf, ''))
        try:
            import bdf

            rows.append(('BDF CSV: batterydf bdf.read (reference)', median_s(lambda: bdf.read(bdf_path)), ''))
            frame = bdf.read(bdf_path)
            same = np.allclose(frame['Voltage / V'].to_numpy(), read(bdf_path)['voltage_v'])
            rows[-1] = (rows[-1][0], rows[-1][1], 'same voltages' if same else 'DIFFERENT voltages')
        except ImportError:
            rows.append(('BDF CSV: batterydf (not installed: pip install batterydf)', float('nan'), ''))
        neware = pathlib.Path(folder) / 'neware.csv'
        _write_neware(record, neware)
        rows.append(('Neware BTS CSV: aiida-ssb read', median_s(lambda: read(neware)), ''))
        try:
            import bdf

            rows.append(('Neware BTS CSV: batterydf bdf.read (reference)', median_s(lambda: bdf.read(neware)), ''))
        except ImportError:
            rows.append(('Neware BTS CSV: batterydf (not installed)', float('nan'), ''))
        except Exception as exc:  # the reference's own plugin detection may refuse
            rows.append((f'Neware BTS CSV: batterydf failed ({type(exc).__name__})', float('nan'), ''))
        rows.append(('EC-Lab .mpt: aiida-ssb read (streaming)', median_s(lambda: read(mpt)), ''))
        try:
            from galvani import BioLogic

            rows.append(('EC-Lab .mpt: galvani MPTfile', median_s(lambda: BioLogic.MPTfile(str(mpt))), ''))
        except ImportError:
            rows.append(('EC-Lab .mpt: galvani (not installed)', float('nan'), ''))
        except Exception as exc:  # galvani's text reader is strict about headers
            rows.append((f'EC-Lab .mpt: galvani failed ({type(exc).__name__})', float('nan'), ''))
        import io

        import pandas as pd

        data = mpt.read_bytes()
        offset = data.index(b'mode\t')
        offset = data.index(b'\n', offset) + 1
        rows.append(
            (
                'EC-Lab .mpt: pandas read_csv, no checks (floor)',
                median_s(lambda: pd.read_csv(io.BytesIO(data[offset:]), sep='\t', header=None, index_col=False)),
                '',
            )
        )
    print(f'{args.rows:,} rows\n\n{"reader":<52} {"median":>9}')
    for name, seconds, note in rows:
        print(f'{name:<52} {seconds * 1000:>7.0f} ms  {note}')
    return 0


def _write_neware(record, path: pathlib.Path) -> None:
    """The record as a Neware BTS 8 CSV export (record layout, h:mm:ss step times)."""
    import numpy as np
    import pandas as pd

    time = record['time_s']
    steps = record['step_index'] if 'step_index' in record else np.zeros(time.size, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(steps)) + 1))
    begin = np.repeat(time[starts], np.diff(np.concatenate((starts, [time.size]))))
    step_time = time - begin
    hours = (step_time // 3600).astype(int)
    clock = [f'{h}:{int(m):02d}:{s:06.3f}' for h, m, s in zip(hours, step_time % 3600 // 60, step_time % 60)]
    kinds = np.where(record['current_ma'] > 0, 'CC Chg', np.where(record['current_ma'] < 0, 'CC DChg', 'Rest'))
    pd.DataFrame(
        {
            'DataPoint': np.arange(1, time.size + 1),
            'Cycle Index': record['cycle_index'] + 1 if 'cycle_index' in record else 1,
            'Step Index': steps,
            'Step Type': kinds,
            'Time': clock,
            'Total Time(s)': time,
            'Current(A)': record['current_ma'] / 1000,
            'Voltage(V)': record['voltage_v'],
        }
    ).to_csv(path, index=False)


if __name__ == '__main__':
    sys.exit(main())
