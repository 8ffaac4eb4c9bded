"""Generate the documentation's figures, command outputs and the paper table from the demonstration data.

Run by ``make docs`` before Sphinx. It builds the reduced demonstration in a temporary in-memory AiiDA
profile (nothing is written to the user's profiles), then:

* runs every command shown in the how-to pages (:data:`COMMANDS`) and writes its real output to
  ``source/_generated/cmd_<name>.txt`` (a command failing unexpectedly stops the docs build: the examples
  cannot go stale);
* draws the figures of the pages from the demo's analyses (``source/_generated/*.svg``);
* writes the table of each seed paper's numbers beside what the demo computes (``papers_table.rst``).
"""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / 'source' / '_generated'

#: name -> (command line after ``aiida-ssb``, expected exit status); ``{out}`` is the output folder and
#: ``{work}`` the folder of the generated campaigns
COMMANDS: dict[str, tuple[str, int]] = {
    'import_dry_run': ('import --dry-run {work}/seed001-infiltrated-electrodes/manifest.yaml', 0),
    'import_again': ('import {work}/seed001-infiltrated-electrodes/manifest_docs.yaml', 0),
    'import_bad': ('import {out}/bad_manifest.yaml', 1),
    'import_file': (
        'import-file {work}/seed001-infiltrated-electrodes/raw/NCO-HC-RATE_GCPL_rate.mpt '
        '--cell NCO-HC-RATE --temperature "30 degC" --stack-pressure "70 MPa"',
        0,
    ),
    'import_file_again': (
        'import-file {work}/seed001-infiltrated-electrodes/raw/NCO-HC-RATE_GCPL_rate.mpt --cell NCO-HC-RATE',
        0,
    ),
    'show': ('show NCO-HC-70MPA', 0),
    'samples_role': (
        'samples --role electrolyte --columns sample_id,name,made_by,ball_milling.duration_min --campaign '
        'seed004-milling-series',
        0,
    ),
    'analyse': ('analyse NCO-HC-RATE', 0),
    'cells_campaign': (
        'cells --campaign seed000-4v-cell --columns sample_id,format,mass_loading_mg_cm2,upper_cutoff_v,'
        'capacity_retention_percent_at_end,average_discharge_voltage_v',
        0,
    ),
    'cells_retention': ('cells --retention-min 80 --at-cycle 50 --upper-cutoff-min 4.0', 0),
    'cells_lineage': (
        'cells --where "electrolyte.ball_milling.duration_min >= 45" --columns sample_id,'
        'electrolyte.ball_milling.duration_min,conductivity_25c_s_cm,ccd_ma_cm2,oxidative_onset_v '
        '--sort electrolyte.ball_milling.duration_min',
        0,
    ),
    'cells_lineage_nearest': (
        'cells --where "electrolyte.ball_milling.duration_min >= 45" --lineage nearest --columns sample_id,'
        'electrolyte.ball_milling.duration_min --sort electrolyte.ball_milling.duration_min',
        0,
    ),
    'cells_default': ('cells --campaign seed000-4v-cell', 0),
    'cells_pressure': (
        'cells --where "stack_pressure_mpa < 10 bar" --columns sample_id,stack_pressure_mpa,'
        'stack_pressure_bound,capacity_retention_percent_at_end --format csv',
        0,
    ),
    'samples_results': (
        'samples --role electrolyte --columns sample_id,literature,conductivity_25c_s_cm,'
        'activation_energy_ev,onset_v --where "conductivity_25c_s_cm > 1e-3" '
        '--sort conductivity_25c_s_cm --desc --limit 8',
        0,
    ),
    'bad_field': ('cells --where "retention > 80"', 1),
    'bad_unit': ('cells --where "stack_pressure_mpa < 3 mg"', 1),
    'reanalyse': ('reanalyse NVOPF-FC-415 --set cycling.reference=cycle:10', 0),
    'compare': ('compare NVOPF-FC-415', 0),
    'graph': ('graph NVOPF-FC-415 --what synthesis -o {out}/graph_fc415.svg', 0),
    'graph_pellet': ('graph PEL-NCB-45 --what measurements -o {out}/graph_pel45.svg', 0),
    'plot_arrhenius': ('plot PEL-NCB-45 --kind arrhenius -o {out}/arrhenius_pel45.svg', 0),
    'plot_nyquist': ('plot PEL-NCB-45 --kind nyquist -o {out}/nyquist_pel45.svg', 0),
    'plot_bode': ('plot PEL-NCB-45 --kind bode --record 7 -o {out}/bode_pel45.svg', 0),
    'plot_voltammogram': ('plot LIBH4-SP25-10 --kind voltammogram -o {out}/onsets_libh4.svg', 0),
    'plot_capacity': ('plot NVOPF-FC-415 --kind capacity -o {out}/capacity_fc415.svg', 0),
    'plot_profiles': ('plot NVOPF-FC-415 --kind profiles -o {out}/profiles_fc415.svg', 0),
    'plot_rate': ('plot NCO-HC-RATE --kind rate -o {out}/rate_nco.svg', 0),
    'plot_capacity_rate': ('plot NCO-HC-RATE --kind capacity -o {out}/capacity_rate_nco.svg', 0),
    'plot_ccd': ('plot SYM-NA-MM45 --kind ccd -o {out}/ccd_na.svg', 0),
    'plot_resistance': ('plot NVOPF-FC-STEP --kind resistance -o {out}/r2_fcstep.svg', 0),
    'plot_growth': ('plot LI-SYM-OCV --kind resistance -o {out}/growth_li.svg', 0),
    'plot_milling': (
        'plot --campaign seed004-milling-series --kind scatter --x electrolyte.ball_milling.duration_min '
        '--y conductivity_25c_s_cm -o {out}/milling_scatter.svg',
        0,
    ),
    'plot_retention': (
        'plot --campaign seed001-infiltrated-electrodes --kind retention --label-by stack_pressure_mpa '
        '-o {out}/retention_pressure.svg',
        0,
    ),
    'export': ('export --campaign seed001-infiltrated-electrodes --format csv -o {out}/export_seed001', 0),
    'export_eln': (
        'export --campaign seed001-infiltrated-electrodes --format ro-crate --force -o {out}/seed001.eln',
        0,
    ),
    'status': ('status --limit 5', 0),
}

