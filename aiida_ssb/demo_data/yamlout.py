"""A small, deterministic YAML writer for the manifests (standard library only).

Top-level sections are block mappings/sequences; short mappings and lists are written in flow style
(``{id: X, role: electrolyte}``) like the hand-written manifests. Strings are plain where that is safe and
double-quoted otherwise; floats always carry a decimal point so that every YAML loader reads them as floats.
``Comment`` items inside a list become ``# ...`` lines.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ['Comment', 'dump']

_PLAIN = re.compile(r'^[A-Za-z0-9_(][A-Za-z0-9 _./()+\-%*]*$')
_RESERVED = {'true', 'false', 'yes', 'no', 'on', 'off', 'null', 'y', 'n', '~'}
_NUMBER = re.compile(r'^[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?$')
_DATE = re.compile(r'^\d{4}-\d\d-\d\d')
FLOW_WIDTH = 116


@dataclass(frozen=True)
class Comment:
    """A comment line inside a list."""

    text: str


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f'cannot write {value!r} in a manifest')
        text = format(value, '.10g')
        mantissa, _, exponent = text.partition('e')
        if '.' not in mantissa:
            mantissa += '.0'
        return mantissa + ('e' + exponent if exponent else '')
    if isinstance(value, str):
        stripped = value.strip()
        if (
            value == stripped
            and value
            and _PLAIN.match(value)
            and value.lower() not in _RESERVED
            and not _NUMBER.match(value)
            and not _DATE.match(value)
        ):
            return value
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f'cannot write {type(value).__name__} in a manifest')


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        items = [f'{key}: {_flow(item)}' for key, item in value.items() if item is not None]
        return '{' + ', '.join(items) + '}'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_flow(item) for item in value) + ']'
    return _scalar(value)


def _is_simple(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _block(value: Any, indent: int) -> list[str]:
    """Lines for ``value`` written as a block at ``indent`` spaces (for mapping values and list items)."""
    pad = ' ' * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                continue
            if _is_simple(item):
                lines.append(f'{pad}{key}: {_scalar(item)}')
                continue
            flow = _flow(item)
            if len(pad) + len(str(key)) + 2 + len(flow) <= FLOW_WIDTH:
                lines.append(f'{pad}{key}: {flow}')
            else:
                lines.append(f'{pad}{key}:')
                lines.extend(_block(item, indent + 2))
        return lines
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, Comment):
                lines.append(f'{pad}# {item.text}')
                continue
            if _is_simple(item):
                lines.append(f'{pad}- {_scalar(item)}')
                continue
            flow = _flow(item)
            if len(pad) + 2 + len(flow) <= FLOW_WIDTH:
                lines.append(f'{pad}- {flow}')
                continue
            inner = _block(item, indent + 2)
            inner[0] = f'{pad}- ' + inner[0][indent + 2 :]
            lines.extend(inner)
        return lines
    return [pad + _scalar(value)]


def dump(document: dict[str, Any], header: list[str] | None = None) -> str:
    """The YAML text of ``document`` (a mapping), with ``header`` comment lines on top."""
    lines = [f'# {line}' if line else '#' for line in (header or [])]
    for key, value in document.items():
        if value is None:
            continue
        if _is_simple(value):
            lines.append(f'{key}: {_scalar(value)}')
        else:
            lines.append(f'{key}:')
            lines.extend(_block(value, 2))
    return '\n'.join(lines) + '\n'
