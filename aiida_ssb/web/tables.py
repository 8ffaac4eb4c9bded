"""The cells and samples tables: filters in the ``--where`` language, column choice, sorting, paging in the
database (AG Grid's infinite row model asks for one page at a time), CSV download, a link per row."""

from __future__ import annotations

import urllib.parse

import dash_ag_grid as dag
from dash import ALL, Input, Output, State, dcc, html, no_update

from aiida_ssb.exceptions import SsbError
from aiida_ssb.query import tables
from aiida_ssb.query.paging import table_fields, table_page
from aiida_ssb.query.tables import parse_filter

PAGE_SIZE = 50


def _column_defs(columns: list[str]) -> list[dict]:
    defs = []
    for name in columns:
        column = {'field': name, 'headerName': name, 'sortable': True, 'resizable': True, 'minWidth': 110}
        if name == 'sample_id':
            column.update({'cellRenderer': 'SampleLink', 'pinned': 'left', 'minWidth': 150})
        else:
            column['valueFormatter'] = {'function': 'ssbNumber(params.value)'}
        defs.append(column)
    return defs


def _grid(table: str, columns: list[str], sort: str | None, descending: bool, version: int):
    column_defs = _column_defs(columns)
    if sort:
        for column in column_defs:
            if column['field'] == sort:
                column['sort'] = 'desc' if descending else 'asc'
    return dag.AgGrid(
        id={'type': 'ssb-grid', 'table': table, 'version': version},
        columnDefs=column_defs,
        rowModelType='infinite',
        dashGridOptions={
            'pagination': True,
            'paginationPageSize': PAGE_SIZE,
            'paginationPageSizeSelector': False,
            'cacheBlockSize': PAGE_SIZE,
            'maxBlocksInCache': 4,
            'infiniteInitialRowCount': 1,
            'rowBuffer': 0,
            'suppressMultiSort': True,
        },
        defaultColDef={'filter': False},
        style={'height': '620px'},
        className='ag-theme-alpine',
    )


def _defaults(table: str) -> list[str]:
    return list(tables.DEFAULT_CELL_COLUMNS if table == 'cells' else tables.DEFAULT_SAMPLE_COLUMNS)


def _csv_link(table: str, state: dict) -> str:
    query = [('where', line) for line in state.get('where', [])]
    query.append(('columns', ','.join(state.get('columns', []))))
    if state.get('sort'):
        query.append(('sort', state['sort']))
        if state.get('desc'):
            query.append(('desc', '1'))
    return f'/download/{table}.csv?' + urllib.parse.urlencode(query)


def layout(table: str, query: dict):
    fields = table_fields(table)
    where = [line for value in query.get('where', []) for line in value.splitlines() if line.strip()]
    columns = [c for value in query.get('columns', []) for c in value.split(',') if c] or _defaults(table)
    example = (
        'capacity_retention_percent_at_end >= 80\nelectrolyte.ball_milling.duration_min >= 45'
        if table == 'cells'
        else 'role == electrolyte\nconductivity_25c_s_cm > 1e-3'
    )
    state = {'table': table, 'where': where, 'columns': columns, 'sort': None, 'desc': False, 'version': 0}
    return html.Div(
        [
            html.H1('Cells' if table == 'cells' else 'Samples (materials)'),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label('Filters, one per line: FIELD OP VALUE (as aiida-ssb --where)'),
                            dcc.Textarea(
                                id='table-where', value='\n'.join(where), placeholder=example, className='where'
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.Label('Columns'),
                            dcc.Dropdown(
                                id='table-columns',
                                options=[{'label': name, 'value': name, 'title': text} for name, text in fields.items()]
                                + [{'label': c, 'value': c} for c in columns if c not in fields],
                                value=columns,
                                multi=True,
                                style={'width': '520px'},
                            ),
                            html.Label('Lineage columns, comma-separated (e.g. electrolyte.ball_milling.duration_min)'),
                            dcc.Input(id='table-lineage', type='text', className='text', debounce=False),
                        ]
                    ),
                    html.Div(
                        [
                            html.Button('Apply', id='table-apply', n_clicks=0),
                            html.A(
                                'Download CSV',
                                id='table-csv',
                                href=_csv_link(table, state),
                                className='button',
                                style={'marginLeft': '8px'},
                            ),
                        ]
                    ),
                ],
                className='controls card',
            ),
            html.Div(id='table-error'),
            html.Div(id='table-status', className='status'),
            dcc.Store(id='table-state', data=state),
            html.Div(_grid(table, columns, None, False, 0), id='table-grid-holder'),
        ]
    )


