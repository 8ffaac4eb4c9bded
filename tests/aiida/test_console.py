"""The demonstration and `aiida-ssb analyse` keep process reports out of the terminal, and still store them with
each process (``verdi process report``): also on the demo's first run, where the profile is created by the command
itself and its storage is loaded after the console is quietened."""

import logging

from aiida import orm
from aiida.manage import get_manager
from aiida.orm.utils.log import DBLogHandler

from aiida_ssb.cli.demo import quiet_console


def test_reports_leave_the_console_and_stay_in_the_database(aiida_profile):
    manager = get_manager()
    aiida = logging.getLogger('aiida')
    before = {type(handler): handler.level for handler in aiida.handlers}
    try:
        manager.reset_profile_storage()  # a profile loaded, its storage not yet: as right after `verdi presto`
        quiet_console()
        node = orm.WorkflowNode().store()  # the first store loads the storage (and configures AiiDA's logging)
        node.logger.report('a report of the process')
        console = [h for h in aiida.handlers if not isinstance(h, (DBLogHandler, logging.FileHandler))]
        assert console and all(handler.level >= logging.WARNING for handler in console), aiida.handlers
        assert [log.message for log in orm.Log.collection.get_logs_for(node)] == ['a report of the process']
    finally:
        for handler in aiida.handlers:
            handler.setLevel(before.get(type(handler), handler.level))  # as the other tests had it
