"""What every campaign module shares: seeded random streams, raw-file bookkeeping, the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aiida_ssb.demo_data.eclab import Instrument
from aiida_ssb.demo_data.yamlout import dump

__all__ = ['SYNTHETIC', 'Campaign', 'temperature_label']

#: written in the Comments line of every instrument file
SYNTHETIC = 'SYNTHETIC demonstration data (aiida-ssb examples/demo), not a measurement'


def temperature_label(temperature_c: float) -> str:
    """-20 -> 'm020C', 25 -> 'p025C' (file-name friendly)."""
    sign = 'm' if temperature_c < 0 else 'p'
    return f'{sign}{abs(round(temperature_c)):03d}C'


@dataclass
class Campaign:
    """One campaign folder: ``<root>/<name>/manifest.yaml`` and ``<root>/<name>/raw/*.mpt``."""

    root: Path
    name: str
    reduced: bool
    base_date: dt.datetime
    instrument: Instrument
    measurements: list[Any] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def raw_folder(self) -> Path:
        return self.folder / 'raw'

    @property
    def directory_label(self) -> str:
        """The acquisition directory written in the file headers."""
        return f'C:\\Users\\demo\\aiida-ssb-demo\\{self.name}\\'

    def rng(self, key: str) -> np.random.Generator:
        """A random stream of its own for every file: seeded from the campaign name and ``key``."""
        digest = hashlib.sha256(f'{self.name}/{key}'.encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], 'little'))

    def started(self, hours_after_start: float) -> dt.datetime:
        return self.base_date + dt.timedelta(hours=hours_after_start)

    def raw_path(self, filename: str) -> Path:
        return self.raw_folder / filename

    def add_file(self, path: Path, size: int) -> None:
        self.sizes[path.name] = size

    def measure(self, path: Path, **entry: Any) -> None:
        """Add a measurement entry for ``path`` (a raw file of this campaign)."""
        ordered: dict[str, Any] = {key: entry[key] for key in ('cell', 'material') if key in entry}
        ordered['technique'] = entry['technique']
        ordered['file'] = f'raw/{path.name}'
        ordered.update({key: value for key, value in entry.items() if key not in ordered})
        self.measurements.append(ordered)

    def write_manifest(self, document: dict[str, Any], header: list[str]) -> Path:
        path = self.folder / 'manifest.yaml'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(document, header), encoding='utf-8')
        return path
