"""Settings of an analysis method: one frozen, validated type per method, the single source of its defaults.

Every analysis method in :mod:`aiida_ssb.analysis` declares its settings as a subclass of :class:`Settings`:
one field per choice that changes the result, with its unit in the name (``window_v``, ``rest_current_ma``),
its default and a one-line description. The same type is used everywhere the analysis is configured:

* the pure function takes ``settings=`` (a :class:`Settings`, a mapping, or ``None`` for the defaults) plus
  keyword overrides, and resolves them with :meth:`Settings.resolve`;
* the result's ``parameters`` is :meth:`Settings.parameters`, so a stored result says how it was made;
* the manifest's ``analysis:`` options, the command line's ``--set SECTION.KEY=VALUE``, the ``options`` input
  of the analysis processes and the docs' option tables all validate against or are generated from the type
  (through :mod:`aiida_ssb.analysis.registry`), so defaults cannot disagree.

Values may be written with units under the field's bare name (``window: [3.0 V, 4.2 V]`` is not supported,
but ``rest_current: 5 uA`` is, for a ``rest_current_ma`` field); NaN and infinities are refused; unknown keys
are refused with the list of known ones.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ConfigDict, ValidationError

from aiida_ssb.exceptions import SettingsError
from aiida_ssb.model import UnitModel, unit_of_field

__all__ = ['OptionRow', 'Settings', 'validation_message']

S = TypeVar('S', bound='Settings')


@dataclasses.dataclass(frozen=True)
class OptionRow:
    """One row of an analysis's option table (docs, ``--help``)."""

    name: str
    type: str
    default: str
    unit: str
    description: str


def validation_message(error: ValidationError, prefix: str = '') -> str:
    """``'window_v: List should have at most 2 items; r2_min: ...'``: a pydantic error, one line per field."""
    parts = []
    for item in error.errors():
        location = '.'.join(str(part) for part in item.get('loc', ()))
        where = f'{prefix}.{location}' if prefix and location else (prefix or location)
        message = item.get('msg', '')
        if message.startswith('Value error, '):
            message = message[len('Value error, ') :]
        parts.append(f'{where}: {message}' if where else message)
    return '; '.join(parts) or str(error)


class Settings(UnitModel):
    """Base of every analysis's settings: frozen, unknown keys refused, units in field names, numbers finite.

    Subclasses declare fields with ``pydantic.Field(default, description=...)`` and, where needed, validators.
    Sequence fields are tuples (the type is frozen; JSON gives lists and they are converted back)."""

    model_config = ConfigDict(
        frozen=True, extra='forbid', str_strip_whitespace=True, allow_inf_nan=False, validate_default=True
    )

    @classmethod
    def resolve(cls: type[S], settings: Settings | Mapping[str, Any] | None = None, /, **overrides: Any) -> S:
        """The settings to use: ``settings`` (an instance of this type, a mapping of its fields, or ``None`` for
        the defaults) with ``overrides`` applied. Raises :class:`~aiida_ssb.exceptions.SettingsError` naming each
        bad field and listing the known ones."""
        if isinstance(settings, cls) and not overrides:
            return settings
        if settings is None:
            values: dict[str, Any] = {}
        elif isinstance(settings, Settings):
            if not isinstance(settings, cls):
                raise SettingsError(f'{cls.__name__} expected, got {settings.__class__.__name__}')
            values = settings.model_dump(exclude_unset=True)
        elif isinstance(settings, Mapping):
            values = dict(settings)
        else:
            raise SettingsError(f'{cls.__name__}: settings must be a mapping, not {type(settings).__name__}')
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            known = ', '.join(cls.model_fields)
            raise SettingsError(f'invalid {cls.__name__}: {validation_message(exc)} (known: {known})') from None

    def parameters(self) -> dict[str, Any]:
        """Every setting as JSON-safe values (absent ones, ``None``, left out): what a result stores."""
        return self.model_dump(mode='json', exclude_none=True)

    def changed(self) -> dict[str, Any]:
        """The settings that differ from their defaults (JSON-safe): what a comparison of two runs shows."""
        current = self.parameters()
        result = {}
        for name, info in type(self).model_fields.items():
            if name not in current:
                continue
            if info.is_required() or _jsonable(info.get_default(call_default_factory=True)) != current[name]:
                result[name] = current[name]
        return result

    def kwargs(self) -> dict[str, Any]:
        """The settings as keyword arguments (Python values, absent ones left out), for the pure functions that
        take them one by one."""
        return {name: value for name, value in self if value is not None}

    @classmethod
    def option_table(cls) -> list[OptionRow]:
        """One :class:`OptionRow` per field, in declaration order."""
        rows = []
        hints = typing.get_type_hints(cls)
        for name, info in cls.model_fields.items():
            if info.is_required():
                default = '(required)'
            else:
                value = info.get_default(call_default_factory=True)
                default = '(absent)' if value is None else repr(_jsonable(value))
            rows.append(
                OptionRow(
                    name=name,
                    type=_type_name(hints.get(name, info.annotation)),
                    default=default,
                    unit='' if name in cls.unitless else (unit_of_field(name) or ''),
                    description=info.description or '',
                )
            )
        return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    return value


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, '__name__', None) if not typing.get_args(annotation) else None
    if isinstance(name, str) and name:
        return name
    text = repr(annotation).replace('typing.', '')
    return text.replace('NoneType', 'None')
