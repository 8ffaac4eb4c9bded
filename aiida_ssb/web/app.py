"""The Dash application: navigation, routing, and the two plain GET routes (CSV of a table, a raw file).

Read-only by construction: the page's callbacks only query (through :mod:`aiida_ssb.query`), the Flask routes
answer GET only, nothing stores, deletes or changes a node. User text (filters, sample ids in URLs) goes through
:func:`~aiida_ssb.query.tables.parse_filter` (a regular expression, numbers and units, no evaluator) or is
used as a value in a database filter; it reaches the page only as text, which React escapes.
"""

from __future__ import annotations

import io
import pathlib
import urllib.parse

import dash
import flask
from aiida import orm
from aiida.manage import get_manager
from dash import Input, Output, dcc, html

from aiida_ssb.exceptions import SsbError
from aiida_ssb.query.paging import TABLES, table_frame
from aiida_ssb.web import compare, graph, sample, tables

__all__ = ['create_app']

ASSETS = pathlib.Path(__file__).resolve().parent / 'assets'


def _topbar(profile_name: str):
    return html.Div(
        [
            html.Span('aiida-ssb', className='brand'),
            html.A('Cells', href='/cells', id='nav-cells'),
            html.A('Samples', href='/samples', id='nav-samples'),
            html.A('Compare', href='/compare', id='nav-compare'),
            html.Span(f'profile {profile_name} · read-only', className='profile'),
        ],
        className='topbar',
    )


def _route(pathname: str | None, search: str | None):
    path = pathname or '/'
    query = urllib.parse.parse_qs((search or '').lstrip('?'))
    if path in ('/', '/cells'):
        return tables.layout('cells', query)
    if path == '/samples':
        return tables.layout('samples', query)
    if path.startswith('/sample/'):
        return sample.layout(urllib.parse.unquote(path[len('/sample/') :]))
    if path.startswith('/graph/'):
        return graph.layout(urllib.parse.unquote(path[len('/graph/') :]))
    if path == '/compare':
        ids = [item for value in query.get('cells', []) for item in value.split(',') if item]
        return compare.layout(ids)
    return html.Div([html.H1('Not found'), html.P(f'No page at {path}.')])


def create_app(profile_name: str = '') -> dash.Dash:
    """The web application over the loaded AiiDA profile."""
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        title='aiida-ssb',
        update_title=None,  # type: ignore[arg-type]  # Dash documents None (no "Updating..." title); its hint says str
        serve_locally=True,
    )
    app.layout = html.Div(
        [
            dcc.Location(id='url', refresh=False),
            _topbar(profile_name),
            html.Div(id='page', className='page'),
        ]
    )

    @app.callback(Output('page', 'children'), Input('url', 'pathname'), Input('url', 'search'))
    def render(pathname, search):
        return _route(pathname, search)

    tables.register(app)
    sample.register(app)
    graph.register(app)
    compare.register(app)
    _routes(app.server)
    return app


def _routes(server) -> None:
    """The GET downloads: a table as CSV (the filters and columns of the page) and a raw instrument file."""

    @server.before_request
    def fresh_view():
        """Each request sees what other processes stored since the last one (end the read transaction)."""

        storage = get_manager().get_profile_storage()
        session = getattr(storage, 'get_session', None)
        if session is not None:
            session().rollback()

    @server.route('/download/<table>.csv', methods=['GET'])
    def download_table(table):
        if table not in TABLES:
            flask.abort(404)
        where = [line for line in flask.request.args.getlist('where') if line.strip()]
        columns = [c for c in flask.request.args.get('columns', '').split(',') if c] or None
        sort = flask.request.args.get('sort') or None
        descending = flask.request.args.get('desc') == '1'
        try:
            frame = table_frame(table, filters=where, columns=columns, sort=sort, descending=descending)
        except SsbError as exc:
            return flask.Response(f'Error: {exc}\n', status=400, mimetype='text/plain')
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        return flask.Response(
            buffer.getvalue(),
            mimetype='text/csv',
            headers={'Content-Disposition': f'attachment; filename="{table}.csv"'},
        )

    @server.route('/download/raw/<uuid>', methods=['GET'])
    def download_raw(uuid):
        found = orm.QueryBuilder().append(orm.SinglefileData, filters={'uuid': uuid}, project='*').first(flat=True)
        if found is None:
            flask.abort(404)
        with found.open(mode='rb') as handle:
            content = handle.read()
        name = urllib.parse.quote(found.filename)
        return flask.Response(
            content,
            mimetype='application/octet-stream',
            headers={'Content-Disposition': f"attachment; filename*=UTF-8''{name}"},
        )
