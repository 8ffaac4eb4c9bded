"""aiida-ssb: an AiiDA plugin for solid-state-battery lab provenance.

Materials, lab steps, cells, instrument records and their analyses become a queryable provenance
graph. The pure science (``aiida_ssb.parsers``, ``aiida_ssb.analysis``) never imports AiiDA.
"""

__version__ = '0.1.0'
