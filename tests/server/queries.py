"""Graph queries for the server tests, run in a subprocess on the server profile (never in the pytest process).

Usage: ``python queries.py PROFILE COMMAND JSON_ARGUMENTS``; prints one JSON document. Commands:

* ``max_pk``: the largest node pk;
* ``activity {"after": pk}``: active (created/waiting/running) aiida-ssb processes, the orphaned process functions,
  and how many ``analyse_*`` process functions created after ``after`` have finished;
* ``samples {"ids": [...]}``: per sample id, how many material/cell nodes carry it and how many registry groups
  exist for it;
* ``files {"names": [...]}``: per raw file name, how many measurement nodes were parsed from it;
* ``runs {"after": pk, "campaign": name}``: every ``CellAnalysisWorkChain`` created after ``after`` on the cells of
  the campaign, with its state, outputs, children and the cell's index.
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def max_pk(_: dict) -> int:
    from aiida import orm

    found = (
        orm.QueryBuilder().append(orm.Node, project='id').order_by({orm.Node: {'id': 'desc'}}).limit(1).all(flat=True)
    )
    return found[0] if found else 0


def activity(arguments: dict) -> dict:
    from aiida import orm

    from aiida_ssb.server.status import orphaned_processes

    orphans = sorted(node.pk for node in orphaned_processes())
    query = orm.QueryBuilder().append(
        orm.ProcessNode,
        project=['id', 'attributes.process_label'],
        filters={
            'process_type': {'like': '%ssb.%'},
            'attributes.process_state': {'in': ['created', 'waiting', 'running']},
        },
    )
    active = [[pk, label] for pk, label in query.all() if pk not in set(orphans)]
    finished = (
        orm.QueryBuilder()
        .append(
            orm.CalcFunctionNode,
            filters={
                'id': {'>': arguments.get('after', 0)},
                'process_type': {'like': '%ssb.analyse.%'},
                'attributes.process_state': 'finished',
            },
        )
        .count()
    )
    return {'active': active, 'orphaned': orphans, 'finished_analyses': finished}


def samples(arguments: dict) -> dict:
    from aiida import orm

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.sample import SampleGroup

    result = {}
    for sample_id in arguments['ids']:
        nodes = orm.QueryBuilder().append((MaterialData, CellData), filters={'attributes.sample_id': sample_id}).count()
        groups = orm.QueryBuilder().append(SampleGroup, filters={'label': sample_id}).count()
        result[sample_id] = {'nodes': nodes, 'groups': groups}
    return result


def files(arguments: dict) -> dict:
    from aiida import orm

    from aiida_ssb.data.measurements import ALL_MEASUREMENT_CLASSES

    query = orm.QueryBuilder().append(
        ALL_MEASUREMENT_CLASSES,
        project='attributes.source_filename',
        filters={'attributes.source_filename': {'in': list(arguments['names'])}},
    )
    counts = Counter(query.all(flat=True))
    return {name: counts.get(name, 0) for name in arguments['names']}


def runs(arguments: dict) -> list[dict]:
    """Per cell analysis run of a campaign after a pk: its state, its summaries, the cell's impedance spectra and,
    per child process function, its label, state and the spectrum it analysed (the flat workchain calls the
    analysis calcfunctions directly, several per label)."""
    from aiida import orm
    from aiida.common.links import LinkType

    from aiida_ssb.data.cell import CellData
    from aiida_ssb.data.measurements import ImpedanceSpectrumData
    from aiida_ssb.query.index import INDEX_EXTRA
    from aiida_ssb.query.records import measurements_of_cell

    query = orm.QueryBuilder().append(
        orm.Group, filters={'label': f'ssb/campaign/{arguments["campaign"]}'}, tag='group'
    )
    query.append(CellData, with_group='group', tag='cell', project='*')
    query.append(
        orm.WorkChainNode,
        with_incoming='cell',
        tag='run',
        project='*',
        filters={'id': {'>': arguments['after']}, 'process_type': {'like': '%ssb.cell_analysis'}},
    )
    result = []
    for cell, run in query.all():
        children = []
        for child in run.called:
            spectrum = child.inputs.spectrum.uuid if 'spectrum' in child.inputs else None
            children.append(
                {
                    'pk': child.pk,
                    'process_label': child.process_label,
                    'finished_ok': child.is_finished_ok,
                    'state': child.process_state.value if child.process_state else None,
                    'spectrum': spectrum,
                }
            )
        summaries = [
            link.node
            for link in run.base.links.get_outgoing(link_type=LinkType.RETURN).all()
            if link.link_label == 'summary'
        ]
        result.append(
            {
                'cell': cell.sample_id,
                'pk': run.pk,
                'finished_ok': run.is_finished_ok,
                'state': run.process_state.value if run.process_state else None,
                'exit_status': run.exit_status,
                'summaries': [node.uuid for node in summaries],
                'index_summary': (cell.base.extras.get(INDEX_EXTRA, {}) or {}).get('summary_uuid'),
                'spectra': sorted(node.uuid for node in measurements_of_cell(cell, [ImpedanceSpectrumData])),
                'children': children,
            }
        )
    return result


COMMANDS = {'max_pk': max_pk, 'activity': activity, 'samples': samples, 'files': files, 'runs': runs}


def main(argv: list[str]) -> int:
    import warnings

    warnings.filterwarnings('ignore')
    from aiida import load_profile

    profile, command = argv[0], argv[1]
    arguments = json.loads(argv[2]) if len(argv) > 2 else {}
    load_profile(profile, allow_switch=True)
    print(json.dumps(COMMANDS[command](arguments)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
