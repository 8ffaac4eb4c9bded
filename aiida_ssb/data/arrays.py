"""Array nodes that keep all their arrays in one repository file.

AiiDA's :class:`~aiida.orm.ArrayData` writes one ``.npy`` file per array. Storing a node then costs a
few milliseconds *per file* (the repository hashes every object and asks the object store about it), so
a cycling summary with 81 table columns took about half a second to store, for a few kilobytes of data.
:class:`PackedArrayData` keeps the same interface (``set_array``, ``get_array``, ``get_arraynames``,
``get_shape``, the ``array|<name>`` attributes that make shapes queryable) but writes every array into a
single uncompressed ``arrays.npz``, so that storing costs one object whatever the number of arrays.

The archive is written byte-for-byte reproducibly (sorted members, fixed time stamps): two nodes with the
same arrays have the same hash, which is what lets identical analyses come from AiiDA's cache. Nodes
stored with one ``.npy`` per array (by earlier versions) are still read.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.common.exceptions import ModificationNotAllowed

__all__ = ['ARCHIVE_NAME', 'CurvesData', 'PackedArrayData', 'pack_arrays']

#: name of the one repository file that holds every array
ARCHIVE_NAME = 'arrays.npz'

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip member can carry; fixed for reproducible bytes


def pack_arrays(arrays: Mapping[str, np.ndarray], handle=None) -> bytes | None:
    """The arrays as an uncompressed ``.npz`` (readable by :func:`numpy.load`), reproducibly: its bytes, or
    written to ``handle`` (a binary file opened for writing; then None is returned and no copy of the arrays is
    made in memory)."""
    buffer = io.BytesIO() if handle is None else handle
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f'{name}.npy', date_time=_EPOCH)
            with archive.open(info, 'w', force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
    return buffer.getvalue() if handle is None else None


class PackedArrayData(orm.ArrayData):
    """An :class:`~aiida.orm.ArrayData` whose arrays share one ``arrays.npz`` in the repository."""

    def initialize(self) -> None:
        super().initialize()
        self._unstored_arrays: dict[str, np.ndarray] = {}
        self._repository_absorbed = False  # whether arrays already in the repository (a clone's) were taken in

    # ------------------------------------------------------------------ writing
    def set_array(self, name: str, array: np.ndarray, *, copy: bool = True) -> None:
        """Add (or replace) an array; it is written to the repository when the node is stored.

        :param copy: ``False`` keeps ``array`` itself instead of a copy (the caller hands it over and does not
            change it afterwards: large records are then held once, not twice).
        """
        if self.is_stored:
            raise ModificationNotAllowed(f'{self.__class__.__name__}<{self.pk}> is stored: its arrays cannot change')
        if not isinstance(array, np.ndarray):
            raise TypeError(f'{self.__class__.__name__} stores numpy arrays, not {type(array).__name__}')
        if array.dtype.hasobject:
            raise TypeError(f'array {name!r}: object arrays cannot be stored (they would need pickle)')
        self._validate_array_name(name)
        self._editable()[name] = np.array(array, copy=True) if copy else array
        self.base.attributes.set(f'{self.array_prefix}{name}', list(array.shape))

    def delete_array(self, name: str) -> None:
        if self.is_stored:
            raise ModificationNotAllowed(f'{self.__class__.__name__}<{self.pk}> is stored: its arrays cannot change')
        if name not in self.get_arraynames():
            raise KeyError(f'no array {name!r} in this {self.__class__.__name__}')
        del self._editable()[name]
        self.base.attributes.delete(f'{self.array_prefix}{name}')

    def store(self, *args, **kwargs):
        if not self.is_stored:
            pending = self._pending()
            if pending or self._repository_absorbed:
                for name in self.base.repository.list_object_names():  # replaced by the new archive
                    if name == ARCHIVE_NAME or name.endswith('.npy'):
                        self.base.repository.delete_object(name)
                # written through a temporary file: the archive never exists as a second copy in memory
                with tempfile.TemporaryFile(prefix='aiida-ssb-arrays-') as handle:
                    pack_arrays(pending, handle)
                    handle.seek(0)
                    self.base.repository.put_object_from_filelike(handle, ARCHIVE_NAME)
        super().store(*args, **kwargs)
        self._cached_arrays.update(self._pending())
        self._unstored_arrays = {}
        return self

    # ------------------------------------------------------------------ reading
    def get_array(self, name: str | None = None) -> np.ndarray:
        if name is None:
            names = self.get_arraynames()
            if len(names) != 1:
                raise ValueError(f'`name` not specified but the node contains {len(names)} arrays')
            name = names[0]
        pending = self._pending()
        if name in pending:
            return pending[name].copy()  # as ArrayData: an unstored node hands out fresh arrays
        if name not in self._cached_arrays:
            if name not in self.get_arraynames():
                raise KeyError(f'Array with name `{name}` not found in {self.__class__.__name__}<{self.pk}>')
            arrays = self._read_repository()
            if not self.is_stored:
                return arrays[name]
            self._cached_arrays.update(arrays)
        return self._cached_arrays[name]

    def _read_repository(self) -> dict[str, np.ndarray]:
        """Every array in the repository: from the archive, or from one ``.npy`` per array (older nodes)."""
        names = self.base.repository.list_object_names()
        if ARCHIVE_NAME not in names:
            arrays = {}
            for filename in names:
                if filename.endswith('.npy'):
                    with self.base.repository.open(filename, mode='rb') as handle:
                        arrays[filename[:-4]] = np.load(handle, allow_pickle=False)
            return arrays
        with self.base.repository.open(ARCHIVE_NAME, mode='rb') as handle:
            with np.load(handle, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}

    def _arraynames_from_files(self) -> list[str]:
        names = self.base.repository.list_object_names()
        if ARCHIVE_NAME in names:
            with self.base.repository.open(ARCHIVE_NAME, mode='rb') as handle:
                with np.load(handle, allow_pickle=False) as archive:
                    return list(archive.files)  # the member names only: no array is read
        return [name[:-4] for name in names if name.endswith('.npy')] + list(self._pending())

    def _editable(self) -> dict[str, np.ndarray]:
        """The arrays to be written on storing, including those a clone brought in its repository."""
        pending = self._pending()
        if not self._repository_absorbed:
            self._repository_absorbed = True
            for name, values in self._read_repository().items():
                pending.setdefault(name, values)
        return pending

    def _pending(self) -> dict[str, np.ndarray]:
        """Arrays set on this unstored node and not yet written (``initialize`` creates the dict)."""
        return self._unstored_arrays


class CurvesData(PackedArrayData):
    """``ssb.curves``: the curves and tables of one analysis (fitted spectra, residuals, per-cycle tables,
    onset windows...), named ``<table>__<column>`` where an analysis returns several tables."""
