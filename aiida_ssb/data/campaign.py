"""Campaign groups: everything a manifest imports, in a group of its own label namespace.

A campaign named ``seed001-cells`` is the AiiDA group ``ssb/campaign/seed001-cells`` (type ``core``, so
``verdi group list`` shows it and ``verdi archive create -G ssb/campaign/seed001-cells`` packs it). The prefix
keeps campaigns apart from the sample-id and raw-file registries (their own group types) and from any group a
user made with the bare name: importing campaign ``X`` never adds nodes to someone's group ``X``. Every lookup
matches the type *and* the full label exactly.

A campaign name is one line of printable text of at most :data:`MAX_CAMPAIGN_LENGTH` characters (no control
characters: no newlines, no terminal escape sequences).
"""

from __future__ import annotations

import unicodedata

from aiida import orm

from aiida_ssb.exceptions import InputError

__all__ = [
    'CAMPAIGN_PREFIX',
    'MAX_CAMPAIGN_LENGTH',
    'campaign_group',
    'campaign_groups',
    'campaign_label',
    'campaign_names',
    'check_campaign_name',
    'find_campaign_group',
    'get_or_create_campaign_group',
]

CAMPAIGN_PREFIX = 'ssb/campaign/'
MAX_CAMPAIGN_LENGTH = 100


def check_campaign_name(name: object) -> str:
    """The campaign name, stripped; raises :class:`InputError` (a ValueError) saying what is wrong with it."""
    if not isinstance(name, str):
        raise InputError(f'a campaign name is text, not {type(name).__name__} {name!r}')
    text = name.strip()
    if not text:
        raise InputError('a campaign name must not be empty')
    if len(text) > MAX_CAMPAIGN_LENGTH:
        raise InputError(f'a campaign name has at most {MAX_CAMPAIGN_LENGTH} characters (this one has {len(text)})')
    bad = sorted({char for char in text if unicodedata.category(char) in ('Cc', 'Cf', 'Cs', 'Co', 'Cn', 'Zl', 'Zp')})
    if bad:
        shown = ', '.join(repr(char) for char in bad[:5])
        raise InputError(f'a campaign name is one line of printable text; it contains the control character(s) {shown}')
    return text


def campaign_label(name: str) -> str:
    """The group label of a campaign: ``ssb/campaign/<name>``."""
    return CAMPAIGN_PREFIX + check_campaign_name(name)


def find_campaign_group(name: str) -> orm.Group | None:
    """The group of a campaign, or None."""
    query = orm.QueryBuilder().append(
        orm.Group, filters={'label': campaign_label(name), 'type_string': 'core'}, project='*'
    )
    found = query.all(flat=True)
    return found[0] if found else None


def campaign_group(name: str) -> orm.Group:
    """The group of a campaign; an :class:`InputError` listing the campaigns when there is none."""
    group = find_campaign_group(name)
    if group is None:
        known = campaign_names()
        raise InputError(f'no campaign {name!r}; campaigns: {", ".join(known) or "(none)"}')
    return group


def get_or_create_campaign_group(name: str, description: str | None = None) -> orm.Group:
    """The campaign's group, created when new (with ``description``)."""
    group = find_campaign_group(name)
    if group is None:
        group = orm.Group(label=campaign_label(name), description=str(description or '')).store()
    elif description and not group.description:
        group.description = str(description)
    return group


def campaign_names() -> list[str]:
    """Every campaign name in the profile, sorted."""
    query = orm.QueryBuilder().append(
        orm.Group, filters={'label': {'like': CAMPAIGN_PREFIX + '%'}, 'type_string': 'core'}, project='label'
    )
    return sorted(label[len(CAMPAIGN_PREFIX) :] for label in query.all(flat=True))


def campaign_groups(node: orm.Node) -> list[orm.Group]:
    """The campaign groups (``ssb/campaign/...``) that hold ``node`` (the user's own groups are not campaigns)."""
    query = orm.QueryBuilder().append(orm.Node, filters={'id': node.pk}, tag='node')
    query.append(
        orm.Group,
        with_node='node',
        filters={'type_string': 'core', 'label': {'like': f'{CAMPAIGN_PREFIX}%'}},
        project='*',
    )
    return query.all(flat=True)
