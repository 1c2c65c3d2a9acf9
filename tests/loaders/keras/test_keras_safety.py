"""loaders.keras.safety: no code stored in a Keras file runs, and no module it names is imported.

The scan is an allow-list: Keras's own classes and functions, and the user's
--custom-objects; anything else, and any field holding a lambda or bytecode,
is refused with the layer, the field and the fix.
"""
from __future__ import annotations

import base64
import inspect
import json
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import pytest

from graphsurgeon.errors import LoadError
from graphsurgeon.loaders.keras.names import KERAS_NAMES, KERAS_OPS
from graphsurgeon.loaders.keras.safety import (
    UnsafeKerasConfigError,
    check_config,
    check_keras_archive,
    looks_like_bytecode,
)

RESIDUAL = Path(__file__).resolve().parents[4] / "shared" / "reliability" / "keras-code" / "residual_wrapper.h5"
BYTECODE = base64.encodebytes(marshal.dumps((lambda x: x).__code__)).decode("ascii")


def _dense(name: str, **config) -> dict:
    return {"class_name": "Dense", "config": {"name": name, "units": 2, **config}}


def _model(*layers: dict) -> dict:
    return {"class_name": "Functional", "config": {"name": "m", "layers": list(layers)}}


def _refusal(config: object, custom: tuple[str, ...] = ()) -> str:
    with pytest.raises(UnsafeKerasConfigError) as caught:
        check_config(config, "m.h5", allow_code=False, custom_names=custom)
    message = str(caught.value)
    assert "\n" not in message and "--unsafe-lambda" in message
    return message


def test_plain_keras_layers_pass():
    init = {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None},
            "registered_name": None}
    check_config(_model(_dense("d", activation="relu", kernel_initializer=init)), "m.h5", allow_code=False)


def test_keras2_lambda_function_type_names_layer_and_field():
    cell = {"class_name": "ResidualWrapper", "config": {"name": "rw", "residual_fn": [BYTECODE, None, None],
                                                        "residual_fn_type": "lambda", "residual_fn_module": "__main__"}}
    rnn = {"class_name": "RNN", "config": {"name": "rnn", "cell": cell}}
    message = _refusal(_model(rnn))
    assert "layer 'rnn', field 'cell.residual_fn'" in message and "--replace-layer rnn=module.py:function" in message


@pytest.mark.parametrize("field", ["activation", "kernel_initializer", "kernel_regularizer", "bias_constraint"])
def test_bytecode_in_any_field_is_refused(field):
    message = _refusal(_model(_dense("dense_7", **{field: BYTECODE})))
    assert f"layer 'dense_7', field '{field}'" in message and "bytecode" in message


def test_keras3_lambda_marker_is_refused():
    activation = {"class_name": "__lambda__", "config": {"code": "x", "defaults": None, "closure": None}}
    assert "field 'activation'" in _refusal(_model(_dense("d", activation=activation)))


def test_a_lambda_layer_is_refused_even_with_a_named_function():
    layer = {"class_name": "Lambda", "config": {"name": "lam", "function": "relu", "function_type": "function"}}
    assert "layer 'lam', field 'function'" in _refusal(_model(layer))


@pytest.mark.parametrize("item", [
    {"module": "os", "class_name": "system", "config": {}},
    {"module": "evil.layers", "class_name": "Dense", "config": {"name": "d"}},
    {"module": "keras.layers", "class_name": "NotKeras", "config": {"name": "d"}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}, "registered_name": "Pkg>Dense"},
    {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "eval"},
])
def test_names_outside_keras_are_refused(item):
    assert "neither Keras's own nor in --custom-objects" in _refusal(_model(item))


def test_custom_objects_names_are_allowed():
    layer = {"module": "mine", "class_name": "Scale", "config": {"name": "s"}, "registered_name": "Custom>Scale"}
    _refusal(_model(layer))
    check_config(_model(layer), "m.h5", allow_code=False, custom_names=["Scale"])


def test_unsafe_lambda_skips_the_scan_for_trusted_files():
    check_config(_model(_dense("d", activation=BYTECODE)), "m.h5", allow_code=True)


def test_deeply_nested_config_is_scanned_without_recursion():
    config: object = BYTECODE
    for _ in range(50_000):
        config = [config]
    assert "bytecode" in _refusal({"class_name": "Functional", "config": {"name": "m", "x": config}})


def test_bytecode_detector_ignores_ordinary_strings():
    assert looks_like_bytecode(BYTECODE)
    for text in ("relu", "glorot_uniform", "channels_last", "a" * 40, "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo="):
        assert not looks_like_bytecode(text)


@pytest.mark.slow
def test_allow_list_covers_the_installed_keras():
    import keras
    import tf_keras

    missing = set()
    for package in (tf_keras, keras):
        for module in ("layers", "initializers", "regularizers", "constraints"):
            missing |= {n for n in dir(getattr(package, module)) if not n.startswith("_")
                        and isinstance(getattr(getattr(package, module), n), type)} - KERAS_NAMES
    assert not missing, f"add to graphsurgeon/loaders/keras/names.py: {sorted(missing)}"


