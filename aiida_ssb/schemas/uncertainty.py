"""Stated uncertainties of geometry: ``thickness: 500 um +- 10 um`` -> ``thickness_um: 500``,
``thickness_uncertainty_um: 10``.

Accepted forms (``+-``, ``+/-`` or ``±``; the unit written once applies to both numbers): ``500 um +- 10 um``,
``500 +- 10 um``, ``500 um +- 10``, ``(500 +- 10) um``. The uncertainty is one standard uncertainty (what the
lab states), in the unit of the value's field; it carries into conductivities and their intervals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ['UNCERTAIN_FIELDS', 'split_stated_uncertainties', 'split_uncertainty']

#: field base names whose value may carry a stated uncertainty
UNCERTAIN_FIELDS = ('thickness', 'diameter', 'area')

_PM = re.compile(r'\s*(?:\+/-|\+-|±)\s*')
_NUMBER = re.compile(r'^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$')


def split_uncertainty(value: Any) -> tuple[str, str] | None:
    """``'500 um +- 10 um'`` -> ``('500 um', '10 um')``; None when the value states no uncertainty."""
    if not isinstance(value, str) or not _PM.search(value):
        return None
    text = value.strip()
    outer = ''
    grouped = re.match(r'^\((.*)\)\s*(.*)$', text)
    if grouped:
        text, outer = grouped.group(1), grouped.group(2).strip()
    parts = _PM.split(text)
    if len(parts) != 2:
        raise ValueError(f'cannot read {value!r}: write VALUE +- UNCERTAINTY, e.g. "500 um +- 10 um"')
    main, spread = (_NUMBER.match(part) for part in parts)
    if not main or not spread:
        raise ValueError(f'cannot read {value!r}: write VALUE +- UNCERTAINTY, e.g. "500 um +- 10 um"')
    unit = main.group(2) or spread.group(2) or outer
    if main.group(2) and spread.group(2) and outer:
        raise ValueError(f'cannot read {value!r}: the unit is written twice')
    return f'{main.group(1)} {main.group(2) or unit}'.strip(), f'{spread.group(1)} {spread.group(2) or unit}'.strip()


def split_stated_uncertainties(data: Any, suffixes: Mapping[str, str]) -> Any:
    """A model's input with ``FIELD: 'v +- u'`` split into the value and ``FIELD_uncertainty`` (same suffix
    style: ``thickness`` -> ``thickness_uncertainty``, ``thickness_um`` -> ``thickness_uncertainty_um``).
    ``suffixes``: base name -> unit suffix of the field (``{'thickness': '_um'}``)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for base, suffix in suffixes.items():
        for key, target in ((base, f'{base}_uncertainty'), (base + suffix, f'{base}_uncertainty{suffix}')):
            split = split_uncertainty(data.get(key))
            if split is None:
                continue
            if f'{base}_uncertainty' in data or f'{base}_uncertainty{suffix}' in data:
                raise ValueError(f'{key}: the uncertainty is given twice')
            data[key], data[target] = split
    return data
