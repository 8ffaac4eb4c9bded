"""Generate the aiida-ssb demonstration campaigns.

Usage::

    python -m aiida_ssb.demo_data.generate OUTDIR [--reduced]     (or: python examples/demo/generate.py ...)

writes ``OUTDIR/<campaign>/manifest.yaml`` and ``OUTDIR/<campaign>/raw/*.mpt`` for each campaign, and
``OUTDIR/expected.json`` (the numbers every campaign encodes, and the papers' numbers). The output is
deterministic: the same command writes byte-identical files. ``--reduced`` writes a much smaller set (fewer
temperatures, fewer cycles, coarser sampling) that still encodes every headline number, for tests.

This generator imports nothing of aiida_ssb outside :mod:`aiida_ssb.demo_data`: it is the truth the readers and
analyses are checked against.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiida_ssb.demo_data import __version__, seed000, seed001, seed002, seed004

__all__ = ['CAMPAIGNS', 'generate', 'main']

#: campaign modules in the order they are written
CAMPAIGNS = (seed004, seed000, seed001, seed002)


def _rounded(value: Any, digits: int = 10) -> Any:
    """Floats rounded to ``digits`` significant digits (stable JSON across platforms)."""
    if isinstance(value, float):
        return float(f'{value:.{digits}g}')
    if isinstance(value, dict):
        return {key: _rounded(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item, digits) for item in value]
    return value


def generate(outdir: str | Path, reduced: bool = False) -> list[Path]:
    """Write every campaign under ``outdir``; returns the manifest paths (``outdir/expected.json`` too).

    Writing into a folder of an earlier run replaces its files; ``.mpt`` files of an earlier run that this run
    does not write (the other set) are removed from the campaigns' ``raw`` folders."""
    root = Path(outdir)
    root.mkdir(parents=True, exist_ok=True)
    manifests: list[Path] = []
    expected: dict[str, Any] = {
        'generator': {'package': 'aiida_ssb.demo_data', 'version': __version__, 'reduced': reduced}
    }
    files: dict[str, dict[str, int]] = {}
    for module in CAMPAIGNS:
        manifest, numbers, campaign = module.generate(root, reduced=reduced)
        manifests.append(manifest)
        key = module.__name__.rsplit('.', 1)[-1]
        expected[key] = numbers
        files[campaign.name] = dict(sorted(campaign.sizes.items()))
        for stale in campaign.raw_folder.glob('*.mpt'):  # left by an earlier run of the other set
            if stale.name not in campaign.sizes:
                stale.unlink()
    expected['files'] = {name: {'count': len(sizes), 'bytes': sum(sizes.values())} for name, sizes in files.items()}
    text = json.dumps(_rounded(expected), indent=1, sort_keys=True, ensure_ascii=False) + '\n'
    (root / 'expected.json').write_text(text, encoding='utf-8')
    return manifests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('outdir', help='output folder (created if missing)')
    parser.add_argument('--reduced', action='store_true', help='the small test subset')
    args = parser.parse_args(argv)
    start = time.perf_counter()
    manifests = generate(args.outdir, reduced=args.reduced)
    elapsed = time.perf_counter() - start
    expected = json.loads((Path(args.outdir) / 'expected.json').read_text(encoding='utf-8'))
    total_files = sum(item['count'] for item in expected['files'].values())
    total_bytes = sum(item['bytes'] for item in expected['files'].values())
    for path in manifests:
        summary = expected['files'][path.parent.name]
        print(f'{path}: {summary["count"]} instrument files, {summary["bytes"] / 1e6:.2f} MB')
    print(
        f'total: {total_files} instrument files, {total_bytes / 1e6:.2f} MB in {elapsed:.1f} s '
        f'({"reduced" if args.reduced else "full"} set); expected numbers in {Path(args.outdir) / "expected.json"}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
