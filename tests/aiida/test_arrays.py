"""Packed array nodes: every array in one reproducible ``arrays.npz``, with ArrayData's interface."""

import io

import numpy as np
import pytest
from aiida import orm
from aiida.common.exceptions import ModificationNotAllowed

from aiida_ssb.data.arrays import ARCHIVE_NAME, CurvesData, pack_arrays
from aiida_ssb.data.measurements import CyclingData
from aiida_ssb.parsers.base import Measurement


def tables():
    rng = np.random.default_rng(3)
    return {
        'cycle__capacity_mah': rng.random(8),
        'cycle__complete': rng.random(8) > 0.5,
        'half_cycle__index': np.arange(16),
        'rate__label': np.array(['0.1C', '5C']),
        'spectrum__z': rng.random((4, 2)),
    }


def test_round_trip_keeps_names_shapes_dtypes_and_values(aiida_profile):
    arrays = tables()
    node = CurvesData(arrays).store()
    assert node.base.repository.list_object_names() == [ARCHIVE_NAME]
    loaded = orm.load_node(node.pk)
    assert isinstance(loaded, CurvesData)
    assert sorted(loaded.get_arraynames()) == sorted(arrays)
    assert loaded.get_shape('spectrum__z') == (4, 2)
    assert loaded.base.attributes.get('array|rate__label') == [2]
    for name, values in arrays.items():
        got = loaded.get_array(name)
        assert got.dtype == values.dtype
        np.testing.assert_array_equal(got, values)
    with pytest.raises(KeyError, match='nope'):
        loaded.get_array('nope')


def test_archive_bytes_and_node_hash_depend_only_on_the_arrays(aiida_profile):
    arrays = tables()
    reordered = dict(reversed(list(arrays.items())))
    assert pack_arrays(arrays) == pack_arrays(reordered)
    assert pack_arrays(arrays) != pack_arrays({**arrays, 'cycle__capacity_mah': arrays['cycle__capacity_mah'] + 1e-12})
    with np.load(io.BytesIO(pack_arrays(arrays)), allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(arrays)
    first, second = CurvesData(arrays).store(), CurvesData(reordered).store()
    assert first.base.caching.get_hash() == second.base.caching.get_hash()
    assert CurvesData({**arrays, 'extra': np.zeros(1)}).store().base.caching.get_hash() != first.base.caching.get_hash()


def test_unstored_node_reads_its_arrays_and_stored_node_refuses_changes(aiida_profile):
    node = CurvesData()
    values = np.arange(5.0)
    node.set_array('a', values)
    values[0] = 99.0  # the node took a copy
    assert node.get_array('a')[0] == 0.0
    assert node.get_array()[4] == 4.0  # the only array, by default
    node.set_array('b', np.ones(2))
    node.delete_array('b')
    assert node.get_arraynames() == ['a']
    node.store()
    with pytest.raises(ModificationNotAllowed, match='stored'):
        node.set_array('c', np.ones(1))
    with pytest.raises(ModificationNotAllowed, match='stored'):
        node.delete_array('a')
    with pytest.raises(TypeError, match='object arrays'):
        CurvesData().set_array('o', np.array([{'a': 1}], dtype=object))
    with pytest.raises(TypeError, match='numpy arrays'):
        CurvesData().set_array('l', [1, 2])
    with pytest.raises(ValueError, match='only contain digits, letters and underscores'):
        CurvesData().set_array('bad name', np.ones(1))


def test_a_clone_keeps_its_arrays_and_can_change_them(aiida_profile):
    original = CurvesData(tables()).store()
    clone = original.clone()
    clone.set_array('added', np.arange(3))
    clone.delete_array('rate__label')
    clone.store()
    loaded = orm.load_node(clone.pk)
    assert sorted(loaded.get_arraynames()) == sorted([*(set(tables()) - {'rate__label'}), 'added'])
    np.testing.assert_array_equal(loaded.get_array('added'), np.arange(3))
    np.testing.assert_array_equal(loaded.get_array('cycle__capacity_mah'), tables()['cycle__capacity_mah'])
    untouched = original.clone().store()
    assert sorted(orm.load_node(untouched.pk).get_arraynames()) == sorted(tables())


def test_nodes_with_one_npy_per_array_are_still_read(aiida_profile):
    """Nodes written before packing hold ``<name>.npy`` files; they read as before."""
    node = CurvesData()
    for name, values in {'x': np.arange(4.0), 'y': np.ones(2)}.items():
        buffer = io.BytesIO()
        np.save(buffer, values, allow_pickle=False)
        buffer.seek(0)
        node.base.repository.put_object_from_filelike(buffer, f'{name}.npy')
        node.base.attributes.set(f'array|{name}', list(values.shape))
    node.store()
    loaded = orm.load_node(node.pk)
    assert sorted(loaded.base.repository.list_object_names()) == ['x.npy', 'y.npy']
    np.testing.assert_array_equal(loaded.get_array('x'), np.arange(4.0))
    assert loaded.get_shape('y') == (2,)


def test_measurement_nodes_are_packed(aiida_profile):
    t = np.linspace(0, 10, 50)
    record = Measurement('gcpl', {'time_s': t, 'voltage_v': 3 + 0.01 * t, 'current_ma': np.full(50, 0.1)})
    node = CyclingData(record).store()
    assert node.base.repository.list_object_names() == [ARCHIVE_NAME]
    loaded = orm.load_node(node.pk)
    np.testing.assert_array_equal(loaded.column('voltage_v'), 3 + 0.01 * t)
    assert list(loaded.to_dataframe().columns) == ['time_s', 'voltage_v', 'current_ma']
