"""Settings of the voltammetry analyses: every choice that changes an onset or a stepwise-CV result, with its
default. The data (potential, current, time, cycle counter) and what comes from the cell or the measurement
(electrode area, programmed scan rate, working electrode) are arguments of the functions, not settings."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from aiida_ssb.analysis.settings import Settings

__all__ = ['METHODS', 'OnsetSettings', 'StepwiseCvSettings', 'Window']

#: the onset methods: the two-line intersection (default), the edge potential (tangent at the steepest point),
#: a current threshold and a derivative criterion
METHODS = ('two_line', 'edge', 'threshold', 'derivative')

Window = tuple[float, float]


def _window(value: Any, name: str) -> Window:
    try:
        low, high = (float(item) for item in value)
    except (TypeError, ValueError):
        raise ValueError(f'{name}: expected [v_min, v_max], got {value!r}') from None
    if not low < high:
        raise ValueError(f'{name}: expected v_min < v_max, got {value!r}')
    return low, high


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value)
    )


def _integers(value: Any) -> Any:
    """One integer or a sequence of them -> a tuple."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f'expected an integer or a list of integers, got {value!r}')
    if isinstance(value, int):
        return (value,)
    return value


class OnsetSettings(Settings):
    """Settings of the onset analysis (:func:`~aiida_ssb.analysis.voltammetry.find_onsets`).

    The electrode area (current density), the programmed scan rate and the working electrode are inputs (from
    the cell and the measurement), not settings. ``background_window_v`` and ``rise_window_v`` take one
    ``[v_min, v_max]`` pair or a list of pairs (one per onset)."""

    unitless: ClassVar[frozenset[str]] = frozenset({'r2_min'})

    method: Literal['two_line', 'edge', 'threshold', 'derivative'] = Field(
        'two_line',
        description='two_line: intersection of the background and faradaic lines; edge: the background line meets '
        'the tangent at the steepest point of the rise; threshold; derivative',
    )
    direction: Literal['anodic', 'cathodic', 'both'] = Field('both', description='which sweeps to analyse')
    cycles: tuple[int, ...] | None = Field(None, description='only sweeps of these cycle indices (default: all)')
    sweep: tuple[int, ...] | None = Field(
        None, description='only these sweeps (sweep_index of the results: 0 = first sweep of the record)'
    )
    window_v: Window | None = Field(None, description='analyse only this potential range of each sweep')
    background_window_v: tuple[Window, ...] | None = Field(
        None, description='background fit window(s), one per onset (found automatically when absent)'
    )
    rise_window_v: tuple[Window, ...] | None = Field(
        None, description='faradaic rise fit window(s), one per onset (found automatically when absent)'
    )
    r2_min: float = Field(
        0.99,
        gt=0,
        lt=1,
        description='R2 each line should reach (thesis); a line below it is reported with a low_r2 flag unless it '
        'is flat and not significantly curved',
    )
    min_window_v: float | None = Field(
        None, gt=0, description='shortest straight line of the automatic search (default: max(0.05 V, 5 % of range))'
    )
    min_points: int = Field(10, ge=3, description='fewest points in a fitted line')
    curvature_f_max: float = Field(
        10.8,
        gt=0,
        description='a part of the sweep is straight while a kink (hinge) added to its line is not significant: F '
        'statistic <= this (10.8: p = 0.001)',
    )
    min_slope_ratio: float = Field(
        3.0, ge=1, description='a rise is this many times steeper than a rising background line'
    )
    min_significance_sigma: float = Field(
        5.0,
        gt=0,
        description='a rise is reported when its current exceeds the background by this many noise sigmas at the '
        'end of its line (replaces min_rise_fraction: judged against the noise, not the current range)',
    )
    headline_significance_sigma: float = Field(
        10.0, gt=0, description='the headline onset of a sweep is its first onset at least this significant'
    )
    headline_min_relative: float = Field(
        0.0,
        ge=0,
        le=1,
        description='... and whose current above its background is at least this fraction of the strongest rise of '
        'the sweep',
    )
    peak_return_fraction: float = Field(
        0.25,
        ge=0,
        le=1,
        description='a rise whose current falls back to within this fraction of its height above its background is '
        'a peak, not an onset',
    )
    band_shift_v: float | None = Field(
        None, gt=0, description='sensitivity band: each window is shifted by this much (default: min_window_v / 2)'
    )
    band_end_fraction: float = Field(
        0.25,
        gt=0,
        lt=1,
        description='sensitivity band: the end of a rise that reaches the end of the scan is moved back by this '
        'fraction of the rise window',
    )
    band_max_v: float = Field(0.05, gt=0, description='a band wider than this flags the onset (wide_band)')
    max_onsets: int | None = Field(None, gt=0, description='stop after this many onsets per sweep')
    noise_ma: float | None = Field(None, ge=0, description='the current noise (default: estimated per sweep)')
    despike: bool = Field(True, description='ignore isolated single-point spikes')
    despike_factor: float = Field(
        20.0, gt=0, description='a spike is further than this many noise sigmas from its neighbourhood median'
    )
    threshold_ma: float | None = Field(None, gt=0, description='threshold method: current threshold')
    threshold_ma_cm2: float | None = Field(None, gt=0, description='threshold method: current-density threshold')
    k_consecutive: int = Field(3, gt=0, description='threshold/derivative: points in a row above the level')
    subtract_background: bool = Field(False, description='threshold method: subtract the background line first')
    interpolate: bool = Field(True, description='threshold/derivative: interpolate the crossing between points')
    derivative_window_v: float = Field(
        0.05, gt=0, description='derivative and edge methods: window of the local least-squares slope'
    )
    k_sigma: float = Field(5.0, gt=0, description='derivative method: dI/dE above k x the background sigma')
    reversal_tolerance_v: float | None = Field(
        None, gt=0, description='hysteresis of the sweep detection (default: max(0.02 V, 10 x potential noise))'
    )

    @field_validator('cycles', 'sweep', mode='before')
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _integers(value)

    @field_validator('background_window_v', 'rise_window_v', mode='before')
    @classmethod
    def _windows(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            raise ValueError(f'{info.field_name}: expected [v_min, v_max] or a list of such pairs, got {value!r}')
        if _is_pair(value):
            return (_window(value, info.field_name or 'window'),)
        try:
            items = list(value)
        except TypeError:
            raise ValueError(f'{info.field_name}: expected [v_min, v_max] or a list of such pairs, got {value!r}')
        if not items:
            raise ValueError(f'{info.field_name}: an empty list; leave it out for the automatic search')
        return tuple(_window(item, f'{info.field_name}[{k}]') for k, item in enumerate(items))

    @field_validator('window_v', mode='before')
    @classmethod
    def _single_window(cls, value: Any) -> Any:
        return None if value is None else _window(value, 'window_v')

    @model_validator(mode='after')
    def _consistent(self) -> OnsetSettings:
        if self.method == 'threshold' and (self.threshold_ma is None) == (self.threshold_ma_cm2 is None):
            raise ValueError('threshold method: give exactly one of threshold_ma or threshold_ma_cm2')
        backgrounds, rises = self.background_window_v, self.rise_window_v
        if backgrounds is not None and rises is not None and len(backgrounds) != len(rises):
            raise ValueError(
                f'background_window_v and rise_window_v: {len(backgrounds)} background window(s) but '
                f'{len(rises)} rise window(s); give one of each per onset'
            )
        return self


class StepwiseCvSettings(Settings):
    """Settings of the stepwise CV analysis (:func:`~aiida_ssb.analysis.voltammetry.analyse_stepwise_cv`: a CV
    whose upper cut-off is raised step by step, seed 000)."""

    soar_factor: float = Field(
        3.0,
        gt=1,
        description='charge per volt of newly opened range, relative to the median of the previous steps, above '
        'which the current "soars"',
    )
    reference_steps: int = Field(3, ge=1, description='how many previous steps form that reference')
    confirm_steps: int = Field(1, ge=0, description='how many following steps must confirm the soaring')
    min_steps: int = Field(3, ge=2, description='a record is treated as stepwise from this many rising cut-offs')
    ucv_tolerance_v: float = Field(
        0.01, gt=0, description='anodic scans whose upper vertices agree within this form one step'
    )
    reversal_tolerance_v: float | None = Field(
        None, gt=0, description='hysteresis of the sweep detection (default: max(0.02 V, 10 x potential noise))'
    )
