"""Helpers for the parser tests: an independent minimal reading of EC-Lab text exports (to check
our reader against the raw text) and small synthetic files in the formats we have no real file of."""

from __future__ import annotations

import pathlib

import numpy as np

from aiida_ssb.parsers.base import COLUMNS, TECHNIQUES, Measurement


def raw_mpt(path: pathlib.Path) -> tuple[list[str], np.ndarray]:
    """Column names and the float table of an .mpt file, read with plain string handling."""
    lines = path.read_bytes().decode('latin-1').replace('\r\n', '\n').split('\n')
    count = int(lines[1].split(':')[1])
    names = lines[count - 1].rstrip('\t').split('\t')
    rows = [line.rstrip('\t').split('\t') for line in lines[count:] if line.strip()]
    table = np.array([[float(value.replace(',', '.')) for value in row] for row in rows]).reshape(-1, len(names))
    return names, table


def assert_valid(measurement: Measurement) -> None:
    """The invariants every Measurement must satisfy."""
    assert measurement.technique in TECHNIQUES
    lengths = {values.shape[0] for values in measurement.columns.values()}
    assert len(lengths) <= 1
    for name, values in measurement.columns.items():
        assert name in COLUMNS
        assert values.ndim == 1


XRDML_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/2.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" status="Completed">
  <comment>
    <entry>Configuration=Reflection-Transmission Spinner, Owner=User-1, Creation date=3/14/2024 9:12:44 AM</entry>
    <entry>Goniometer=Theta/Theta; Minimum step size 2Theta:0.001; Minimum step size Omega:0.001</entry>
  </comment>
  <sample type="To be analyzed">
    <id>SE-03</id>
    <name>Na4(CB11H12)2(B12H12)</name>
  </sample>
  <xrdMeasurement measurementType="Scan" status="Completed" sampleMode="Reflection">
    <usedWavelength intended="K-Alpha">
      <kAlpha1 unit="Angstrom">1.5405980</kAlpha1>
      <kAlpha2 unit="Angstrom">1.5444260</kAlpha2>
      <kBeta unit="Angstrom">1.3922500</kBeta>
      <ratioKAlpha2KAlpha1>0.5000</ratioKAlpha2KAlpha1>
    </usedWavelength>
    <incidentBeamPath>
      <xRayTube id="1" name="Cu LFF">
        <tension unit="kV">45</tension>
        <current unit="mA">40</current>
        <anodeMaterial>Cu</anodeMaterial>
      </xRayTube>
    </incidentBeamPath>
    {scans}
  </xrdMeasurement>
</xrdMeasurements>
"""

XRDML_SCAN = """<scan appendNumber="{number}" mode="Continuous" scanAxis="Gonio" status="Completed">
      <header>
        <startTimeStamp>2024-03-14T09:15:{second:02d}+01:00</startTimeStamp>
        <endTimeStamp>2024-03-14T10:15:00+01:00</endTimeStamp>
        <author><name>User-1</name></author>
        <source>
          <applicationSoftware version="5.5">Data Collector</applicationSoftware>
          <instrumentControlSoftware version="5.5">XPERT-PRO</instrumentControlSoftware>
          <instrumentID>0000000011089873</instrumentID>
        </source>
      </header>
      <dataPoints>
        <positions axis="2Theta" unit="deg">
          {positions}
        </positions>
        <positions axis="Omega" unit="deg">
          <startPosition>5.0</startPosition>
          <endPosition>40.0</endPosition>
        </positions>
        <commonCountingTime unit="seconds">0.5</commonCountingTime>
        {attenuation}<{tag} unit="counts">{counts}</{tag}>
      </dataPoints>
    </scan>"""


def synthetic_pattern(seed: int = 7, n: int = 351) -> tuple[np.ndarray, np.ndarray]:
    """10-80 degrees, two Gaussian peaks on a sloping background, Poisson counts."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(10.0, 80.0, n)
    expected = 200 - angles + 5000 * np.exp(-0.5 * ((angles - 29.4) / 0.15) ** 2)
    expected += 2500 * np.exp(-0.5 * ((angles - 47.1) / 0.2) ** 2)
    return angles, rng.poisson(expected).astype(float)


def write_xrdml(
    path: pathlib.Path,
    *,
    tag: str = 'counts',
    listed: bool = False,
    scans: int = 1,
    attenuation: np.ndarray | None = None,
    seed: int = 7,
) -> tuple[np.ndarray, np.ndarray]:
    angles, counts = synthetic_pattern(seed)
    parts = []
    for number in range(scans):
        if listed:
            positions = f'<listPositions>{" ".join(f"{a:.4f}" for a in angles)}</listPositions>'
        else:
            positions = (
                f'<startPosition>{angles[0]:.4f}</startPosition>\n          <endPosition>{angles[-1]:.4f}</endPosition>'
            )
        factors = ''
        if attenuation is not None:
            factors = (
                f'<beamAttenuationFactors>{" ".join(f"{v:g}" for v in attenuation)}</beamAttenuationFactors>\n        '
            )
        parts.append(
            XRDML_SCAN.format(
                number=number,
                second=number,
                positions=positions,
                tag=tag,
                attenuation=factors,
                counts=' '.join(str(int(c)) for c in counts),
            )
        )
    path.write_text(XRDML_TEMPLATE.format(scans='\n    '.join(parts)), encoding='utf-8')
    return angles, counts


