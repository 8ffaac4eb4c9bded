"""The local, read-only web application (``aiida-ssb serve``): the cells and samples tables, a page per sample,
the browsable provenance graph, comparisons. Built on :mod:`aiida_ssb.query` and the plot data, never on the
command line. Needs the ``web`` extra (``pip install aiida-ssb[web]``: dash, dash-ag-grid, dash-cytoscape,
plotly)."""

from __future__ import annotations

import ipaddress

from aiida_ssb.web.app import create_app as _create

__all__ = ['create_app', 'is_loopback', 'serve']


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(profile_name: str = ''):
    """The Dash application over the loaded profile."""

    return _create(profile_name)


def serve(host: str = '127.0.0.1', port: int = 8050, profile_name: str = '') -> None:
    """Serve the application until interrupted. One request at a time (AiiDA's storage session is not shared
    between threads); never in debug mode (no code reloading, no debugger endpoint)."""
    app = create_app(profile_name)
    app.run(host=host, port=port, debug=False, dev_tools_ui=False, dev_tools_hot_reload=False, threaded=False)