BAD_MANIFEST = """\
campaign: typo-demo
materials:
  - {id: SE-01, role: electrolyte, supplier: KatChem}
  - {id: NA-01, role: metal_foil}
processes:
  - type: ball_milling
    inputs: {SE-01: {fraction: 60 wt%}, SE-02: {fraction: 30 wt%}}
    output: {id: SE-01-MM, role: electrolyte}
    parameters: {duration: 45, ball_to_powder_ratio: 180}
cells:
  - id: SYM-01
    format: symmetric
    diameter: 10 mm
    layers:
      - {role: negative, material: NA-01}
      - {role: electrolyte, material: SE-01-MM, mass: -80 mg}
      - {role: negative, material: NA-01}
    fabrication_pressure: 240 mg
"""


def _profile():
    from aiida import load_profile
    from aiida.storage.sqlite_temp.backend import SqliteTempBackend

    profile = SqliteTempBackend.create_profile(
        'aiida-ssb-docs', options={'runner.poll.interval': 1, 'warnings.development_version': False}
    )
    load_profile(profile, allow_switch=True)


def _without_rate_file(manifest: pathlib.Path) -> None:
    """Leave the rate-test file out of the seed 001 manifest, so the docs can show `import-file` adding it."""
    import yaml

    document = yaml.safe_load(manifest.read_text())
    document['measurements'] = [
        m for m in document['measurements'] if not m['file'].endswith('NCO-HC-RATE_GCPL_rate.mpt')
    ]
    manifest.with_name('manifest_docs.yaml').write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def _run(name: str, line: str, expected: int, work: pathlib.Path) -> str:
    from click.testing import CliRunner

    from aiida_ssb.cli import cmd_ssb

    formatted = line.format(out=OUT, work=work)
    args = shlex.split(formatted)
    if '-o' in args:  # the commands refuse to replace an output: drop the one of an earlier docs build
        previous = pathlib.Path(args[args.index('-o') + 1])
        if previous.is_dir():
            shutil.rmtree(previous)
        elif previous.exists():
            previous.unlink()
    result = CliRunner().invoke(cmd_ssb, args)
    if result.exit_code != expected:
        raise SystemExit(
            f'docs command {name!r} ({line}) exited with {result.exit_code}, expected {expected}:\n'
            f'{result.output}\n{result.exception!r}'
        )
    shown = ' '.join(f'"{a}"' if (' ' in a or '>' in a or '<' in a) else a for a in args)
    shown = shown.replace(str(OUT) + '/', '').replace(str(work) + '/', '')
    output = result.output.replace(str(OUT) + '/', '').replace(str(work) + '/', '')
    text = f'$ aiida-ssb {shown}\n{output}'
    (OUT / f'cmd_{name}.txt').write_text(text, encoding='utf-8')
    return text


