"""The full demonstration data set (what `make demo` runs; the tests of test_demo.py use the reduced one) recovers
every paper number: longer records and denser temperature series reach cases the reduced set does not (a 50-cycle
record whose end voltage drifts, a curved Arrhenius crossover sampled every 10 K). Slow: about 7 minutes."""

import pytest

from aiida_ssb.demo import CHECKS, analyse_campaigns, evaluate_checks, generate_campaigns, import_campaigns

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def full_demo(aiida_profile, tmp_path_factory):
    aiida_profile.reset_storage()
    folder = tmp_path_factory.mktemp('demo-full')
    import_campaigns(generate_campaigns(folder, reduced=False))
    nodes = analyse_campaigns()
    return folder, nodes


def test_every_cell_analysis_of_the_full_set_finishes(full_demo):
    _, nodes = full_demo
    failed = {node.inputs.cell.sample_id: node.exit_message for node in nodes if not node.is_finished_ok}
    assert not failed, failed


@pytest.mark.parametrize('index', range(len(CHECKS)), ids=[f'{c.seed}: {c.quantity}' for c in CHECKS])
def test_paper_number_is_recovered_from_the_full_set(full_demo, index):
    folder, _ = full_demo
    check = evaluate_checks(folder / 'expected.json')[index]
    assert check.computed is not None, f'{check.quantity}: not computed'
    assert check.ok, (
        f'{check.quantity}: paper {check.paper} {check.unit}, demo {check.computed:.5g} (tolerance {check.tolerance})'
    )
