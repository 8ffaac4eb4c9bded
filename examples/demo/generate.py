"""Generate the aiida-ssb demonstration campaigns::

    python examples/demo/generate.py OUTDIR [--reduced]

The generator ships inside the package (:mod:`aiida_ssb.demo_data`, see ``README.md`` beside this file for its
models) so that ``aiida-ssb demo`` runs from an installed package; this script runs it from a checkout.
"""

from __future__ import annotations

import sys

from aiida_ssb.demo_data.generate import generate, main

__all__ = ['generate', 'main']

if __name__ == '__main__':
    sys.exit(main())
