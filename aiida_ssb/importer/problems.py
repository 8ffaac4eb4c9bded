"""Problems of a manifest, each with its place in the YAML file, collected and reported all at once."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from aiida_ssb.exceptions import InputError
from aiida_ssb.importer.yamlpos import Located, format_path
from aiida_ssb.schemas.base import bare_name, unit_of_field

__all__ = ['Collector', 'ManifestError', 'Path', 'Problem', 'as_list', 'sort_key', 'user_loc', 'written_names']

Path = tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest, with its place."""

    where: str
    path: Path
    message: str

    def __str__(self) -> str:
        location = format_path(self.path)
        return f'{self.where}: {location}: {self.message}' if location else f'{self.where}: {self.message}'


class ManifestError(InputError):
    """A manifest that cannot be imported; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        header = f'{count} problem{"s" if count != 1 else ""} in the manifest (nothing was stored):'
        super().__init__('\n'.join([header] + [f'  {problem}' for problem in problems]))


class Collector:
    """The problems found so far, each placed at the nearest written position of its path."""

    def __init__(self, located: Located):
        self.located = located
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.where(path), tuple(path), message))

    def where(self, path: Path) -> str:
        """``file:line:column`` of a path, following the manifest's shorthands (``diameter`` for
        ``diameter_mm``, ``id`` for ``sample_id``, ``fabrication_pressure`` for ``fabrication[0]``)."""
        path = tuple(path)
        positions = self.located.positions
        if path in positions:
            return self.located.where(path)
        if path and isinstance(path[-1], str) and path[:-1] + (bare_name(path[-1]),) in positions:
            return self.located.where(path[:-1] + (bare_name(path[-1]),))
        if path and isinstance(path[-1], str) and path[-1] == 'sample_id' and path[:-1] + ('id',) in positions:
            return self.located.where(path[:-1] + ('id',))
        for index, part in enumerate(path):  # shorthands: fabrication_pressure stands for fabrication[0]
            if part == 'fabrication' and path[:index] + ('fabrication_pressure',) in positions:
                return self.located.where(path[:index] + ('fabrication_pressure',))
        return self.located.where(path)

    def validate(self, model: type[BaseModel], data: Any, path: Path) -> Any:
        """``model.model_validate(data)``, or None with every validation error added at its place."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                self.add(path + user_loc(tuple(error['loc'])), _message(model, error))
            return None


def _message(model: type[BaseModel], error: ErrorDetails) -> str:
    # pydantic puts union/model-level errors at the parent; keep the useful part of the message
    message = error['msg'].removeprefix('Value error, ')
    kind = error['type']
    if kind == 'extra_forbidden':
        return f'unknown field; known fields: {", ".join(sorted(written_names(model)))}'
    if kind == 'missing':
        return 'required field is missing'
    if kind == 'literal_error':
        return f'{message} (got {error.get("input")!r})'
    if kind == 'finite_number':
        return f'{error.get("input")!r} is not a finite number'
    return message


def user_loc(loc: tuple) -> tuple:
    """Drop pydantic's internal union/validator markers from an error location."""
    return tuple(part for part in loc if not (isinstance(part, str) and ('[' in part or part.startswith('function-'))))


def written_names(model: type[BaseModel]) -> set[str]:
    """The names a manifest may use: ``diameter [mm]`` for quantities, aliases such as ``id``."""
    names = set()
    for name, info in model.model_fields.items():
        unit = unit_of_field(name)
        names.add(f'{bare_name(name)} [{unit}]' if unit else name)
        if info.validation_alias is not None and hasattr(info.validation_alias, 'choices'):
            names.update(str(choice) for choice in info.validation_alias.choices if choice != name)
    return names


def as_list(value: Any, path: Path, problems: Collector, what: str) -> list:
    """A section that must be a list (absent: empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, f'{what} must be a list')
        return []
    return value


def sort_key(problem: Problem) -> tuple[int, int]:
    """Problems in file order (the line and column of their ``where``)."""
    parts = problem.where.rsplit(':', 2)
    try:
        return int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        return 0, 0
