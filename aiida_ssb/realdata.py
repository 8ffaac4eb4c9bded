"""Checks on real instrument files: what the demonstration says beside its paper numbers.

The demonstration's campaigns are generated from the papers' own models, so recovering the papers' numbers from
them is an end-to-end check of the pipeline, not evidence that the analyses are right on real data. The checks
here use genuine exports of real instruments (``../shared/data`` beside a checkout, or the folder named by
``AIIDA_SSB_SHARED_DATA``) and compare with something independent of our code: the instrument's own counters,
the other file format the same instrument wrote. Pure (readers and analyses, no AiiDA).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Callable

import numpy as np

from aiida_ssb.analysis.cycling import summarise_measurement
from aiida_ssb.exceptions import SsbError
from aiida_ssb.parsers import read
from aiida_ssb.parsers.base import ParseError

__all__ = ['RealDataCheck', 'default_shared_folder', 'real_data_checks']


@dataclasses.dataclass
class RealDataCheck:
    """One check on real files: what it compares, the measured discrepancy and whether it is within its bound."""

    name: str
    ok: bool
    detail: str


def default_shared_folder() -> pathlib.Path:
    """``$AIIDA_SSB_SHARED_DATA``, else ``../shared/data`` beside the checkout."""
    configured = os.environ.get('AIIDA_SSB_SHARED_DATA')
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(__file__).resolve().parents[2] / 'shared' / 'data'


def _files_read(folder: pathlib.Path) -> RealDataCheck:
    read_ok, refused = 0, []
    files = sorted(p for p in folder.rglob('*') if p.is_file() and p.name != 'README.md')
    for path in files:
        try:
            read(path)
            read_ok += 1
        except ParseError as exc:
            refused.append(f'{path.name} ({exc.reason})')
        except SsbError as exc:  # an optional reader missing: say so
            refused.append(f'{path.name} ({exc})')
    expected = [item for item in refused if 'no data rows' in item]  # a header-only export: refusing it is right
    ok = len(refused) == len(expected)
    detail = f'{read_ok} of {len(files)} files read'
    if refused:
        detail += '; refused: ' + ', '.join(refused)
    return RealDataCheck('every shared instrument file reads (or is refused for a stated reason)', ok, detail)


def _capacity_vs_counter(folder: pathlib.Path) -> RealDataCheck | None:
    path = folder / 'biologic' / 'jdb11-1_c3_gcpl_5cycles_2V-3p8V_C-24_data_C09.mpr'
    if not path.is_file():
        return None

    try:
        arrays = summarise_measurement(read(path)).arrays()
    except SsbError as exc:
        return RealDataCheck('capacity vs the cycler counter', False, str(exc))
    ours = np.asarray(arrays['half_cycle__capacity_mah'], dtype=float)
    counter = np.asarray(arrays['half_cycle__capacity_instrument_mah'], dtype=float)
    usable = np.isfinite(counter) & (counter > 0)
    worst = float(np.max(np.abs(ours[usable] / counter[usable] - 1))) if usable.any() else float('nan')
    return RealDataCheck(
        "integrated capacity of a 46,102-row GCPL record vs the cycler's own counter",
        bool(usable.any() and worst < 1e-4),
        f'{int(usable.sum())} half cycles, largest relative difference {worst:.1e} (bound 1e-4)',
    )


def _twins(folder: pathlib.Path) -> RealDataCheck | None:
    pairs = sorted(p for p in (folder / 'biologic').glob('*.mpt') if p.with_suffix('.mpr').is_file())
    if not pairs:
        return None
    compared, worst, failures = 0, 0.0, []
    for text in pairs:
        try:
            a, b = read(text), read(text.with_suffix('.mpr'))
        except SsbError as exc:
            if 'no data rows' not in str(exc):
                failures.append(f'{text.stem}: {exc}')
            continue
        for name in sorted(set(a.columns) & set(b.columns)):
            x, y = np.asarray(a.columns[name], dtype=float), np.asarray(b.columns[name], dtype=float)
            if x.shape != y.shape:
                failures.append(f'{text.stem}.{name}: {x.size} vs {y.size} rows')
                continue
            scale = max(float(np.nanmax(np.abs(y))) if y.size else 0.0, 1e-12)
            worst = max(worst, float(np.nanmax(np.abs(x - y))) / scale if y.size else 0.0)
        compared += 1
    return RealDataCheck(
        'EC-Lab text (.mpt) and binary (.mpr) exports of the same records agree',
        not failures and worst < 1e-5,
        f'{compared} twin pairs, largest difference {worst:.1e} of the column range (bound 1e-5)'
        + (f'; {"; ".join(failures)}' if failures else ''),
    )


CHECKS: list[Callable[[pathlib.Path], RealDataCheck | None]] = [_files_read, _capacity_vs_counter, _twins]


def real_data_checks(folder: pathlib.Path | None = None) -> list[RealDataCheck] | None:
    """The checks on the real files in ``folder`` (default :func:`default_shared_folder`); None when it is absent."""
    folder = folder or default_shared_folder()
    if not folder.is_dir():
        return None
    return [check for check in (function(folder) for function in CHECKS) if check is not None]
