"""Run every benchmark (``make bench``): each ``bench_*.py`` prints our time beside the peer library's, measured in
the same run, and its accuracy gate. ``python benchmarks/run.py eis cycling`` runs a subset; options such as ``--quick`` are
passed to the benchmarks that know them.

Each benchmark runs in its own process with its own AiiDA configuration folder (a fresh temporary
``AIIDA_PATH``), so one cannot leave the configuration of the next one (or the user's) changed; a benchmark
that fails is reported with its exit status and the others still run. The summary at the end lists each one's
status and wall time, and the machine it ran on.
"""

from __future__ import annotations

import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f'{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}'
    )


def run_one(script: pathlib.Path, extra: list[str]) -> tuple[int, float]:
    """Run one benchmark script in a subprocess with a private AiiDA configuration folder."""
    folder = tempfile.mkdtemp(prefix=f'aiida-ssb-{script.stem}-')
    env = dict(os.environ, AIIDA_PATH=folder, MPLBACKEND='Agg')
    env.pop('AIIDA_PROFILE', None)
    start = time.perf_counter()
    try:
        status = subprocess.run([sys.executable, str(script), *extra], env=env, check=False).returncode
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return status, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra = [arg for arg in args if arg.startswith('--')]
    wanted = {arg for arg in args if not arg.startswith('--')}
    scripts = [s for s in sorted(HERE.glob('bench_*.py')) if not wanted or s.stem.removeprefix('bench_') in wanted]
    print(f'machine: {_machine()}; {time.strftime("%Y-%m-%d %H:%M")}', flush=True)
    results = []
    for script in scripts:
        print(f'\n=== {script.name} ' + '=' * max(0, 70 - len(script.name)), flush=True)
        text = script.read_text()
        status, seconds = run_one(script, [arg for arg in extra if arg.split('=')[0] in text])
        results.append((script.name, status, seconds))
        print(f'--- {script.name}: {seconds:.1f} s' + (f', exit status {status}' if status else ''), flush=True)
    print('\n=== summary ' + '=' * 62)
    for name, status, seconds in results:
        print(f'{name:<28} {"ok" if status == 0 else f"FAILED ({status})":<12} {seconds:8.1f} s')
    return 1 if any(status for _, status, _ in results) else 0


if __name__ == '__main__':
    sys.exit(main())