def register(app) -> None:
    @app.callback(
        Output('table-state', 'data'),
        Output('table-grid-holder', 'children'),
        Output('table-error', 'children'),
        Output('table-csv', 'href'),
        Input('table-apply', 'n_clicks'),
        State('table-where', 'value'),
        State('table-columns', 'value'),
        State('table-lineage', 'value'),
        State('table-state', 'data'),
        prevent_initial_call=True,
    )
    def apply(_clicks, where_text, columns, lineage, state):
        where = [line.strip() for line in (where_text or '').splitlines() if line.strip()]
        chosen = list(columns or []) + [c.strip() for c in (lineage or '').split(',') if c.strip()]
        chosen = chosen or _defaults(state['table'])
        try:  # the filtered fields are shown beside the sample id, as the command line does
            fields = [parse_filter(line).field for line in where]
        except SsbError as exc:
            return no_update, no_update, html.Div(str(exc), className='error'), no_update
        chosen = list(dict.fromkeys(['sample_id'] + fields + chosen))
        try:  # validate now, so the error shows beside the filters instead of an empty grid
            table_page(state['table'], filters=where, columns=chosen, limit=1)
        except SsbError as exc:
            return no_update, no_update, html.Div(str(exc), className='error'), no_update
        state = dict(state, where=where, columns=chosen, sort=None, desc=False, version=state['version'] + 1)
        grid = _grid(state['table'], chosen, None, False, state['version'])
        return state, grid, None, _csv_link(state['table'], state)

    @app.callback(
        Output({'type': 'ssb-grid', 'table': ALL, 'version': ALL}, 'getRowsResponse'),
        Output('table-status', 'children'),
        Output('table-csv', 'href', allow_duplicate=True),
        Input({'type': 'ssb-grid', 'table': ALL, 'version': ALL}, 'getRowsRequest'),
        State('table-state', 'data'),
        prevent_initial_call=True,
    )
    def rows(requests, state):
        request = next((r for r in requests if r), None)
        if request is None or state is None:
            return [no_update] * len(requests), no_update, no_update
        sort_model = request.get('sortModel') or []
        sort = sort_model[0]['colId'] if sort_model else None
        descending = bool(sort_model and sort_model[0].get('sort') == 'desc')
        start, end = int(request.get('startRow', 0)), int(request.get('endRow', PAGE_SIZE))
        try:
            page = table_page(
                state['table'],
                filters=state['where'],
                columns=state['columns'],
                sort=sort,
                descending=descending,
                offset=start,
                limit=end - start,
            )
        except SsbError as exc:
            return [{'rowData': [], 'rowCount': 0}] * len(requests), html.Div(str(exc), className='error'), no_update
        filters = '; '.join(str(f) for f in page.filters) or 'no filter'
        status = (
            f'{page.total} {state["table"]} match ({filters}); rows {start + 1}-{min(end, page.total)} '
            f'in {page.seconds * 1000:.0f} ms'
            + ('' if page.exact_paging else ' (lineage filter or sort: computed over every row)')
        )
        response = {'rowData': page.rows, 'rowCount': page.total}
        csv = _csv_link(state['table'], dict(state, sort=sort, desc=descending))
        return [response if r else no_update for r in requests], status, csv
