"""Dequantize ranges for which TensorFlow computes NaN or Inf, checked against TensorFlow's own kernel.

The fixture's degenerate ranges (min 0, max FLT_MIN) are what graph_transforms' quantize_weights writes
for an all-zero weight; TensorFlow's MIN_FIRST kernel dequantizes them to NaN.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphsurgeon as gs
from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.quantized import _finite, nonfinite_dequantizes

TINY, BIG = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
RANGES = [(0.0, TINY), (0.0, 0.0), (-1.0, 1.0), (1.0, 1.0), (-BIG, BIG), (0.0, BIG), (-TINY, TINY), (0.0, 1e-30),
          (0.0, 1e-36), (5.0, 5.0 + 1e-6), (-1e30, 1e30), (-3e38, 3e38), (1e-38, 2e-38), (0.0, float("inf"))]
TYPES = {"quint8": np.uint8, "qint8": np.int8, "quint16": np.uint16, "qint16": np.int16}


@pytest.mark.parametrize("mode", ["MIN_COMBINED", "MIN_FIRST", "SCALED"])
@pytest.mark.parametrize("name", sorted(TYPES))
def test_the_rule_agrees_with_tensorflows_kernel(name, mode):
    import tensorflow as tf

    info = np.iinfo(TYPES[name])
    codes = tf.constant(np.array([info.min, info.max], TYPES[name]), dtype=getattr(tf, name))
    for narrow in (False, True):
        for low, high in RANGES:
            out = tf.raw_ops.Dequantize(input=codes, min_range=low, max_range=high, mode=mode,
                                        narrow_range=narrow).numpy()
            predicted = _finite(dt.enum_of(name), mode, narrow, np.float32(low), np.float32(high))
            assert predicted == bool(np.all(np.isfinite(out))), (name, mode, narrow, low, high, out)


def test_a_nan_range_is_named_even_where_the_kernel_ignores_that_end():
    assert not _finite(dt.enum_of("quint8"), "SCALED", False, np.float32("nan"), np.float32(1.0))


def test_the_detectors_degenerate_ranges_are_found_and_only_kept_ones_named(generated):
    model = gs.load(generated / "quantized_detector" / "detector_uint8.pb")
    every = [bad.node for bad in nonfinite_dequantizes(model.graph)]
    assert every == ["conf1/pad_bias/dequantize", "conf2/pad_bias/dequantize", "unused/pad_bias/dequantize"]
    kept = gs.plan(model, gs.Recipe(outputs=("mbox_loc", "mbox_conf_flatten"))).kept
    assert [bad.node for bad in nonfinite_dequantizes(model.graph, kept)] == every[:2]
