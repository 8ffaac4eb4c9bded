"""Generator of the aiida-ssb demonstration campaigns: synthetic, seeded, physically consistent instrument
files in the formats of the real instruments, plus the lab manifests that reference them.

This package is the *truth* against which aiida-ssb's readers and analyses are checked, so it imports nothing
of ``aiida_ssb`` outside itself: every file is written from the physical models in this package (numpy and the
standard library only). ``examples/demo/README.md`` describes every model, its equations, its parameters and
the paper numbers it encodes. It ships inside the package so that ``aiida-ssb demo`` runs from an installed
package; ``seed003_review.yaml`` (the seed 003 review's values as literature records) ships beside it.

Run ``python -m aiida_ssb.demo_data.generate OUTDIR [--reduced]`` (or ``python examples/demo/generate.py``).
"""

__version__ = '1.0'
