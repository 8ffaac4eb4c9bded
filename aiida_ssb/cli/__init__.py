"""Command line: the ``aiida-ssb`` console script and ``verdi data ssb`` (the same click group)."""

from aiida_ssb.cli.root import cmd_ssb, main

__all__ = ['cmd_ssb', 'main']

from aiida_ssb.cli import records  # noqa: E402,F401  (registers the commands)
from aiida_ssb.cli import demo  # noqa: E402,F401
from aiida_ssb.cli import analysis  # noqa: E402,F401
from aiida_ssb.cli import views  # noqa: E402,F401
from aiida_ssb.cli import server  # noqa: E402,F401
