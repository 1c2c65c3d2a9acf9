"""TensorProto -> numpy: the fill rules of constants that store fewer values than elements."""
from __future__ import annotations

import numpy as np
import pytest

from graphsurgeon.ir.consts import const_node
from graphsurgeon.ir.tensors import to_array, to_proto
from graphsurgeon.tf.protos import pb, shape_proto
from tests.tiny import BOOL, FLOAT, INT32


def proto(dtype: int, shape: list[int], **values) -> object:
    return pb.tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape_proto(shape), **values)


def test_one_value_fills_the_whole_shape():
    # tf.fill-style constant: Const(1.0, shape=[2, 3]) stores float_val: [1.0]
    np.testing.assert_array_equal(to_array(proto(FLOAT, [2, 3], float_val=[1.0])), np.ones((2, 3), np.float32))


def test_the_last_value_repeats():
    array = to_array(proto(INT32, [5], int_val=[1, 2]))
    np.testing.assert_array_equal(array, [1, 2, 2, 2, 2])
    assert array.dtype == np.int32


def test_no_values_means_zeros():
    array = to_array(proto(FLOAT, [2, 2]))
    np.testing.assert_array_equal(array, np.zeros((2, 2), np.float32))


def test_scalar_and_exact_counts():
    assert to_array(proto(BOOL, [], bool_val=[True])).shape == ()
    np.testing.assert_array_equal(to_array(proto(FLOAT, [3], float_val=[1, 2, 3])), [1, 2, 3])


def test_tensor_content_is_read_as_raw_bytes():
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    array = to_array(proto(FLOAT, [2, 3], tensor_content=values.tobytes()))
    np.testing.assert_array_equal(array, values)
    array[0, 0] = 7  # a copy, not a view of the proto's bytes
    assert to_array(proto(FLOAT, [2, 3], tensor_content=values.tobytes()))[0, 0] == 0


def test_half_values_are_bit_patterns():
    half = np.array([1.5], np.float16)
    array = to_array(proto(19, [2], half_val=[int(half.view(np.uint16)[0])]))
    np.testing.assert_array_equal(array, np.array([1.5, 1.5], np.float16))


def test_complex_values_are_pairs():
    np.testing.assert_array_equal(to_array(proto(8, [2], scomplex_val=[1, 2, 3, 4])), [1 + 2j, 3 + 4j])


def test_strings():
    array = to_array(proto(7, [3], string_val=[b"a", b"b"]))
    assert array.tolist() == [b"a", b"b", b"b"]


@pytest.mark.parametrize("value, dtype", [
    (np.arange(4, dtype=np.float32).reshape(2, 2), None), (np.array(True), BOOL),
    ([1, 2, 3], INT32), (np.array([b"x", b"yz"], dtype=object), None), (3.0, FLOAT),
])
def test_to_proto_round_trips(value, dtype):
    back = to_array(to_proto(value, dtype))
    np.testing.assert_array_equal(back, np.asarray(value, dtype=back.dtype))


def test_const_node_carries_dtype_and_value():
    node = const_node("c", np.float32(2.5), FLOAT, control_inputs=("init",))
    assert (node.op, node.attrs["dtype"].type, node.control_inputs) == ("Const", FLOAT, ("init",))
    assert to_array(node.attrs["value"].tensor) == np.float32(2.5)
