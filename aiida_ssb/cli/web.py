"""``serve``: the local, read-only web application over the active profile."""

from __future__ import annotations

import click

from aiida_ssb.cli.root import cmd_ssb
from aiida_ssb.cli.utils import clean_errors


@cmd_ssb.command('serve')
@click.option('--host', default='127.0.0.1', show_default=True, help='Address to listen on (loopback by default).')
@click.option('--port', type=int, default=8050, show_default=True, help='Port to listen on.')
@clean_errors
def cmd_serve(host, port):
    """Browse the lab's records in a web page: the cells and samples tables (filters as --where, sorting, CSV),
    a page per sample (layers, results with their quality and flags, interactive plots, raw files, analysis
    history), the provenance graph (expand by clicking, paths between a lab step and a result) and comparisons.

    Read-only: the page queries the active profile and never changes it. It listens on 127.0.0.1 unless
    --host says otherwise; anyone who can reach the address can read every record.
    """
    from aiida.manage import get_manager

    from aiida_ssb.exceptions import InputError

    try:
        from aiida_ssb.web import is_loopback, serve
    except ImportError as exc:
        raise InputError(f'the web page needs the web extra: pip install "aiida-ssb[web]" ({exc})') from None
    profile = get_manager().get_profile()
    if profile is None:
        raise InputError('no AiiDA profile is loaded: create one (verdi presto) or pass -p PROFILE')
    if not is_loopback(host):
        click.secho(
            f'WARNING: serving on {host}, not on the loopback address: every machine that can reach {host}:{port} '
            'can read every record of this profile (there is no login). Use --host 127.0.0.1 unless you mean it.',
            fg='red',
            bold=True,
            err=True,
        )
    click.echo(f'Serving profile {profile.name!r} read-only on http://{host}:{port}/ (Ctrl+C stops).')
    serve(host=host, port=port, profile_name=profile.name)
