"""The root click group, built on AiiDA's verdi group so ``-p/--profile`` and ``-v`` work as in verdi."""

from __future__ import annotations

import click
from aiida.cmdline.groups import VerdiCommandGroup
from aiida.cmdline.params import options, types


@click.group('ssb', cls=VerdiCommandGroup, context_settings={'help_option_names': ['-h', '--help']})
@options.PROFILE(type=types.ProfileParamType(load_profile=True), expose_value=False)
def cmd_ssb():
    """aiida-ssb: solid-state-battery lab records, measurements and analyses as AiiDA provenance."""


def main():
    """Entry point of the ``aiida-ssb`` console script."""
    cmd_ssb()
