"""Small helpers on AiiDA nodes shared by the layers above ``data``."""

from __future__ import annotations

from aiida import orm

__all__ = ['pk_of']


def pk_of(node: orm.Node | orm.Group) -> int:
    """The pk of a stored node (AiiDA types ``pk`` as optional because an unstored node has none)."""
    pk = node.pk
    if pk is None:
        raise ValueError(f'{node!r} is not stored: it has no pk')
    return pk
