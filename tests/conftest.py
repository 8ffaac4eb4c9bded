"""Shared test fixtures.

* ``aiida.tools.pytest_fixtures`` gives every test session a temporary SQLite profile (no services).
* ``shared_data`` points at ``../shared/data`` beside the checkout (or ``$AIIDA_SSB_SHARED_DATA``) and
  skips the test, with the reason, where that folder is absent. Those files are never copied here.
"""

from __future__ import annotations

import os
import pathlib

import pytest

pytest_plugins = ['aiida.tools.pytest_fixtures']

REPO = pathlib.Path(__file__).resolve().parent.parent


def shared_data_dir() -> pathlib.Path:
    configured = os.environ.get('AIIDA_SSB_SHARED_DATA')
    return pathlib.Path(configured) if configured else REPO.parent / 'shared' / 'data'


@pytest.fixture(scope='session')
def shared_data() -> pathlib.Path:
    """The folder of real instrument files (skips the test when absent)."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f'real instrument files not available: {folder} does not exist')
    return folder


@pytest.fixture(scope='session')
def shared_file(shared_data):
    """``shared_file('biologic/peis.mpt')`` -> path, skipping when that one file is absent."""

    def _get(relative: str) -> pathlib.Path:
        path = shared_data / relative
        if not path.is_file():
            pytest.skip(f'real instrument file not available: {path}')
        return path

    return _get


def pytest_collection_modifyitems(config, items):
    """`make test-fast` leaves out what is marked slow: the demonstration (it builds the reduced demo) and the
    lab-server tests (they start daemons) are slow as a whole."""
    for item in items:
        path = str(item.path)
        if path.endswith('test_demo.py') or f'{os.sep}server{os.sep}' in path:
            item.add_marker(pytest.mark.slow)
