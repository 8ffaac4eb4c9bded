"""Generator of the aiida-ssb demonstration campaigns: synthetic, seeded, physically consistent instrument
files in the formats of the real instruments, plus the lab manifests that reference them.

This package is the *truth* against which aiida-ssb's readers and analyses are checked, so it never imports
``aiida_ssb``: every file is written from the physical models in this folder (numpy and the standard library
only). See ``README.md`` beside this file for every model, its equations, its parameters and the paper
numbers it encodes.

Run ``python examples/demo/generate.py OUTDIR [--reduced]``.
"""

__version__ = '1.0'
