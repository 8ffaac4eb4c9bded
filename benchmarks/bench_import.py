"""Reading a large instrument file and turning it into a measurement node, beside the reference reader.

The 46,102-row BioLogic GCPL file of ``../shared/data/biologic`` is read by galvani (the reference library,
which maps the binary records and stops there), by our reader (canonical columns and units), turned into a
``CyclingData`` node and stored, and finally imported end to end (raw file kept verbatim, parse process,
provenance links), all in a temporary in-memory AiiDA profile. Median of 11 runs after a warm-up.

    python benchmarks/bench_import.py
"""

from __future__ import annotations

import math
import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
FILE = HERE.parents[1] / 'shared' / 'data' / 'biologic' / 'jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr'


def median_ms(function, runs: int = 11) -> float:
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def main() -> int:
    if not FILE.is_file():
        print(f'skipped: {FILE} is not available')
        return 0
    from aiida import load_profile
    from aiida.storage.sqlite_temp.backend import SqliteTempBackend

    load_profile(SqliteTempBackend.create_profile('bench-import'), allow_switch=True)
    from aiida_ssb.calculations.record import assemble_cell
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.measurements import CyclingData
    from aiida_ssb.importer.measurements import import_file
    from aiida_ssb.parsers import read

    MaterialData({'id': 'B-SE', 'role': 'electrolyte'}).store()
    MaterialData({'id': 'B-NA', 'role': 'metal_foil'}).store()
    assemble_cell(
        {
            'id': 'B-CELL',
            'format': 'symmetric',
            'diameter': '10 mm',
            'layers': [
                {'role': 'negative', 'material': 'B-NA'},
                {'role': 'electrolyte', 'material': 'B-SE'},
                {'role': 'negative', 'material': 'B-NA'},
            ],
        }
    )

    rows = []
    try:
        from galvani import BioLogic

        rows.append(
            ('galvani MPRfile (reference: binary records only)', median_ms(lambda: BioLogic.MPRfile(str(FILE))))
        )
    except ImportError:
        rows.append(('galvani MPRfile (not installed: pip install aiida-ssb[mpr])', float('nan')))
    measurement = read(FILE)
    rows.append(('aiida-ssb read (canonical columns, units, metadata)', median_ms(lambda: read(FILE))))
    rows.append(
        ('read + CyclingData node, stored', median_ms(lambda: CyclingData(read(FILE), sample_id='B-CELL').store()))
    )

    # end to end: the same bytes are imported only once (SHA-256 deduplication), so warm up on another file
    # and time the first import of this one
    warm = FILE.with_name('gcpl.pr_182.1.mpr')
    if warm.is_file():
        import_file(warm, 'B-CELL', technique='galvanostatic_cycling')
    start = time.perf_counter()
    import_file(FILE, 'B-CELL', technique='galvanostatic_cycling', temperature='25 degC')
    rows.append(
        ('end-to-end import-file, once (raw kept, parse process, links)', 1000.0 * (time.perf_counter() - start))
    )
    print(f'{FILE.name}: {measurement.n_rows} rows, technique {measurement.technique}\n')
    print(f'{"step":<58} {"median":>10}')
    for name, ms in rows:
        print(f'{name:<58} {ms:>8.1f} ms')
    reference = rows[0][1]
    ours = rows[1][1]
    if not math.isnan(reference):
        print(
            f'\nours / galvani = {ours / reference:.1f}x (galvani only maps the binary records; ours builds the '
            'contiguous canonical columns)'
        )
    gate = rows[2][1] < 1000.0
    print(f'gate (read + node conversion well under a second): {"PASS" if gate else "FAIL"}')
    return 0 if gate else 1


if __name__ == '__main__':
    sys.exit(main())