@pytest.mark.slow
def test_ops_list_covers_the_installed_keras_and_leaves_out_ops_that_take_functions():
    """A functional model saves the ops it calls between layers (Embedding(mask_zero=True) saves a NotEqual)."""
    import importlib
    import pkgutil

    import keras.src.ops
    from keras.src.ops.operation import Operation

    found = {}
    for info in pkgutil.iter_modules(keras.src.ops.__path__):
        if not info.name.endswith("_test"):
            module = importlib.import_module(f"keras.src.ops.{info.name}")
            found |= {n: c for n, c in vars(module).items() if isinstance(c, type) and issubclass(c, Operation)
                      and c.__module__ == module.__name__}
    takes_function = {n for n, c in found.items() if {"f", "fn", "function", "body", "cond"} & set(
        inspect.signature(c.__init__).parameters)}
    assert takes_function and not takes_function & KERAS_OPS
    assert not set(found) - takes_function - KERAS_OPS - {"AssociativeScan", "Cond", "Map", "Scan", "ForiLoop",
                                                          "Switch", "CustomGradient", "Vectorize"}


def test_a_keras_op_between_layers_is_accepted_only_from_keras_s_own_ops_module():
    op = {"class_name": "NotEqual", "module": "keras.src.ops.numpy", "config": {"name": "not_equal"}}
    check_config({"class_name": "Functional", "config": {"layers": [op]}}, "m.keras", allow_code=False)
    for module in ("evil.ops", "keras_evil.src.ops.numpy"):
        with pytest.raises(UnsafeKerasConfigError):
            check_config({"class_name": "Functional", "config": {"layers": [{**op, "module": module}]}}, "m.keras",
                         allow_code=False)


def test_corpus_keras_files_pass_or_name_their_custom_class(corpus):
    for path in sorted(corpus.glob("*/*.h5")) + sorted(corpus.glob("*/*.hdf5")):
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
        if raw is None or "lambda" in path.parent.name:
            continue
        check_config(json.loads(raw), str(path), allow_code=False)
    for path in sorted(corpus.glob("*/*.keras")) + sorted(corpus.glob("*/*/*.keras")):
        if "subclassed" in str(path):
            with pytest.raises(UnsafeKerasConfigError, match="'RecommenderNet'"):
                check_keras_archive(path, allow_code=False)
        else:
            check_keras_archive(path, allow_code=False)


@pytest.mark.slow
def test_a_keras3_archive_with_a_lambda_activation_is_refused(tmp_path):
    """Keras 3 itself writes the lambda (it needs the source in a file); the scan finds its bytecode."""
    script = tmp_path / "make.py"
    script.write_text("import keras\n"
                      "m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation=lambda x: x * 2, "
                      "name='d')])\n"
                      f"m.save({str(tmp_path / 'm.keras')!r})\n")
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
    with pytest.raises(UnsafeKerasConfigError, match=r"layer 'd', field 'activation.value'.*bytecode"):
        check_keras_archive(tmp_path / "m.keras", allow_code=False)
    import graphsurgeon as gs  # and the .keras loader runs the same scan before Keras sees the archive

    with pytest.raises(UnsafeKerasConfigError, match=r"layer 'd', field 'activation.value'"):
        gs.load(tmp_path / "m.keras")


