"""Writing output files and folders safely: only the named output is written, never half, never over a file
the user did not ask to replace.

Every command that writes (``graph``, ``plot``, ``export``) goes through these helpers:

* the content is written in a temporary file or folder beside the output (same file system) and moved into
  place at the end (``os.replace``), so an interrupted or failed command leaves no partial output and never
  touches any other path (Graphviz's extension-less DOT file, for instance, stays inside the temporary folder);
* an existing output is refused unless ``force`` (``--force``) is given; a folder is never replaced by a file
  nor a file by a folder; with ``force``, an output folder keeps the files it already holds that the new
  output does not write.

Pure Python (no AiiDA).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from aiida_ssb.exceptions import InputError

__all__ = ['check_output_file', 'check_output_folder', 'output_file', 'output_folder']


def check_output_file(path: str | os.PathLike[str], *, force: bool = False) -> str:
    """The output path as a string, after checking that it may be written. Raises :class:`InputError` when it is
    a folder, when its folder does not exist, or when it exists and ``force`` is not given."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputError(f'{path} is a folder; give the name of the file to write')
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f'{path}: the folder {folder} does not exist')
    if os.path.lexists(path) and not force:
        raise InputError(f'{path} exists; use --force to replace it')
    return path


@contextlib.contextmanager
def output_file(path: str | os.PathLike[str], *, force: bool = False, suffix: str = '') -> Iterator[str]:
    """Yield a temporary path beside ``path`` to write to; on success it replaces ``path`` (created 0644-style,
    as the umask allows). On failure nothing is left behind and ``path`` is unchanged."""
    path = check_output_file(path, force=force)
    folder = os.path.dirname(os.path.abspath(path))
    scratch = tempfile.mkdtemp(prefix='.aiida-ssb-', dir=folder)
    try:
        temporary = os.path.join(scratch, 'output' + (suffix or os.path.splitext(path)[1]))
        yield temporary
        if not os.path.isfile(temporary):
            raise InputError(f'{path}: nothing was written')
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        if os.path.isdir(path):  # appeared meanwhile
            raise InputError(f'{path} is a folder; give the name of the file to write')
        os.replace(temporary, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_output_folder(path: str | os.PathLike[str], *, force: bool = False) -> str:
    """The output folder as a string, after checking it may be written: refused when it is a file, or when it
    exists, holds something and ``force`` is not given."""
    path = os.fspath(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise InputError(f'{path} exists and is not a folder')
    if os.path.isdir(path) and os.listdir(path) and not force:
        raise InputError(
            f'{path} exists and is not empty; use --force to write into it (files of the same name are replaced, '
            'other files are left alone)'
        )
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f'{path}: the folder {parent} does not exist')
    return path


@contextlib.contextmanager
def output_folder(path: str | os.PathLike[str], *, force: bool = False) -> Iterator[str]:
    """Yield a temporary folder beside ``path`` to fill; on success its content moves into ``path`` (the
    folder itself when ``path`` does not exist, else file by file). On failure nothing is left behind."""
    path = check_output_folder(path, force=force)
    parent = os.path.dirname(os.path.abspath(path))
    scratch = tempfile.mkdtemp(prefix='.aiida-ssb-', dir=parent)
    try:
        yield scratch
        mask = os.umask(0)
        os.umask(mask)
        if not os.path.lexists(path):
            os.chmod(scratch, 0o777 & ~mask)
            os.rename(scratch, path)
            return
        for root, folders, files in os.walk(scratch):
            target_root = os.path.join(path, os.path.relpath(root, scratch))
            for name in folders:
                target = os.path.join(target_root, name)
                if os.path.lexists(target) and not os.path.isdir(target):
                    raise InputError(f'{target} exists and is not a folder')
                os.makedirs(target, exist_ok=True)
            for name in files:
                target = os.path.join(target_root, name)
                if os.path.isdir(target):
                    raise InputError(f'{target} is a folder; it cannot be replaced by a file')
                os.replace(os.path.join(root, name), target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
