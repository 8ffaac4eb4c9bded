"""The demonstration and `aiida-ssb analyse` keep process reports out of the terminal, also on the demo's first
run, where the profile is created by the command itself and its storage is loaded after the console is quietened."""

import logging

from aiida import orm
from aiida.manage import get_manager

from aiida_ssb.cli.demo import quiet_console


def _console_levels() -> list[int]:
    return [
        handler.level
        for handler in logging.getLogger('aiida').handlers
        if type(handler) is logging.StreamHandler  # the console, not the log file or the database
    ]


def test_reports_stay_quiet_when_the_storage_is_loaded_after_the_console(aiida_profile):
    manager = get_manager()
    before = {type(handler): handler.level for handler in logging.getLogger('aiida').handlers}
    try:
        manager.reset_profile_storage()  # a profile loaded, its storage not yet: as right after `verdi presto`
        quiet_console()
        orm.QueryBuilder().append(orm.Node).count()  # the first query loads the storage (and AiiDA's logging)
        levels = _console_levels()
        assert levels and all(level >= logging.WARNING for level in levels), levels
    finally:
        for handler in logging.getLogger('aiida').handlers:
            handler.setLevel(before.get(type(handler), handler.level))  # as the other tests had it
