"""YAML loading that remembers where every value was written, for error messages with line numbers."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any

import yaml

from aiida_ssb.exceptions import InputError

__all__ = [
    'ALIAS_BUDGET',
    'MAX_DEPTH',
    'MAX_MANIFEST_BYTES',
    'Located',
    'YamlSyntaxError',
    'format_path',
    'load_located',
    'loads_located',
]

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


#: the largest manifest read (bytes); a bigger file is refused before it is read
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
#: deepest nesting of mappings and lists (a manifest needs about 6 levels)
MAX_DEPTH = 64
#: values that aliases (``*name``) may add beyond the document's own; an alias "bomb" exceeds it at once
ALIAS_BUDGET = 100_000

_PLAIN_TAGS = frozenset(
    f'tag:yaml.org,2002:{name}' for name in ('null', 'bool', 'int', 'float', 'str', 'timestamp', 'map', 'seq')
)


def load_located(path: str | os.PathLike[str]) -> Located:
    """Load one YAML document, recording the position of every key and item. Raises YamlSyntaxError.

    Refused with a :class:`YamlSyntaxError` (never a traceback, never minutes of work): files over
    :data:`MAX_MANIFEST_BYTES`, anything but UTF-8 text, control characters, nesting deeper than
    :data:`MAX_DEPTH`, aliases that expand to more than :data:`ALIAS_BUDGET` values, recursive aliases, and
    tags other than YAML's plain ones (``!!python/...`` and custom tags)."""
    filename = os.fspath(path)
    try:
        size = os.stat(filename).st_size
        if not stat.S_ISREG(os.stat(filename).st_mode):
            raise YamlSyntaxError(filename, None, None, 'not a regular file')
        if size > MAX_MANIFEST_BYTES:
            raise YamlSyntaxError(
                filename, None, None, f'{size:,} bytes: a manifest is at most {MAX_MANIFEST_BYTES:,} bytes'
            )
        with open(filename, 'rb') as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise YamlSyntaxError(filename, None, None, f'cannot read the file: {exc.strerror}') from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise YamlSyntaxError(filename, None, None, f'a manifest is at most {MAX_MANIFEST_BYTES:,} bytes')
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(filename, None, None, f'not UTF-8 text (byte {exc.start})') from None
    return loads_located(text, filename)


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader whose composer refuses nesting deeper than :data:`MAX_DEPTH`."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f'nesting deeper than {MAX_DEPTH} levels', event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count('\n', 0, position) + 1
    return line, position - (text.rfind('\n', 0, position) + 1) + 1


def _loader(text: str):
    """A loader of ``text`` whose document nests at most :data:`MAX_DEPTH` levels: libyaml's (C, fast) after a
    pass over the parse events that checks the depth (its composer recurses in C), else the pure-Python one."""
    if not getattr(yaml, '__with_libyaml__', False):
        return _BoundedLoader(text)
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(None, None, f'nesting deeper than {MAX_DEPTH} levels', event.start_mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return yaml.CSafeLoader(text)


def loads_located(text: str, filename: str = '<manifest>') -> Located:
    """:func:`load_located` for text."""
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad:
        line, column = _line_column(text, bad.start())
        reason = f'the control character #x{ord(bad.group()[0]):04x} is not allowed in a manifest'
        raise YamlSyntaxError(filename, line, column, reason)
    loader = None
    try:
        loader = _loader(text)
        node = loader.get_single_node()
        if node is None:
            return Located(None, filename)
        located = Located(None, filename)
        builder = _Builder(loader, located, _count_nodes(node))
        located.data = builder.build(node, ())
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = ' '.join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(
            filename,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            f'YAML syntax error: {reason}',
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(filename, None, None, f'YAML error: {exc}') from None
    except RecursionError:
        raise YamlSyntaxError(filename, None, None, 'aliases or merge keys nested too deeply') from None
    finally:
        if loader is not None:
            loader.dispose()


def _count_nodes(root: yaml.Node) -> int:
    """How many distinct nodes the composed document has (an alias refers to a node already counted)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return len(seen)


class _Builder:
    """Builds the Python data from the composed nodes, recording positions, within a budget of values."""

    def __init__(self, loader: yaml.SafeLoader, located: Located, distinct: int):
        self.loader, self.located = loader, located
        self.budget = distinct + ALIAS_BUDGET
        self.built = 0
        self.ancestors: set[int] = set()

    def _spend(self, node: yaml.Node) -> None:
        self.built += 1
        if self.built > self.budget:
            raise yaml.MarkedYAMLError(
                None,
                None,
                f'aliases expand to more than {ALIAS_BUDGET:,} values beyond the document (an alias bomb?)',
                node.start_mark,
            )

    def _check_tag(self, node: yaml.Node) -> None:
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace('tag:yaml.org,2002:', '!!')
            raise yaml.MarkedYAMLError(
                None,
                None,
                f'the tag {tag!r} is not allowed: a manifest holds plain values (text, numbers, dates, lists, '
                'mappings)',
                node.start_mark,
            )

    def build(self, node: yaml.Node, path: Path) -> Any:
        self._spend(node)
        self.located.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            self._check_tag(node)
            return self.loader.construct_object(node, deep=True)
        if id(node) in self.ancestors:
            raise yaml.MarkedYAMLError(None, None, 'an alias refers to a value that contains it', node.start_mark)
        self._check_tag(node)
        self.ancestors.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        finally:
            self.ancestors.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(
                    'while reading a mapping', node.start_mark, 'a key must be a plain value', key_node.start_mark
                )
            self._spend(key_node)
            self._check_tag(key_node)
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                raise yaml.MarkedYAMLError(
                    'while reading a mapping', node.start_mark, 'found an unhashable key', key_node.start_mark
                )
            child = path + (key,)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                self.located.duplicates.append((child, position))
            self.located.positions[child] = position
            result[key] = self.build(value_node, child)
            self.located.positions[child] = position
        return result
