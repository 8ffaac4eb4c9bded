"""BattINFO JSON-LD of cells and their tests.

The cell, its electrodes, coating and active material, electrolyte, separator, case, mass loading, rated
capacity and tests are written with the terms of the Battery Interface Ontology (BattINFO, the EMMO battery and
electrochemistry domains), each mapped in the document's own ``@context`` to its persistent IRI, so the file
needs no network to be expanded. Quantities follow BattINFO's pattern: ``hasProperty`` -> a typed quantity with
``hasNumericalPart`` (``hasNumericalValue``) and ``hasMeasurementUnit`` (an EMMO unit where one exists; the unit
text ``ssb:unitText`` always).

Solid-state terms that BattINFO lacks are in the aiida-ssb extension namespace (:data:`SSB_NAMESPACE`, prefix
``ssb``), documented in the "Publish a campaign" how-to:

* ``ssb:SolidElectrolyteLayer``: the electrolyte/separator layer of a solid-state cell (also typed BattINFO
  ``SolidElectrolyte`` and ``Separator``), with its mass, thickness and relative density;
* ``ssb:FabricationPressure``: a pressure applied to make the stack (uniaxial pressing), with ``ssb:step``;
* ``ssb:StackPressure``: the pressure applied to the cell during its tests (``ssb:bound``: exact, upper, approximate);
* ``ssb:hasTest``: from a cell to its tests (BattINFO relates a test to its object with ``hasTestObject``);
* ``ssb:CriticalCurrentDensity``, ``ssb:CapacityRetention``, ``ssb:OxidativeOnsetPotential``: results without a
  BattINFO class.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

from aiida import orm

from aiida_ssb.data.campaign import campaign_group
from aiida_ssb.data.cell import CellData
from aiida_ssb.data.sample import find_sample, load_sample
from aiida_ssb.exceptions import InputError
from aiida_ssb.query.index import INDEX_EXTRA
from aiida_ssb.query.records import measurements_of_cell

__all__ = ['BATTINFO_CONTEXT', 'SSB_NAMESPACE', 'cell_battinfo', 'cells_battinfo', 'write_battinfo']

#: the namespace of aiida-ssb's extension terms (provisional; documented in docs/source/howto/publish.rst)
SSB_NAMESPACE = 'https://w3id.org/aiida-ssb/battinfo-extension#'

_BATTERY = 'https://w3id.org/emmo/domain/battery#battery_'
_ECHEM = 'https://w3id.org/emmo/domain/electrochemistry#electrochemistry_'
_EMMO = 'https://w3id.org/emmo#'


def _id(iri: str) -> dict[str, str]:
    return {'@id': iri, '@type': '@id'}


#: BattINFO terms used here -> IRIs (the EMMO battery/electrochemistry domains' published context)
BATTINFO_CONTEXT: dict[str, Any] = {
    'schema': 'https://schema.org/',
    'emmo': _EMMO,
    'ssb': SSB_NAMESPACE,
    'BatteryCell': _BATTERY + '68ed592a_7924_45d0_a108_94d6275d57f0',
    'CoinCell': _BATTERY + 'b7fdab58_6e91_4c84_b097_b06eff86a124',
    'PouchCell': _BATTERY + '392b3f47_d62a_4bd4_a819_b58b09b8843a',
    'SwagelokCell': _BATTERY + '74d6a5a9_efd6_43de_ad4b_e7b5f6b64aae',
    'BatteryHalfCell': _BATTERY + '8f0ae0b6_ee4b_47a0_b90b_1b072a62a7d9',
    'SolidStateBattery': _BATTERY + 'ef6a6244_fe3d_406e_8456_f72b45bb1fdf',
    'ConductivityCell': _ECHEM + 'b525a629_a679_464f_bc5b_b49d2fc82686',
    'BatteryTest': _BATTERY + 'dca7729a_421a_4921_90cf_9692bb9eb081',
    'BatteryCycling': _BATTERY + '1d33b96d_f362_41e5_b670_d33cd6a7ab28',
    'BatteryTestResult': _BATTERY + '2fbaf395_f3d4_4b86_8e8e_97a1fb6783f9',
    'hasTestObject': _id(_BATTERY + 'da3b3f28_aaad_4d67_b674_df47e109fb8b'),
    'Electrode': _ECHEM + '0f007072_a8dd_4798_b865_1bf9363be627',
    'PositiveElectrode': _ECHEM + 'aff732a9_238a_4734_977c_b2ba202af126',
    'NegativeElectrode': _ECHEM + 'c94c041b_8ea6_43e7_85cc_d2bce7785b4c',
    'Electrolyte': _ECHEM + 'fb0d9eef_92af_4628_8814_e065ca255d59',
    'SolidElectrolyte': _ECHEM + '0508a114_544a_4f54_a7de_9b947fb4b618',
    'Separator': _ECHEM + '331e6cca_f260_4bf8_af55_35304fe1bbe0',
    'Case': _ECHEM + '1aec4cc0_82d5_4042_a657_ed7fe291c3d8',
    'CurrentCollector': _ECHEM + '212af058_3bbb_419f_a9c6_90ba9ebb3706',
    'ElectrodeCoating': _ECHEM + '403c300e_09b9_400b_943b_04e82a3cfb56',
    'ActiveMaterial': _ECHEM + '79d1b273_58cd_4be6_a250_434817f7c261',
    'hasPositiveElectrode': _id(_ECHEM + '8e9cf965_9f92_46e8_b678_b50410ce3616'),
    'hasNegativeElectrode': _id(_ECHEM + '5d299271_3f68_494f_ab96_3db9acdd3138'),
    'hasElectrolyte': _id(_ECHEM + '3bd08946_4e81_455d_9fca_dc7a5ead9315'),
    'hasSeparator': _id(_ECHEM + '9317be62_e602_4343_a72d_02c87201b9f6'),
    'hasCase': _id(_ECHEM + '3dcfe33d_6825_43c0_a798_68e871a68d39'),
    'hasCurrentCollector': _id(_ECHEM + 'cc8c2c5d_cf3d_444d_a7e8_44ec4c06a88e'),
    'hasCoating': _id(_ECHEM + '4df9926d_d4f2_4955_93f3_a03c5edc5383'),
    'hasActiveMaterial': _id(_ECHEM + '860aa941_5ff9_4452_8a16_7856fad07bee'),
    'hasProperty': _id(_EMMO + 'EMMO_e1097637_70d2_4895_973f_2396f04fa204'),
    'hasMeasuredProperty': _id(_EMMO + 'EMMO_fd689787_31b0_41cf_bf03_0d69af76469d'),
    'hasNumericalPart': _id(_EMMO + 'EMMO_8ef3cd6d_ae58_4a8d_9fc0_ad8f49015cd0'),
    'hasNumericalValue': _EMMO + 'EMMO_faf79f53_749d_40b2_807c_d34244c192f4',
    'hasMeasurementUnit': _id(_EMMO + 'EMMO_bed1d005_b04e_4a90_94cf_02bc678a8569'),
    'RealData': _EMMO + 'EMMO_18d180e4_5e3e_42f7_820c_e08951223486',
    'Mass': _EMMO + 'EMMO_ed4af7ae_63a2_497e_bb88_2309619ea405',
    'Thickness': _EMMO + 'EMMO_43003c86_9d15_433b_9789_ee2940920656',
    'Area': _EMMO + 'EMMO_96f39f77_44dc_491b_8fa7_30d887fe0890',
    'Diameter': _EMMO + 'EMMO_c1c8ac3c_8a1c_4777_8e0b_14c1f9f9b0c6',
    'Pressure': _EMMO + 'EMMO_50a44256_9dc5_434b_bad4_74a4d9a29989',
    'MassFraction': _EMMO + 'EMMO_7c055d65_2929_40e1_af4f_4bf10995ad50',
    'MassLoading': _ECHEM + 'c955c089_6ee1_41a2_95fc_d534c5cfd3d5',
    'ActiveMassLoading': _ECHEM + '1eeb0e2a_229a_43f1_b197_348d475067ff',
    'RatedCapacity': _ECHEM + '9b3b4668_0795_4a35_9965_2af383497a26',
    'AreicCapacity': _ECHEM + 'bcb33f7e_5573_4bc2_b636_4ea313a9dd3a',
    'CoulombicEfficiency': _ECHEM + 'a5962e05_466d_46a4_8951_bea59d7326e5',
    'DischargingSpecificCapacity': _ECHEM + '884650fd_6cc6_4ec6_8264_c18fbe6b90ee',
    'DischargingSpecificEnergy': _ECHEM + '9d57962c_e150_4e64_962b_8fd6a92c9234',
    'IonicConductivity': _ECHEM + '25dabdc2_68bf_4a38_8cbe_11be017358bc',
    'ActivationEnergy': _ECHEM + 'd7f8cab9_b035_4ecd_be63_292672572526',
    'UpperVoltageLimit': _ECHEM + '6dcd5baf_58cd_43f5_a692_51508e036c88',
    'GalvanostaticCycling': _ECHEM + '79a8802e_8296_459a_b65d_6e5c79e1bf37',
    'ElectrochemicalImpedanceSpectroscopy': 'https://w3id.org/emmo/domain/characterisation-methodology/chameo#ElectrochemicalImpedanceSpectroscopy',
    'CyclicVoltammetry': 'https://w3id.org/emmo/domain/characterisation-methodology/chameo#CyclicVoltammetry',
}

#: unit suffix of a field name -> (EMMO unit IRI or None, unit text)
_UNITS: dict[str, tuple[str | None, str]] = {
    '_mg': (_EMMO + 'MilliGram', 'mg'),
    '_um': (_EMMO + 'MicroMetre', 'µm'),
    '_mm': (_EMMO + 'MilliMetre', 'mm'),
    '_cm2': (_EMMO + 'SquareCentiMetre', 'cm²'),
    '_mpa': (_EMMO + 'MegaPascal', 'MPa'),
    '_mg_cm2': (_EMMO + 'MilliGramPerSquareCentiMetre', 'mg/cm²'),
    '_ma_g': (_EMMO + 'MilliAmperePerGram', 'mA/g'),
    '_ma': (_EMMO + 'MilliAmpere', 'mA'),
    '_ma_cm2': (_EMMO + 'MilliAmperePerSquareCentiMetre', 'mA/cm²'),
    '_v': (_EMMO + 'Volt', 'V'),
    '_ev': (_EMMO + 'ElectronVolt', 'eV'),
    '_s_cm': (_EMMO + 'SiemensPerCentiMetre', 'S/cm'),
    '_c': (_EMMO + 'DegreeCelsius', '°C'),
    '_mah': (None, 'mAh'),
    '_mah_g': (None, 'mAh/g'),
    '_mah_cm2': (None, 'mAh/cm²'),
    '_wh_kg_active': (None, 'Wh/kg'),
    '_percent': (None, '%'),
    '': (None, ''),
}


def _unit(field: str) -> tuple[str | None, str]:
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if suffix and field.endswith(suffix):
            return _UNITS[suffix]
    return None, ''


def _quantity(kind: str | list[str], value: Any, field: str, **extra: Any) -> dict[str, Any]:
    unit_iri, unit_text = _unit(field)
    quantity: dict[str, Any] = {
        '@type': kind,
        'hasNumericalPart': {'@type': 'RealData', 'hasNumericalValue': value},
        'ssb:unitText': unit_text,
        'ssb:field': field,
    }
    if unit_iri:
        quantity['hasMeasurementUnit'] = unit_iri
    quantity.update(extra)
    return quantity


def _material(sample_id: str, base: str) -> dict[str, Any]:
    node = find_sample(sample_id)
    entry: dict[str, Any] = {'@id': f'{base}{sample_id}', 'schema:identifier': sample_id}
    if node is not None:
        attributes = node.base.attributes.all
        for key, term in (('name', 'schema:name'), ('formula', 'ssb:formula'), ('role', 'ssb:role')):
            if attributes.get(key):
                entry[term] = attributes[key]
    return entry


_CELL_TYPES = {'coin_cell': 'CoinCell', 'pouch': 'PouchCell', 'swagelok': 'SwagelokCell'}


def _layer(layer: dict[str, Any], base: str, cell_id: str, index: int) -> dict[str, Any]:
    role = layer.get('role')
    entry: dict[str, Any] = {
        '@id': f'{base}{cell_id}/layer-{index}',
        'ssb:layerRole': role,
        'ssb:material': _material(layer['material'], base),
    }
    properties = []
    for key, kind in (
        ('mass_mg', 'Mass'),
        ('thickness_um', 'Thickness'),
        ('area_cm2', 'Area'),
        ('derived_area_cm2', 'Area'),
    ):
        if layer.get(key) is not None:
            properties.append(_quantity(kind, layer[key], key))
    if layer.get('derived_relative_density') is not None:
        properties.append(_quantity('ssb:RelativeDensity', layer['derived_relative_density'], 'relative_density'))
    if layer.get('active_fraction') is not None:
        properties.append(
            _quantity('MassFraction', layer['active_fraction'], 'active_fraction', **{'ssb:of': 'active material'})
        )
    if properties:
        entry['hasProperty'] = properties
    return entry


def cell_battinfo(sample_id: str, *, base: str = 'urn:aiida-ssb:sample:', context: bool = True) -> dict[str, Any]:
    """The BattINFO JSON-LD of one cell and its tests (``base`` prefixes the ids of samples)."""

    cell = load_sample(sample_id)
    attributes = cell.base.attributes.all
    types = ['BatteryCell', 'SolidStateBattery']
    housing_type = attributes.get('housing_type')
    if housing_type in _CELL_TYPES:
        types.append(_CELL_TYPES[housing_type])
    if attributes.get('format') == 'half':
        types.append('BatteryHalfCell')
    if attributes.get('format') == 'blocking_pellet':
        types.append('ConductivityCell')
    document: dict[str, Any] = {
        '@id': f'{base}{sample_id}',
        '@type': types,
        'schema:identifier': sample_id,
        'ssb:format': attributes.get('format'),
    }
    if attributes.get('name'):
        document['schema:name'] = attributes['name']
    layers = attributes.get('layers', [])
    for index, layer in enumerate(layers):
        role = layer.get('role')
        entry = _layer(layer, base, sample_id, index)
        if role in ('positive', 'working'):
            entry['@type'] = ['PositiveElectrode', 'Electrode'] if role == 'positive' else ['Electrode']
            coating: dict[str, Any] = {
                '@type': 'ElectrodeCoating',
                'hasActiveMaterial': {'@type': 'ActiveMaterial', **entry.pop('ssb:material')},
            }
            entry['hasCoating'] = coating
            document.setdefault('hasPositiveElectrode', []).append(entry)
        elif role in ('negative', 'counter'):
            entry['@type'] = ['NegativeElectrode', 'Electrode'] if role == 'negative' else ['Electrode']
            document.setdefault('hasNegativeElectrode', []).append(entry)
        elif role in ('electrolyte', 'separator'):
            entry['@type'] = ['ssb:SolidElectrolyteLayer', 'SolidElectrolyte', 'Electrolyte', 'Separator']
            document.setdefault('hasElectrolyte', []).append(entry)
            document.setdefault('hasSeparator', []).append({'@id': entry['@id']})
        elif role == 'current_collector':
            entry['@type'] = 'CurrentCollector'
            document.setdefault('hasCurrentCollector', []).append(entry)
        else:
            entry['@type'] = 'ssb:Layer'
            document.setdefault('ssb:hasLayer', []).append(entry)
    if attributes.get('housing') or housing_type:
        document['hasCase'] = {
            '@type': 'Case',
            'schema:name': attributes.get('housing') or housing_type,
            'ssb:housingType': housing_type,
        }
    properties = []
    if attributes.get('mass_loading_mg_cm2') is not None:
        properties.append(
            _quantity(['ActiveMassLoading', 'MassLoading'], attributes['mass_loading_mg_cm2'], 'mass_loading_mg_cm2')
        )
    if attributes.get('composite_loading_mg_cm2') is not None:
        properties.append(_quantity('MassLoading', attributes['composite_loading_mg_cm2'], 'composite_loading_mg_cm2'))
    if attributes.get('one_c_current_ma') is not None:  # the current of 1C delivers the rated capacity in 1 h
        properties.append(
            _quantity(
                'RatedCapacity',
                attributes['one_c_current_ma'],
                'rated_capacity_mah',
                **{'ssb:basis': '1C current x 1 h'},
            )
        )
    if attributes.get('areal_capacity_basis_mah_cm2') is not None:
        properties.append(
            _quantity('AreicCapacity', attributes['areal_capacity_basis_mah_cm2'], 'areal_capacity_basis_mah_cm2')
        )
    if attributes.get('electrode_area_cm2') is not None:
        properties.append(_quantity('Area', attributes['electrode_area_cm2'], 'electrode_area_cm2'))
    for step in attributes.get('fabrication', []) or []:
        if step.get('pressure_mpa') is not None:
            properties.append(
                _quantity(
                    ['ssb:FabricationPressure', 'Pressure'],
                    step['pressure_mpa'],
                    'pressure_mpa',
                    **{'ssb:step': step.get('description', '')},
                )
            )
    if attributes.get('stack_pressure_mpa') is not None:
        properties.append(
            _quantity(
                ['ssb:StackPressure', 'Pressure'],
                attributes['stack_pressure_mpa'],
                'stack_pressure_mpa',
                **{'ssb:bound': attributes.get('stack_pressure_bound', 'exact')},
            )
        )
    if properties:
        document['hasProperty'] = properties
    document['ssb:hasTest'] = _tests(
        cell, sample_id, base, measurements_of_cell(cell), cell.base.extras.get(INDEX_EXTRA, {}) or {}
    )
    if context:
        document = {'@context': BATTINFO_CONTEXT, **document}
    return document


_TEST_TYPES = {
    'eis': ['BatteryTest', 'ElectrochemicalImpedanceSpectroscopy'],
    'voltammetry': ['BatteryTest', 'CyclicVoltammetry'],
    'cycling': ['BatteryTest', 'BatteryCycling', 'GalvanostaticCycling'],
}

#: headline field -> BattINFO (or extension) class of the result
_RESULT_TYPES = {
    'initial_coulombic_efficiency_percent': 'CoulombicEfficiency',
    'initial_discharge_capacity_mah_g': 'DischargingSpecificCapacity',
    'reference_discharge_capacity_mah_g': 'DischargingSpecificCapacity',
    'specific_energy_wh_kg_active': 'DischargingSpecificEnergy',
    'capacity_retention_percent_at_end': 'ssb:CapacityRetention',
    'upper_cutoff_v': 'UpperVoltageLimit',
    'conductivity_25c_s_cm': 'IonicConductivity',
    'activation_energy_ev': 'ActivationEnergy',
    'ccd_ma_cm2': 'ssb:CriticalCurrentDensity',
    'oxidative_onset_v': 'ssb:OxidativeOnsetPotential',
}


def _tests(cell, sample_id: str, base: str, measurements, index: dict[str, Any]) -> list[dict[str, Any]]:
    """One BattINFO test per measurement kind of the cell (with its records), with the headline results."""
    by_kind: dict[str, list] = {}
    for record in measurements:
        by_kind.setdefault(record.base.attributes.get('kind', 'other'), []).append(record)
    tests = []
    for kind, records in sorted(by_kind.items()):
        test: dict[str, Any] = {
            '@id': f'{base}{sample_id}/test-{kind}',
            '@type': _TEST_TYPES.get(kind, ['BatteryTest']),
            'hasTestObject': f'{base}{sample_id}',
            'ssb:technique': sorted({r.base.attributes.get('technique', kind) for r in records}),
            'ssb:records': [r.uuid for r in records],
        }
        temperatures = sorted(
            {
                r.base.attributes.get('temperature_c')
                for r in records
                if r.base.attributes.get('temperature_c') is not None
            }
        )
        if temperatures:
            test['ssb:temperatures_c'] = temperatures
        results = []
        related = {
            'cycling': (
                'initial_coulombic_efficiency_percent',
                'initial_discharge_capacity_mah_g',
                'reference_discharge_capacity_mah_g',
                'specific_energy_wh_kg_active',
                'capacity_retention_percent_at_end',
                'upper_cutoff_v',
                'ccd_ma_cm2',
            ),
            'eis': ('conductivity_25c_s_cm', 'activation_energy_ev'),
            'voltammetry': ('oxidative_onset_v',),
        }.get(kind, ())
        for field in related:
            if index.get(field) is not None:
                results.append(_quantity(['BatteryTestResult', _RESULT_TYPES[field]], index[field], field))
        if results:
            test['hasMeasuredProperty'] = results
        tests.append(test)
    return tests


def cells_battinfo(sample_ids: list[str], *, base: str = 'urn:aiida-ssb:sample:') -> dict[str, Any]:
    """One JSON-LD document (``@graph``) of several cells."""
    return {'@context': BATTINFO_CONTEXT, '@graph': [cell_battinfo(s, base=base, context=False) for s in sample_ids]}


def _cells_of(campaign: str) -> list[str]:
    query = orm.QueryBuilder().append(orm.Group, filters={'id': campaign_group(campaign).pk}, tag='g')
    query.append(CellData, with_group='g', project='attributes.sample_id')
    return sorted(query.all(flat=True))


def write_battinfo(path, *, sample_ids: list[str] | None = None, campaign: str | None = None) -> tuple[str, int]:
    """Write the BattINFO JSON-LD of the cells given (or of a campaign's cells) to ``path``; returns the path and
    the number of cells."""

    if (sample_ids is None) == (campaign is None):
        raise InputError('give cell sample ids or a campaign to export')
    if campaign is not None:
        ids = _cells_of(campaign)
        if not ids:
            raise InputError(f'no campaign {campaign!r}, or it holds no cells')
    else:
        ids = []
        for sample_id in sample_ids or ():
            if not isinstance(load_sample(sample_id), CellData):
                raise InputError(f'{sample_id!r} is not a cell: BattINFO describes cells')
            ids.append(sample_id)
    document = cell_battinfo(ids[0]) if len(ids) == 1 else cells_battinfo(ids)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding='utf-8')
    return str(path), len(ids)
