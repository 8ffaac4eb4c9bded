"""The names of the figures ``aiida-ssb plot`` draws (light: the command line reads them at start-up)."""

from __future__ import annotations

__all__ = ['CAMPAIGN_KINDS', 'NYQUIST_SCALES', 'PLOT_KINDS']

#: figures of one cell's (or material's) record and its analysis
PLOT_KINDS = (
    'nyquist',
    'bode',
    'arrhenius',
    'voltammogram',
    'onsets',
    'stepwise',
    'stepwise_cv',
    'profiles',
    'capacity',
    'rate',
    'ccd',
    'resistance',
    'dqdv',
    'dvdq',
    'gitt',
    'pitt',
    'polarisation',
    'transference',
    'thermal',
    'diffraction',
    'drt',
)
#: figures comparing the cells of a campaign
CAMPAIGN_KINDS = ('scatter', 'retention', 'arrhenius', 'dqdv')
#: how a Nyquist overlay of several spectra is scaled: ``auto`` picks ``normalised`` when their resistances span
#: more than a decade (a temperature series), else ``linear``
NYQUIST_SCALES = ('auto', 'linear', 'normalised', 'log')
