"""Run every benchmark (``make bench``): each ``bench_*.py`` prints our time beside the peer library's,
measured in the same run, and its accuracy gate. ``python benchmarks/run.py eis cycling`` runs a subset."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    scripts = sorted(HERE.glob('bench_*.py'))
    failures = 0
    for script in scripts:
        name = script.stem.removeprefix('bench_')
        if wanted and name not in wanted:
            continue
        print(f'\n=== {script.name} ' + '=' * max(0, 70 - len(script.name)), flush=True)
        spec = importlib.util.spec_from_file_location(script.stem, script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        start = time.perf_counter()
        try:
            status = module.main([]) if module.main.__code__.co_argcount else module.main()
        except SystemExit as exc:
            status = exc.code
        failures += bool(status)
        print(f'--- {script.name}: {time.perf_counter() - start:.1f} s' + (f', exit status {status}' if status else ''))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
