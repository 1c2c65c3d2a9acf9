"""--image-input: encoded images in, decoded, resized and normalized in the graph."""
from __future__ import annotations

import base64
import json

import numpy as np
import tensorflow as tf
import tf_keras

import graphsurgeon as gs
from graphsurgeon.verify.cpp_loader import Run, run_in_cpp_loader
from tests.tfrun import run_checkpoint

SIZES = [(32, 32), (50, 70), (20, 11)]


def _jpegs(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [tf.io.encode_jpeg(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).numpy() for h, w in sizes]


def _pixels(data: bytes, height: int, width: int) -> np.ndarray:
    """What the front end must compute, done here with TensorFlow's eager ops."""
    image = tf.cast(tf.io.decode_image(data, channels=3, expand_animations=False), tf.float32)
    if image.shape[:2] != (height, width):
        image = tf.image.resize(image, [height, width])
    return image.numpy()


def test_jpegs_of_varying_sizes_equal_the_network_on_decoded_pixels(generated, tmp_path, cli):
    source = generated / "encoder_decoder"
    result = cli("export", source, "--image-input", "images_ph", "--normalize", "0,1", "--outputs", "encoder/out",
                 "-o", tmp_path / "s")
    assert result.code == 0, result.err
    sig = gs.load(tmp_path / "s" / "1").signatures["serving_default"]
    assert list(sig.inputs) == ["image_bytes"] and sig.inputs["image_bytes"].dtype == tf.string.as_datatype_enum
    jpegs = _jpegs(SIZES)
    [[got]] = run_in_cpp_loader(tmp_path / "s" / "1", ["serve"], [Run({"image_bytes:0": np.array(jpegs, object)},
                                                                       [sig.outputs["out"].name])])
    pixels = np.stack([_pixels(j, 32, 32) / 255 for j in jpegs]).astype(np.float32)
    ckpt = generated / "encoder_decoder" / "model.ckpt-3"
    (expected,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"images_ph": pixels}, ["encoder/out:0"])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_bad_image_bytes_fail_the_request_clearly(generated, tmp_path, cli):
    assert cli("export", generated / "encoder_decoder", "--image-input", "images_ph", "--outputs", "encoder/out",
               "-o", tmp_path / "s").code == 0
    try:
        run_in_cpp_loader(tmp_path / "s" / "1", ["serve"], [Run({"image_bytes:0": np.array([b"not an image"], object)},
                                                                ["encoder/out:0"])])
    except gs.GraphSurgeonError as err:
        assert "Unknown image file format" in str(err)
    else:
        raise AssertionError("a malformed image must fail the request")


def test_seed_002_keras_base64_rest_request(generated, tmp_path, cli):
    source = generated / "keras" / "planet.h5"
    assert cli("export", source, "--image-input", "input_image", "--normalize=-1,1", "-o", tmp_path / "p").code == 0
    jpegs = _jpegs([(128, 128), (200, 150)], seed=2)
    body = json.dumps({"instances": [{"image_bytes": {"b64": base64.b64encode(j).decode()}} for j in jpegs]})
    # What TensorFlow Serving does with a REST body: {"b64": ...} becomes the string's bytes.
    decoded = [base64.b64decode(i["image_bytes"]["b64"]) for i in json.loads(body)["instances"]]
    sig = gs.load(tmp_path / "p" / "1").signatures["serving_default"]
    [[weather, ground]] = run_in_cpp_loader(tmp_path / "p" / "1", ["serve"], [Run(
        {"image_bytes:0": np.array(decoded, object)}, [sig.outputs["weather"].name, sig.outputs["ground"].name])])
    pixels = np.stack([_pixels(j, 128, 128) / 127.5 - 1 for j in jpegs]).astype(np.float32)
    keras_weather, keras_ground = tf_keras.models.load_model(source, compile=False).predict(pixels, verbose=0)
    np.testing.assert_allclose(weather, keras_weather, atol=1e-5)
    np.testing.assert_allclose(ground, keras_ground, atol=1e-5)
    floats = json.dumps({"instances": [{"input_image": p.tolist()} for p in pixels]})
    print(f"REST payload: {len(body)} bytes as base64 JPEG vs {len(floats)} as float32 JSON "
          f"({len(floats) / len(body):.0f}x smaller)")
    assert len(floats) > 10 * len(body)


def test_presets_by_range_or_by_word():
    from graphsurgeon.surgery.frontends import normalization

    assert normalization("[-1, 1]") == normalization("inception")
    assert normalization("-0.5,0.5") == normalization("centered")
    assert normalization(None, mean=[1, 2, 3], std=[2]).offset == (1, 2, 3)


def test_seed_000_estimator_resnet_jpeg_front_end_and_top_5(generated, tmp_path, cli):
    """One command: tf.data-fed Estimator checkpoint -> images (string [None]) in, classes/probabilities [N,5] out."""
    source = generated / "resnet_estimator"
    result = cli("export", source, "--image-input", "IteratorGetNext:0", "--image-key", "images",
                 "--normalize=-0.5,0.5", "--outputs", "logits", "--top-k", "5", "-o", tmp_path / "resnet")
    assert result.code == 0, result.err
    sig = gs.load(tmp_path / "resnet" / "1").signatures["serving_default"]
    assert list(sig.inputs) == ["images"] and sorted(sig.outputs) == ["classes", "probabilities"]
    assert [d.size for d in sig.outputs["classes"].tensor_shape.dim] == [-1, 5]
    jpegs = _jpegs([(32, 32), (64, 48), (17, 23), (100, 100)], seed=6)
    [[classes, probabilities]] = run_in_cpp_loader(tmp_path / "resnet" / "1", ["serve"], [Run(
        {"images:0": np.array(jpegs, object)}, ["classes:0", "probabilities:0"])])
    assert classes.shape == (4, 5) and probabilities.shape == (4, 5)
    pixels = np.stack([_pixels(j, 32, 32) / 255 - 0.5 for j in jpegs]).astype(np.float32)
    ckpt = source / "model.ckpt-1"
    (logits,) = run_checkpoint(f"{ckpt}.meta", str(ckpt), {"IteratorGetNext:0": pixels}, ["logits:0"])
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    np.testing.assert_allclose(probabilities, -np.sort(-probs, axis=1)[:, :5], atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(probs, classes, 1), probabilities, atol=1e-5)
