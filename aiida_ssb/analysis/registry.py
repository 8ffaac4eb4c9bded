"""The registry of analyses: one entry per analysis, one name for it everywhere.

Each :class:`AnalysisSpec` ties together what the layers above need to know about an analysis: its name (the
option section of the manifest and of ``--set``, the ``analysis`` field of its results, the suffix of its
calcfunction's entry point, its docs page), its settings type, its pure function, the measurement kinds it
applies to, the process function that runs it in AiiDA and the plot kinds that draw it. The command line's
``--set`` help, the option sections, the plot kinds and the docs' option tables read from here.

Upper-layer objects (calcfunctions, steps of the cell workflow) are named by entry point or dotted path
and resolved only when asked for, so this module stays free of AiiDA and cheap to import.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from aiida_ssb.analysis.settings import Settings
from aiida_ssb.exceptions import InputError, SettingsError

__all__ = [
    'ANALYSES',
    'AnalysisSpec',
    'canonical_options',
    'get_analysis',
    'merge_options',
    'option_sections',
    'plot_kinds',
    'resolve_section',
    'validate_options',
]


def _load(path: str) -> Any:
    module, _, attribute = path.partition(':')
    return getattr(importlib.import_module(module), attribute)


def _callable(path: str) -> Callable[..., Any]:
    found = _load(path)
    if not callable(found):
        raise TypeError(f'{path} is not callable')
    return cast('Callable[..., Any]', found)


@dataclasses.dataclass(frozen=True)
class AnalysisSpec:
    """What the code, the command line and the docs know about one analysis."""

    #: the one name: option section, ``analysis`` field of results, entry point ``ssb.analyse.<name>``
    name: str
    #: a title for docs and figures
    title: str
    #: one sentence: what it computes
    summary: str
    #: ``module:attribute`` of the settings type (a :class:`~aiida_ssb.analysis.settings.Settings`)
    settings_path: str
    #: ``module:attribute`` of the pure function
    function_path: str
    #: measurement kinds it reads (``eis``, ``voltammetry``, ``cycling``, ``thermal``, ``diffraction``), or
    #: ``results`` for an analysis of other analyses' results
    measurements: tuple[str, ...]
    #: plot kinds of ``aiida-ssb plot`` that draw its results
    plot_kinds: tuple[str, ...] = ()
    #: the docs page (under ``docs/source/``, without suffix) that documents the method
    docs: str = ''
    #: former names, still accepted on input (option sections, plot kinds) so old manifests and graphs work
    aliases: tuple[str, ...] = ()

    @property
    def settings(self) -> type[Settings]:
        """The settings type (imported on first use)."""
        settings = _load(self.settings_path)
        if not (isinstance(settings, type) and issubclass(settings, Settings)):
            raise TypeError(f'{self.settings_path} is not a Settings type')
        return settings

    @property
    def function(self) -> Callable[..., Any]:
        """The pure function (imported on first use)."""
        return _callable(self.function_path)

    @property
    def calcfunction(self) -> str:
        """The entry point of the process function that runs it (``aiida.calculations`` group)."""
        return f'ssb.analyse.{self.name}'

    @property
    def step(self) -> Callable[..., Any]:
        """The step of the cell analysis workflow that runs it (:mod:`aiida_ssb.workflows.steps`)."""
        return _callable(f'aiida_ssb.workflows.steps:{self.name}')


ANALYSES: dict[str, AnalysisSpec] = {
    spec.name: spec
    for spec in (
        AnalysisSpec(
            name='eis_fit',
            title='Equivalent-circuit fit',
            summary='fits each impedance spectrum with the circuit the evidence chooses from a candidate family (or '
            'a pinned one), with roles by physics (complex non-linear least squares)',
            settings_path='aiida_ssb.analysis.eis.model:EisFitSettings',
            function_path='aiida_ssb.analysis.eis.model:fit_spectrum',
            measurements=('eis',),
            plot_kinds=('nyquist', 'bode'),
            docs='analysis/eis',
            aliases=('eis',),
        ),
        AnalysisSpec(
            name='drt',
            title='Distribution of relaxation times',
            summary='the distribution of relaxation times of each impedance spectrum (Tikhonov-regularised, '
            'non-negative, regularisation by generalised cross-validation)',
            settings_path='aiida_ssb.analysis.eis.drt:DrtSettings',
            function_path='aiida_ssb.analysis.eis.drt:compute_drt',
            measurements=('eis',),
            plot_kinds=('drt',),
            docs='analysis/drt',
        ),
        AnalysisSpec(
            name='conductivity',
            title='Ionic conductivity',
            summary='sigma = L / (R A) from a fitted bulk resistance, the real-axis intercept or the sigma-prime '
            'plateau',
            settings_path='aiida_ssb.analysis.conductivity:ConductivitySettings',
            function_path='aiida_ssb.analysis.conductivity:conductivity_of_spectrum',
            measurements=('eis',),
            plot_kinds=('arrhenius',),
            docs='analysis/conductivity',
        ),
        AnalysisSpec(
            name='arrhenius',
            title='Arrhenius activation energy',
            summary='activation energies and prefactors of conductivity against temperature, per regime',
            settings_path='aiida_ssb.analysis.arrhenius:ArrheniusSettings',
            function_path='aiida_ssb.analysis.arrhenius:fit_arrhenius',
            measurements=('results',),
            plot_kinds=('arrhenius',),
            docs='analysis/arrhenius',
        ),
        AnalysisSpec(
            name='interface_growth',
            title='Interface resistance growth',
            summary="a fitted interface resistance tracked over a cell's spectra, with R(t) = R0 + k sqrt(t)",
            settings_path='aiida_ssb.analysis.growth:GrowthSettings',
            function_path='aiida_ssb.analysis.growth:fit_parabolic_growth',
            measurements=('eis',),
            plot_kinds=('interface_growth',),
            docs='analysis/eis',
            aliases=('growth', 'interface', 'resistance'),
        ),
        AnalysisSpec(
            name='cell_impedance',
            title='Cell impedance',
            summary="the resistances of a cell's spectra by role (electrolyte, interfaces, interphases), "
            'area-specific, with intervals',
            settings_path='aiida_ssb.analysis.eis.cell_impedance:CellImpedanceSettings',
            function_path='aiida_ssb.analysis.eis.cell_impedance:cell_resistances',
            measurements=('eis',),
            plot_kinds=('nyquist',),
            docs='analysis/roles',
        ),
        AnalysisSpec(
            name='onsets',
            title='Oxidative and reductive onsets',
            summary='onset potentials of faradaic current in voltammetry sweeps (two-line, edge, threshold, derivative), '
            'each with its significance and sensitivity band',
            settings_path='aiida_ssb.analysis.voltammetry:OnsetSettings',
            function_path='aiida_ssb.analysis.voltammetry:find_onsets',
            measurements=('voltammetry',),
            plot_kinds=('onsets',),
            docs='analysis/voltammetry',
            aliases=('stability', 'oxidative_stability', 'voltammogram'),
        ),
        AnalysisSpec(
            name='stepwise_cv',
            title='Stepwise cyclic voltammetry',
            summary='the cut-off at which the charge passed per newly opened volt soars, in a CV whose upper '
            'cut-off rises step by step',
            settings_path='aiida_ssb.analysis.voltammetry:StepwiseCvSettings',
            function_path='aiida_ssb.analysis.voltammetry:analyse_stepwise_cv',
            measurements=('voltammetry',),
            plot_kinds=('stepwise_cv',),
            docs='analysis/voltammetry',
            aliases=('stepwise',),
        ),
        AnalysisSpec(
            name='cycling',
            title='Cycling summary',
            summary='capacities, coulombic and energy efficiency, retention against a reference, protocol blocks '
            'and rate table of a galvanostatic record',
            settings_path='aiida_ssb.analysis.cycling:CyclingSettings',
            function_path='aiida_ssb.analysis.cycling:summarise_cycling',
            measurements=('cycling',),
            plot_kinds=('capacity', 'profiles', 'rate'),
            docs='analysis/cycling',
        ),
        AnalysisSpec(
            name='ccd',
            title='Critical current density',
            summary='the highest current density a symmetric cell sustains before a sudden voltage drop or a short',
            settings_path='aiida_ssb.analysis.ccd:CcdSettings',
            function_path='aiida_ssb.analysis.ccd:critical_current_density',
            measurements=('cycling',),
            plot_kinds=('ccd',),
            docs='analysis/ccd',
        ),
        AnalysisSpec(
            name='dqdv',
            title='Incremental capacity and differential voltage',
            summary='dQ/dV and dV/dQ per half cycle on a voltage grid (Savitzky-Golay or spline), their peaks '
            '(position, height, area) and the peaks tracked over cycling',
            settings_path='aiida_ssb.analysis.dqdv:DqdvSettings',
            function_path='aiida_ssb.analysis.dqdv:incremental_capacity',
            measurements=('cycling',),
            plot_kinds=('dqdv', 'dvdq'),
            docs='analysis/dqdv',
            aliases=('ica', 'incremental_capacity'),
        ),
        AnalysisSpec(
            name='gitt',
            title='GITT diffusion coefficient',
            summary='Weppner-Huggins diffusion coefficient, internal resistance and overpotential of every pulse of '
            'a galvanostatic intermittent titration',
            settings_path='aiida_ssb.analysis.gitt:GittSettings',
            function_path='aiida_ssb.analysis.gitt:gitt',
            measurements=('cycling',),
            plot_kinds=('gitt',),
            docs='analysis/gitt',
        ),
        AnalysisSpec(
            name='pitt',
            title='PITT diffusion coefficient',
            summary='diffusion coefficient of every potential step of a potentiostatic intermittent titration '
            '(long-time exponential or Cottrell)',
            settings_path='aiida_ssb.analysis.gitt:PittSettings',
            function_path='aiida_ssb.analysis.gitt:pitt',
            measurements=('cycling',),
            plot_kinds=('pitt',),
            docs='analysis/gitt',
        ),
        AnalysisSpec(
            name='dc_polarisation',
            title='Electronic conductivity (DC polarisation)',
            summary='electronic conductivity sigma_e = I_ss L / (V A) from the steady current of potentiostatic holds '
            'with ion-blocking electrodes, and the time to steady state',
            settings_path='aiida_ssb.analysis.polarisation:DcPolarisationSettings',
            function_path='aiida_ssb.analysis.polarisation:electronic_conductivity',
            measurements=('cycling',),
            plot_kinds=('polarisation',),
            docs='analysis/polarisation',
            aliases=('electronic_conductivity', 'dc_polarization'),
        ),
        AnalysisSpec(
            name='transference_number',
            title='Transference number (Bruce-Vincent)',
            summary='cation transference number of a symmetric cell from a potentiostatic polarisation with '
            'impedance before and after (Evans ratio without impedance)',
            settings_path='aiida_ssb.analysis.polarisation:TransferenceSettings',
            function_path='aiida_ssb.analysis.polarisation:transference_number',
            measurements=('cycling', 'eis'),
            plot_kinds=('transference',),
            docs='analysis/polarisation',
            aliases=('bruce_vincent', 'transference'),
        ),
        AnalysisSpec(
            name='thermal',
            title='Thermal analysis (DSC/TGA)',
            summary='DSC baseline, peaks with tangent onsets and enthalpies, TGA mass-loss steps, transitions on '
            'heating and cooling',
            settings_path='aiida_ssb.analysis.thermal:ThermalSettings',
            function_path='aiida_ssb.analysis.thermal:thermal_analysis',
            measurements=('thermal',),
            plot_kinds=('thermal',),
            docs='analysis/thermal',
            aliases=('dsc', 'tga'),
        ),
        AnalysisSpec(
            name='diffraction',
            title='Powder diffraction',
            summary='background, fitted peaks, phase matching against references, lattice refinement of cubic, '
            'tetragonal and hexagonal phases, Scherrer crystallite sizes',
            settings_path='aiida_ssb.analysis.diffraction:DiffractionSettings',
            function_path='aiida_ssb.analysis.diffraction:analyse_pattern',
            measurements=('diffraction',),
            plot_kinds=('diffraction',),
            docs='analysis/diffraction',
            aliases=('xrd',),
        ),
    )
}

_ALIASES = {alias: spec.name for spec in ANALYSES.values() for alias in spec.aliases}


def resolve_section(name: str) -> str:
    """The analysis name of an option section or plot-kind alias (``eis`` -> ``eis_fit``); unknown names raise
    an :class:`~aiida_ssb.exceptions.InputError` listing the known ones."""
    if name in ANALYSES:
        return name
    if name in _ALIASES:
        return _ALIASES[name]
    raise InputError(f'unknown analysis {name!r}; analyses: {", ".join(ANALYSES)}')


def get_analysis(name: str) -> AnalysisSpec:
    """The :class:`AnalysisSpec` of an analysis name or alias."""
    return ANALYSES[resolve_section(name)]


def option_sections() -> tuple[str, ...]:
    """The option sections (one per analysis), in registry order."""
    return tuple(ANALYSES)


def plot_kinds(specs: Iterable[AnalysisSpec] | None = None) -> tuple[str, ...]:
    """Every plot kind of the analyses, in registry order, without repeats."""
    kinds: list[str] = []
    for spec in specs if specs is not None else ANALYSES.values():
        kinds.extend(kind for kind in spec.plot_kinds if kind not in kinds)
    return tuple(kinds)


def canonical_options(options: Mapping[str, Any] | None, where: str = 'options') -> dict[str, dict[str, Any]]:
    """Options by analysis name (``eis`` -> ``eis_fit``, ``growth`` -> ``interface_growth``); every section must
    be a mapping. Unknown sections raise an :class:`~aiida_ssb.exceptions.InputError` naming them."""
    result: dict[str, dict[str, Any]] = {}
    for section, values in (options or {}).items():
        name = resolve_section(str(section))
        if not isinstance(values, Mapping):
            raise InputError(f'{where}.{section} must be a mapping of options, not {type(values).__name__}')
        result.setdefault(name, {}).update(values)
    return result


def merge_options(*layers: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Option layers merged section by section, later layers winning key by key."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, values in canonical_options(layer).items():
            merged.setdefault(section, {}).update(values)
    return merged


def validate_options(options: Mapping[str, Any] | None, where: str = 'options') -> dict[str, dict[str, Any]]:
    """Canonical sections, each checked against its settings type. Raises :class:`~aiida_ssb.exceptions.SettingsError` naming the section and field."""
    canonical = canonical_options(options, where)
    for name, values in canonical.items():
        spec = ANALYSES[name]
        check = dict(values)
        try:
            spec.settings.resolve(check)
        except SettingsError as exc:
            raise SettingsError(f'{where}.{name}: {exc}') from None
    return canonical
