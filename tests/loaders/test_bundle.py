"""graphsurgeon's own V2 checkpoint reader agrees with TensorFlow's, tensor for tensor."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from graphsurgeon.loaders.bundle import Bundle
from graphsurgeon.loaders.checkpoint import read_index


@pytest.mark.parametrize("prefix", ["encoder_decoder/model.ckpt-3", "resource_vars/model.ckpt-1",
                                    "bn_dropout/model.ckpt-3", "latent_search/model.ckpt-1"])
def test_every_tensor_matches_tensorflows_reader(generated, prefix):
    path = str(generated / prefix)
    reader = tf.train.load_checkpoint(path)
    store = read_index(path)
    assert sorted(store) == sorted(reader.get_variable_to_shape_map())
    for key in store:
        np.testing.assert_array_equal(store.read(key), reader.get_tensor(key))
        assert store[key].shape == tuple(reader.get_variable_to_shape_map()[key])


def test_strings_and_mixed_dtypes(tmp_path):
    values = {"names": np.array([b"a", b"", b"longer string \xff"], dtype=object),
              "ints": np.arange(6, dtype=np.int64).reshape(2, 3), "flags": np.array([True, False]),
              "half": np.array([1.5, -2.0], np.float16), "scalar": np.float32(3.0)}
    prefix = str(tmp_path / "ckpt")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=list(values), shape_and_slices=[""] * len(values),
                      tensors=[tf.constant(v) for v in values.values()])
    bundle = Bundle(prefix)
    for key, value in values.items():
        read = bundle.read(key)
        assert read.dtype == np.asarray(value).dtype and read.shape == np.asarray(value).shape
        assert read.tolist() == np.asarray(value).tolist()


def test_load_cut_and_write_never_import_tensorflow(generated, tmp_path):
    """Op definitions come from a per-version cache, so the .pb path skips TensorFlow's import."""
    script = (
        "import sys, graphsurgeon as gs\n"
        f"m = gs.load({str(generated / 'encoder_decoder')!r})\n"
        f"gs.write_frozen(m, gs.Recipe(inputs=['images_ph'], outputs=['encoder/out']), {str(tmp_path / 'e.pb')!r},"
        " force=True)\n"
        "tf = sys.modules.get('tensorflow')\n"
        "print('real' if tf is not None and not getattr(tf, '__graphsurgeon_stub__', False) else 'none')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)  # warms the op cache
    second = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert second.stdout.strip() == "none"


def test_user_can_import_tensorflow_after_graphsurgeon_loaded_protos(generated):
    script = (
        "import graphsurgeon as gs\n"
        f"m = gs.load({str(generated / 'encoder_decoder')!r})\n"
        "import tensorflow as tf\n"
        "from tensorflow.core.framework import graph_pb2\n"
        "g = tf.Graph()\n"
        "with g.as_default():\n"
        "    tf.graph_util.import_graph_def(gs.ir.proto.to_graph_def(m.graph, m.weights), name='')\n"
        "print(graph_pb2.GraphDef is tf.compat.v1.GraphDef, float(tf.constant(2.0) * 3))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "6.0"]
