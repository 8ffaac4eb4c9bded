"""Sphinx configuration for aiida-ssb (built with -W in CI: every warning is an error)."""

import pathlib
import sys
import warnings

import aiida_ssb

sys.path.insert(0, str(pathlib.Path(__file__).parent / '_ext'))
warnings.filterwarnings('ignore', message='.*is deprecated.*')  # AiiDA v3 deprecations seen by autodoc introspection

project = 'aiida-ssb'
author = 'aiida-ssb developers'
release = aiida_ssb.__version__
version = release

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
    'sphinx.ext.viewcode',
    'sphinx.ext.intersphinx',
    'sphinx.ext.graphviz',
    'sphinx_click',
    'ssb_schema',
]
graphviz_output_format = 'svg'
intersphinx_mapping = {}
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
nitpicky = False
exclude_patterns = ['_build']
templates_path = []
html_static_path = []

try:
    import furo  # noqa: F401

    html_theme = 'furo'
except ImportError:  # pragma: no cover
    html_theme = 'alabaster'
