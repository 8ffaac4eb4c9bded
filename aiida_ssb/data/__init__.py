"""AiiDA Data classes (materials, cells, measurements, results) and the registries that keep them unique.

Importing this package also gives every SQLite connection opened afterwards a bounded busy timeout (writers wait
for each other instead of failing after 5 s): see :mod:`aiida_ssb.data.storage`.
"""

from aiida_ssb.data import storage as _storage  # noqa: F401  (registers the SQLite busy timeout)