def test_a_damaged_keras_archive_is_one_load_error(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(LoadError, match="not a readable .keras archive"):
        check_keras_archive(tmp_path / "m.keras", allow_code=False)
    with zipfile.ZipFile(tmp_path / "j.keras", "w") as archive:
        archive.writestr("config.json", "{" * 100_000)
    with pytest.raises(LoadError, match="not valid JSON"):
        check_keras_archive(tmp_path / "j.keras", allow_code=False)


def test_residual_wrapper_file_is_refused_before_any_keras_code_runs(tmp_path):
    """In a fresh process: an audit hook records any unmarshalling of the file's bytecode, and afterwards
    neither tf_keras nor keras may have been imported (so no Keras deserialization ran) and the
    payload's PWNED_<pid> file must not exist."""
    with h5py.File(RESIDUAL, "r") as f:
        cell = json.loads(f.attrs["model_config"])["config"]["layers"][1]["config"]["cell"]["config"]
    payload = base64.b64decode(cell["residual_fn"][0])
    script = (
        "import sys\n"
        f"payload = {payload!r}\n"
        "hits = []\n"
        "sys.addaudithook(lambda e, a: hits.append(e) if e == 'marshal.loads' and bytes(a[0]) == payload else None)\n"
        "from graphsurgeon.cli.main import main\n"
        f"code = main(['export', {str(RESIDUAL)!r}, '-o', 'out'])\n"
        "print('EXIT', code, 'MARSHAL', len(hits), 'KERAS', sorted(m for m in ('tf_keras', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert "EXIT 1 MARSHAL 0 KERAS []" in result.stdout, result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert "layer 'rnn', field 'cell.residual_fn'" in line and "--replace-layer" in line and "Traceback" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no PWNED_<pid>, no out/


def test_a_recorded_recipe_cannot_switch_on_code(cli, tmp_path, monkeypatch):
    """`verify DIR` replays the recipe recorded in DIR/assets.extra: a hostile record naming
    --custom-objects and --unsafe-lambda for the residual_wrapper source runs neither."""
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "m.pbtxt"
    model.write_text('node { name: "X" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }\n'
                     'node { name: "pred" op: "Identity" input: "X" attr { key: "T" value { type: DT_FLOAT } } }\n')
    assert cli("export", model, "--inputs", "X", "--outputs", "pred", "-o", tmp_path / "out").code == 0
    evil = tmp_path / "evil.py"
    evil.write_text("open('IMPORTED', 'w').close()\n")
    record_path = tmp_path / "out" / "1" / "assets.extra" / "graphsurgeon_recipe.json"
    record = json.loads(record_path.read_text())
    record["recipe"].update(custom_objects=str(evil), unsafe_lambda=True)
    record["source"]["absolute_path"] = str(RESIDUAL)
    record_path.write_text(json.dumps(record))
    result = cli("verify", tmp_path / "out" / "1")
    assert result.code == 1 and "Traceback" not in result.err
    assert f"FAIL recorded recipe: the export was made with --custom-objects {evil} --unsafe-lambda; verify never " \
           "runs code a model directory names" in " ".join(result.out.split())
    assert not (tmp_path / "IMPORTED").exists() and not list(tmp_path.glob("PWNED_*"))


# fixtures/keras_code.py: code one level down, inside a wrapper's `layer` or `backward_layer`.
WRAPPED = {
    "k2_time_distributed_lambda.h5": "layer 'per_step', field 'layer.function': it is a Lambda layer",
    "k2_bidirectional_layer.h5": "layer 'both', field 'layer.cell.residual_fn': it holds a Python lambda",
    "k2_bidirectional_backward_layer.h5": "layer 'both', field 'backward_layer.cell.residual_fn'",
    "k3_time_distributed_lambda.keras": "layer 'double' is a Lambda layer",
    "k3_time_distributed_lambda.h5": "layer 'double' is a Lambda layer",
    "k3_time_distributed_activation.keras": "layer 'per_step', field 'layer.activation.value'",
    "k3_time_distributed_activation.h5": "layer 'per_step', field 'layer.activation.value'",
    "k3_bidirectional_layer.keras": "layer 'both', field 'layer.activation.value'",
    "k3_bidirectional_layer.h5": "layer 'both', field 'layer.activation.value'",
    "k3_bidirectional_backward_layer.keras": "layer 'both', field 'backward_layer.activation.value'",
    "k3_bidirectional_backward_layer.h5": "layer 'both', field 'backward_layer.activation.value'",
}
LOAD_EACH = """
import json, sys
from graphsurgeon import load
from graphsurgeon.errors import LoadError
payloads = set(json.loads(sys.argv[2]))
hits = []
sys.addaudithook(lambda e, a: hits.append(e) if e == 'marshal.loads' and bytes(a[0]).hex() in payloads else None)
refusals = {}
for name in json.loads(sys.argv[3]):
    try:
        load(sys.argv[1] + '/' + name)
        refusals[name] = None
    except LoadError as err:
        refusals[name] = str(err)
print(json.dumps({"refusals": refusals, "marshal": len(hits),
                  "keras": sorted(m for m in ("tf_keras", "keras", "tensorflow") if m in sys.modules)}))
"""


def _config_of(path: Path) -> dict:
    if path.suffix == ".keras":
        return json.loads(zipfile.ZipFile(path).read("config.json"))
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["model_config"])


def _bytecode_in(item: object) -> list[bytes]:
    """Every marshalled code object a config holds (the payloads Keras would unmarshal)."""
    found, stack = [], [item]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and looks_like_bytecode(item):
            found.append(base64.b64decode(item))
    return found


def test_code_inside_wrappers_is_refused_before_any_keras_code_runs(generated):
    """TimeDistributed and Bidirectional (`layer` and `backward_layer`), Keras 2 .h5 and Keras 3 .keras/.h5: each
    refused by name, in a process where afterwards no bytecode was unmarshalled and no Keras (nor TensorFlow)
    was imported."""
    folder = generated / "keras_code"
    payloads = [p.hex() for name in WRAPPED for p in _bytecode_in(_config_of(folder / name))]
    assert len(payloads) >= len(WRAPPED)
    result = subprocess.run([sys.executable, "-c", LOAD_EACH, str(folder), json.dumps(payloads), json.dumps(list(WRAPPED))],
                            capture_output=True, text=True)
    report = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
    assert report is not None, result.stderr[-3000:]
    wrong = {name: got for name, got in report["refusals"].items() if got is None or WRAPPED[name] not in got}
    assert wrong == {}
    assert report["marshal"] == 0 and report["keras"] == []