NETZSCH_HEADER = """#EXPORTTYPE:{sep}DATA ALL
#FILE:{sep}SE-03_STA_10K.ngb-ss3
#FORMAT:{sep}NETZSCH5
#FTYPE:{sep}ANSI
#IDENTITY:{sep}SE-03
#DECIMAL:{sep}{decimal}
#SEPARATOR:{sep}{separator}
#MTYPE:{sep}DSC/TG
#INSTRUMENT:{sep}NETZSCH STA 449F3
#DATE/TIME:{sep}19.06.2024 12:34:56
#SAMPLE:{sep}Na4(CB11H12)2(B12H12)
#SAMPLE MASS /mg:{sep}{mass}
#REFERENCE:{sep}empty
#TYPE OF CRUCIBLE:{sep}Al2O3 70µl, lid
#PURGE GAS 1:{sep}ARGON
#EXO:{sep}-1
#RANGE:{sep}30°C/10{dec}0(K/min)/600°C
#SEGMENT:{sep}S2/3
"""


def synthetic_thermal(seed: int = 3, n: int = 200):
    """A heating ramp 30-600 degC at 10 K/min with an endothermic DSC peak and a 12 % mass step."""
    rng = np.random.default_rng(seed)
    temperature = np.linspace(30.0, 600.0, n)
    minutes = (temperature - 30.0) / 10.0
    dsc = -0.02 - 0.8 * np.exp(-0.5 * ((temperature - 380.0) / 8.0) ** 2) + rng.normal(0, 0.002, n)
    mass = 100.0 - 12.0 / (1 + np.exp(-(temperature - 450.0) / 10.0))
    return temperature, minutes, dsc, mass


def write_netzsch(
    path: pathlib.Path,
    *,
    separator: str = 'SEMICOLON',
    decimal: str = 'POINT',
    mass: str = '22.160',
    columns: str = 'Temp./°C;Time/min;DSC/(mW/mg);Mass/%',
    encoding: str = 'latin-1',
    with_mass_line: bool = True,
    with_mass_column: bool = True,
) -> tuple:
    delimiter = {'SEMICOLON': ';', 'TAB': '\t', 'COMMA': ','}[separator]
    dec = ',' if decimal == 'COMMA' else '.'
    header = NETZSCH_HEADER.format(
        sep='' if separator != 'COMMA' else ',',
        decimal=decimal,
        separator=separator,
        mass=mass.replace('.', dec),
        dec=dec,
    )
    if not with_mass_line:
        header = '\n'.join(line for line in header.split('\n') if not line.startswith('#SAMPLE MASS')) + '\n'
    temperature, minutes, dsc, mass_percent = synthetic_thermal()
    names = columns.split(';')
    if not with_mass_column:
        names = names[:3]
    rows = []
    for values in zip(temperature, minutes, dsc, mass_percent):
        fields = [f'{value:.5f}'.replace('.', dec) for value in values[: len(names)]]
        rows.append(delimiter.join(fields))
    text = header + '##' + delimiter.join(names) + '\n' + '\n'.join(rows) + '\n'
    path.write_bytes(text.encode(encoding))
    return temperature, minutes, dsc, mass_percent


def ec_lab(value: float, digits: int = 7) -> str:
    """A number as EC-Lab writes it: 2.3403094E+000."""
    mantissa, exponent = f'{value:.{digits}E}'.split('E')
    return f'{mantissa}E{exponent[0]}{int(exponent[1:]):03d}'


def write_mpt(
    path: pathlib.Path,
    names: list[str],
    rows: list[list[str]],
    *,
    technique: str = 'Galvanostatic Cycling with Potential Limitation',
    header: list[str] = (),
    name_line: str | None = None,
    line_end: str = '\r\n',
    final_newline: bool = True,
    encoding: str = 'cp1252',
) -> None:
    """A small EC-Lab text export: magic, "Nb header lines", the technique, extra header lines, the column-name
    line (``name_line`` overrides the tab-joined ``names`` plus EC-Lab's trailing tab), then the rows."""
    lines = ['EC-Lab ASCII FILE', 'Nb header lines : {n}', '', technique, '', *header]
    lines.append(name_line if name_line is not None else '\t'.join(names) + '\t')
    n_header = len(lines)
    lines[1] = lines[1].format(n=n_header)
    body = line_end.join(lines + ['\t'.join(row) for row in rows])
    path.write_bytes((body + (line_end if final_newline else '')).encode(encoding))