def _papers_table(checks) -> str:
    lines = [
        '.. list-table::',
        '   :header-rows: 1',
        '   :widths: 6 40 10 10 12 10 12',
        '',
        '   * - seed',
        '     - quantity',
        '     - paper',
        '     - demo',
        '     - unit',
        '     - tolerance',
        '     - note',
    ]
    for check in checks:
        computed = '(missing)' if check.computed is None else f'{check.computed:.4g}'
        lines += [
            f'   * - {check.seed}',
            f'     - {check.quantity}',
            f'     - {check.paper:g}',
            f'     - {computed}' + ('' if check.ok else ' **(differs)**'),
            f'     - {check.unit}',
            f'     - ±{check.tolerance:g}',
            f'     - {check.note}',
        ]
    reproduced = sum(check.ok for check in checks)
    lines += [
        '',
        f'{reproduced} of {len(checks)} numbers reproduced (reduced data set, generated when these docs were built).',
    ]
    return '\n'.join(lines) + '\n'


def main() -> int:
    start = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault('MPLBACKEND', 'Agg')
    # a configuration folder of our own: the commands run here must never touch the user's AiiDA configuration
    # (a default profile pointing at this temporary one would outlive it)
    os.environ['AIIDA_PATH'] = tempfile.mkdtemp(prefix='aiida-ssb-docs-config-')
    _profile()
    from aiida_ssb.cli.demo import quiet_console
    from aiida_ssb.demo import analyse_campaigns, evaluate_checks, generate_campaigns, import_campaigns

    quiet_console()
    import logging

    logging.getLogger('aiida').addHandler(logging.NullHandler())
    work = pathlib.Path(tempfile.mkdtemp(prefix='aiida-ssb-docs-'))
    manifests = generate_campaigns(work, reduced=True)
    seed001 = next(m for m in manifests if 'seed001' in str(m))
    _without_rate_file(seed001)
    manifests = [m.with_name('manifest_docs.yaml') if m == seed001 else m for m in manifests]
    import_campaigns(manifests)
    (OUT / 'bad_manifest.yaml').write_text(BAD_MANIFEST)
    print(f'docs: demo imported in {time.time() - start:.0f} s', flush=True)
    for name in (
        'import_dry_run',
        'import_again',
        'import_bad',
        'import_file',
        'import_file_again',
        'show',
        'samples_role',
    ):
        _run(name, *COMMANDS[name], work)
    quiet_console()  # the first command configured AiiDA's logging for the command line again (console at REPORT)
    analyse_campaigns()
    print(f'docs: demo analysed in {time.time() - start:.0f} s', flush=True)
    checks = evaluate_checks(work / 'expected.json')
    (OUT / 'papers_table.rst').write_text(_papers_table(checks), encoding='utf-8')
    for name, (line, expected) in COMMANDS.items():
        if not (OUT / f'cmd_{name}.txt').exists() or name not in (
            'import_dry_run',
            'import_again',
            'import_bad',
            'import_file',
            'import_file_again',
            'show',
            'samples_role',
        ):
            _run(name, line, expected, work)
    sys.path.insert(0, str(HERE))
    import analysis_figures

    analysis_figures.draw(OUT)  # the figures of the issue-21 analysis pages (generated records)
    print(f'docs: {len(COMMANDS)} commands and the figures generated in {time.time() - start:.0f} s', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
