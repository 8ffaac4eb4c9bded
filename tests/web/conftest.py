"""A small lab for the web page and the exports: the milling-series campaign of the demonstration (reduced),
one pellet analysed, and a material whose id and name test the escaping. Built once per test module."""

from __future__ import annotations

import pytest

#: the analysed pellet (4 impedance spectra, milled electrolyte upstream)
PELLET = 'PEL-NCB-30'
#: a material whose name is markup and whose id needs quoting in a URL
ODD_ID = 'ODD+1/a'
ODD_NAME = '<img id="injected" src="x"> & <b>bold</b>'


def build_lab(aiida_profile, tmp_path_factory):
    from aiida_ssb.cli.analysis import run_cell_analyses
    from aiida_ssb.cli.demo import quiet_console
    from aiida_ssb.data.material import MaterialData
    from aiida_ssb.data.sample import load_sample
    from aiida_ssb.demo import generate_campaigns
    from aiida_ssb.importer.manifest import plan_import, run_import

    aiida_profile.reset_storage()
    quiet_console()
    folder = tmp_path_factory.mktemp('campaigns')
    manifest = next(m for m in generate_campaigns(folder, reduced=True) if 'seed004' in str(m))
    run_import(plan_import(manifest))
    nodes = run_cell_analyses([load_sample(PELLET)], {}, submit=False)
    assert all(node.is_finished_ok for node in nodes)
    MaterialData({'sample_id': ODD_ID, 'role': 'precursor', 'name': ODD_NAME}).store()
    return manifest


@pytest.fixture(scope='module')
def lab(aiida_profile, tmp_path_factory):
    return build_lab(aiida_profile, tmp_path_factory)
