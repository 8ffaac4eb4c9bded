"""Command line: the ``aiida-ssb`` console script and ``verdi data ssb`` (the same click group)."""

from aiida_ssb.cli.root import cmd_ssb, main

__all__ = ['cmd_ssb', 'main']

from aiida_ssb.cli import (
    analysis,  # noqa: F401
    demo,  # noqa: F401
    records,  # noqa: F401  (registers the commands)
    results,  # noqa: F401
    server,  # noqa: F401
    views,  # noqa: F401
    web,  # noqa: F401
)
