"""The shape of the package's code: no module over MAX_MODULE_LINES lines, no function over MAX_FUNCTION_LINES
lines unless its docstring says why (a line starting with ``Long because:``). Measured with ``ast``: a function
runs from its first decorator (or ``def``) to its last line, nested functions included."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / 'aiida_ssb'
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 150
REASON = 'Long because:'


def _modules() -> list[pathlib.Path]:
    return sorted(PACKAGE.rglob('*.py'))


def long_functions(source: str, name: str) -> list[str]:
    """``name:function (N lines)`` of every function of ``source`` over the limit without a reason."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        length = (node.end_lineno or node.lineno) - first + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        docstring = ast.get_docstring(node) or ''
        if any(line.strip().startswith(REASON) for line in docstring.splitlines()):
            continue
        found.append(f'{name}:{node.name} ({length} lines)')
    return found


def test_the_package_has_modules():
    assert len(_modules()) > 50  # the checks below measure the package, not an empty folder


def test_no_module_over_the_limit():
    long = []
    for path in _modules():
        n_lines = len(path.read_text(encoding='utf-8').splitlines())
        if n_lines > MAX_MODULE_LINES:
            long.append(f'{path.relative_to(PACKAGE.parent)} ({n_lines} lines)')
    assert not long, f'modules over {MAX_MODULE_LINES} lines (split them): {", ".join(long)}'


def test_no_function_over_the_limit_without_a_reason():
    long = [
        entry
        for path in _modules()
        for entry in long_functions(path.read_text(encoding='utf-8'), str(path.relative_to(PACKAGE.parent)))
    ]
    assert not long, (
        f'functions over {MAX_FUNCTION_LINES} lines without a {REASON!r} line in their docstring (split them or '
        f'say why): {", ".join(long)}'
    )


def test_the_measure_finds_a_long_function_and_accepts_a_reason():
    body = '\n'.join(f'    x{i} = {i}' for i in range(MAX_FUNCTION_LINES))
    source = (
        f'@staticmethod\ndef long():\n{body}\n\n\n'
        f'def explained():\n    """A table.\n\n    Long because: one row per element."""\n{body}\n\n\n'
        'def short():\n    return 1\n'
    )
    assert long_functions(source, 'probe.py') == [f'probe.py:long ({MAX_FUNCTION_LINES + 2} lines)']
