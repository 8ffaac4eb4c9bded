"""YAML loading that remembers where every value was written, for error messages with line numbers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from aiida_ssb.exceptions import InputError

__all__ = ['Located', 'YamlSyntaxError', 'format_path', 'load_located']

Path = tuple[Any, ...]


class YamlSyntaxError(InputError):
    """The file is not valid YAML."""

    def __init__(self, filename: str, line: int | None, column: int | None, reason: str):
        self.filename, self.line, self.column, self.reason = filename, line, column, reason
        where = filename if line is None else f'{filename}:{line}:{column}'
        super().__init__(f'{where}: {reason}')


@dataclass
class Located:
    """A loaded YAML document and the (line, column) of every mapping key and sequence item, by path."""

    data: Any
    filename: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path, tuple[int, int]]] = field(default_factory=list)

    def position(self, path: Path) -> tuple[int, int] | None:
        """The position of ``path`` or of its nearest written ancestor."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = path[:-1]

    def where(self, path: Path) -> str:
        position = self.position(path)
        if position is None:
            return self.filename
        return f'{self.filename}:{position[0]}:{position[1]}'


def format_path(path: Path) -> str:
    """``('processes', 2, 'inputs', 0)`` -> ``processes[2].inputs[0]``."""
    text = ''
    for part in path:
        if isinstance(part, int):
            text += f'[{part}]'
        else:
            text += f'.{part}' if text else str(part)
    return text


def load_located(path: str | os.PathLike) -> Located:
    """Load one YAML document, recording the position of every key and item. Raises YamlSyntaxError."""
    filename = os.fspath(path)
    try:
        with open(filename, 'rb') as handle:
            raw = handle.read()
    except OSError as exc:
        raise YamlSyntaxError(filename, None, None, f'cannot read the file: {exc.strerror}') from None
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(filename, None, None, f'not UTF-8 text (byte {exc.start})') from None
    return loads_located(text, filename)


def loads_located(text: str, filename: str = '<manifest>') -> Located:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, filename)
        located = Located(None, filename)
        located.data = _build(loader, node, (), located)
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        reason = ' '.join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(filename, line, column, f'YAML syntax error: {reason}') from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(filename, None, None, f'YAML error: {exc}') from None
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, located: Located) -> Any:
    located.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                raise yaml.MarkedYAMLError(
                    'while reading a mapping', node.start_mark, 'found an unhashable key', key_node.start_mark
                )
            child = path + (key,)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                located.duplicates.append((child, position))
            located.positions[child] = position
            result[key] = _build(loader, value_node, child, located)
            located.positions[child] = position
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (index,), located) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
