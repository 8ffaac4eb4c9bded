"""Storing array nodes: aiida-ssb's packed arrays (one ``arrays.npz``) beside AiiDA's ``ArrayData`` (one
``.npy`` per array), in the same run, on a temporary ``core.sqlite_dos`` profile (the storage ``verdi presto``
creates: SQLite database and a disk-objectstore repository).

Two shapes that the analyses really produce: the tables of a cycling summary (50 half-cycle columns of
16 rows, 31 cycle columns of 8 rows) and a measurement record (12 columns of 46,102 rows, the size of the
jdb11 GCPL file). Median of 11 stores after a warm-up; each store is a new node, hashed as AiiDA does for
caching.

    python benchmarks/bench_arrays.py
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

import numpy as np
from bench_import import median_ms  # the same timing rule as the import benchmark


def main() -> int:
    from aiida import load_profile
    from aiida.manage.configuration import create_profile, get_config, reset_config
    from aiida.manage.configuration.settings import AiiDAConfigDir

    with tempfile.TemporaryDirectory(prefix='aiida-ssb-bench-arrays-') as folder:
        # a configuration of its own, switched to as aiida's pytest fixtures do (whatever was loaded before):
        # the user's profiles are not touched
        reset_config()
        AiiDAConfigDir.set(pathlib.Path(folder) / '.aiida')
        profile = create_profile(
            get_config(create=True),
            storage_backend='core.sqlite_dos',
            storage_config={'filepath': str(pathlib.Path(folder) / 'storage')},
            name='bench-arrays',
            email='bench@localhost',
        )
        load_profile(profile.name, allow_switch=True)
        return _compare()


def _compare() -> int:
    from aiida import orm

    from aiida_ssb.data.arrays import CurvesData

    rng = np.random.default_rng(7)
    shapes = {
        'cycling summary tables (81 columns, 8-16 rows)': {
            **{f'half_cycle__c{k}': rng.random(16) for k in range(50)},
            **{f'cycle__c{k}': rng.random(8) for k in range(31)},
        },
        'measurement record (12 columns x 46,102 rows)': {f'column_{k}': rng.random(46_102) for k in range(12)},
    }
    print(f'{"arrays":<48} {"ArrayData":>11} {"packed":>9} {"ratio":>7}')
    ratios = []
    for label, arrays in shapes.items():
        plain = median_ms(lambda: orm.ArrayData(arrays).store())
        packed = median_ms(lambda: CurvesData(arrays).store())
        ratios.append(plain / packed)
        print(f'{label:<48} {plain:>8.1f} ms {packed:>6.1f} ms {plain / packed:>6.1f}x')
        node = CurvesData(arrays).store()
        reread = orm.load_node(node.pk)
        assert all(np.array_equal(reread.get_array(name), values) for name, values in arrays.items())
    gate = min(ratios) >= 1.0
    print(f'gate (packed never slower than one file per array, values read back equal): {"PASS" if gate else "FAIL"}')
    return 0 if gate else 1


if __name__ == '__main__':
    sys.exit(main())
