"""The errors aiida-ssb raises on purpose: one hierarchy, no AiiDA import.

Every error a user can cause (a bad file, manifest, unit, query or option, an analysis that cannot run on
its data, a server step that cannot be done) is an :class:`SsbError`. The command line prints an
``SsbError`` as one message without a traceback and exits with 1; anything else is a bug and shows its
traceback. The analysis process functions turn the :class:`AnalysisError` kinds into their
:attr:`~AnalysisError.exit_status`, so a failed analysis says *why* it failed in its exit code:

===========  ===============================  =============================================================
exit status  kind                             meaning
===========  ===============================  =============================================================
300          :class:`AnalysisError`           the analysis cannot produce a result from this input
310          :class:`InsufficientDataError`   too few points, cycles, spectra or temperatures
320          :class:`SettingsError`           settings that contradict each other or the data
330          :class:`NotConvergedError`       an optimisation did not reach an acceptable solution
340          :class:`MissingInputError`       a required input is absent (a role, a geometry, a mass)
===========  ===============================  =============================================================

The kinds subclass :class:`ValueError` where the error is about a value, so code that catches
``ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    'AnalysisError',
    'InputError',
    'InsufficientDataError',
    'MissingInputError',
    'NotConvergedError',
    'ServerError',
    'SettingsError',
    'SsbError',
    'StorageError',
    'analysis_exit_codes',
]


class SsbError(Exception):
    """Base of every error aiida-ssb raises on purpose: the message is meant for the user."""


class InputError(SsbError, ValueError):
    """Input that cannot be accepted: a file, manifest, unit, query, option or identifier; the message names
    the place (file and line, manifest path, field) and what is wrong."""


class StorageError(SsbError):
    """The graph cannot take a write now or at all (a duplicate, a lock held too long, a conflicting record)."""


class ServerError(SsbError, ValueError):
    """A lab-server step that cannot be done (unreachable service, existing database, bad join file)."""


class AnalysisError(SsbError, ValueError):
    """An analysis cannot produce a result from its input; the message says which input and why."""

    #: exit status of the ``analyse_*`` process function that meets this error
    exit_status: int = 300


class InsufficientDataError(AnalysisError):
    """Too few points, cycles, spectra or temperatures for the analysis."""

    exit_status = 310


class SettingsError(AnalysisError):
    """Analysis settings that are invalid, contradict each other or do not fit the data."""

    exit_status = 320


class NotConvergedError(AnalysisError):
    """An optimisation (fit, regularisation) did not reach an acceptable solution."""

    exit_status = 330


class MissingInputError(AnalysisError):
    """A required input is absent: an element role, a geometry, a mass, a theoretical capacity."""

    exit_status = 340


def analysis_exit_codes() -> dict[int, tuple[str, str]]:
    """``{exit status: (kind, description)}`` of every analysis error kind, for the docs and the process specs."""
    kinds = [AnalysisError, InsufficientDataError, SettingsError, NotConvergedError, MissingInputError]
    return {kind.exit_status: (kind.__name__, (kind.__doc__ or '').strip().splitlines()[0]) for kind in kinds}
