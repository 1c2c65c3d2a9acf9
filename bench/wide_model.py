"""wide_cut's model at any size: dense+tanh layers trained one step with Adam, as a real TF1 checkpoint.

    python bench/wide_model.py build 18000 bench/out/wide-18000   # what wide_cut.py runs, once per size
    python bench/wide_model.py check 40                            # the synthesis against TensorFlow's own build

TensorFlow's graph mode builds this model (TF_BUILD) at 100k nodes in minutes and ~2 GB, but at
1M nodes it would take an hour and ~18 GB. So TensorFlow builds it with three layers (the template),
and the L-layer model is the template with its middle layer repeated: each node of layer1's forward
pass, gradient, Adam slots and Adam update is copied as layerK ('layerN/' in its name, inputs and
colocation shifted by K-1), and the last layer's nodes become layer L-1's. What spans every layer
(the saver's tensor list, dtypes and assigns, the init and Adam groups, the variable collections)
is rebuilt in TensorFlow's order: names sorted, as TensorFlow sorts control inputs and the saver
its variables. The values are one Adam step computed in numpy from a seeded Glorot init, and
TensorFlow's own SaveV2 op writes the checkpoint.

`check` builds a model both ways and compares every node, collection and the SaverDef (random
seeds aside), has TensorFlow import the synthesized .meta, restore the checkpoint with the graph's
own saver and run a training step, and compares the values with TensorFlow's own Adam step.
"""
from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

TEMPLATE_LAYERS = 3
PREFIX = "model.ckpt-1"
LAYER = re.compile(r"layer(\d+)/")
SAVE_ASSIGN = re.compile(r"save/Assign(_\d+)?$")
LR, BETA1, BETA2, EPSILON = 1e-3, 0.9, 0.999, 1e-8

# TensorFlow's own build (graph mode, a session, one Adam step, a Saver). Args: layers out_dir.
TF_BUILD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf
v1 = tf.compat.v1
v1.disable_v2_behavior()
layers, out_dir = int(sys.argv[1]), sys.argv[2]
v1.set_random_seed(0)
x = v1.placeholder(tf.float32, [None, 8], name="x")
h = x
for i in range(layers):
    with v1.variable_scope(f"layer{i}"):
        w = v1.get_variable("w", [8, 8])
        b = v1.get_variable("b", [8], initializer=v1.zeros_initializer())
        h = tf.tanh(tf.matmul(h, w) + b, name="out")
loss = tf.reduce_mean(tf.square(h))
train = v1.train.AdamOptimizer(1e-3).minimize(loss)
with v1.Session() as s:
    s.run(v1.global_variables_initializer())
    s.run(train, {x: np.ones((2, 8), np.float32)})
    v1.train.Saver().save(s, os.path.join(out_dir, "model.ckpt"), global_step=1)
print(len(v1.get_default_graph().as_graph_def().node))
"""

# TensorFlow loads a model as a user would: import_meta_graph, the graph's own saver restores it,
# one training step runs. Args: prefix.
TF_LOAD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf
v1 = tf.compat.v1
v1.disable_v2_behavior()
prefix = sys.argv[1]
saver = v1.train.import_meta_graph(prefix + ".meta")
graph = v1.get_default_graph()
with v1.Session() as s:
    saver.restore(s, prefix)
    feed = {"x:0": np.ones((2, 8), np.float32)}
    before = s.run("Mean:0", feed)
    s.run(graph.get_collection("train_op"), feed)
    print("restored", len(v1.global_variables()), "variables; loss", before, "->", s.run("Mean:0", feed))
"""

# TensorFlow's own Adam step (ResourceApplyAdam) on trained_values' initial weights; prints the largest
# difference from trained_values. Args: bench_dir layers.
TF_ADAM = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, sys.argv[1])
import numpy as np, tensorflow as tf
import wide_model
layers = int(sys.argv[2])
ours = wide_model.trained_values(layers)
w = [tf.Variable(v) for v in wide_model.initial_weights(layers)]
b = [tf.Variable(np.zeros(8, np.float32)) for _ in range(layers)]
with tf.GradientTape() as tape:
    h = tf.ones((2, 8))
    for i in range(layers):
        h = tf.tanh(h @ w[i] + b[i])
    loss = tf.reduce_mean(tf.square(h))
worst = 0.0
for i, (var, grad) in enumerate(zip(w + b, tape.gradient(loss, w + b))):
    name = f"layer{i % layers}/" + ("w" if i < layers else "b")
    m, v = tf.Variable(tf.zeros_like(var)), tf.Variable(tf.zeros_like(var))
    tf.raw_ops.ResourceApplyAdam(var=var.handle, m=m.handle, v=v.handle, beta1_power=0.9, beta2_power=0.999,
                                 lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, grad=grad)
    for key, theirs in ((name, var), (name + "/Adam", m), (name + "/Adam_1", v)):
        worst = max(worst, float(np.max(np.abs(ours[key] - theirs.numpy()))))
print(worst)
"""


def tf_build(layers: int, out_dir: Path) -> int:
    """TensorFlow builds and trains the model itself; the number of nodes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", TF_BUILD, str(layers), str(out_dir)], check=True,
                          capture_output=True, text=True)
    return int(done.stdout.split()[-1])


def template(out: Path) -> Path:
    """TensorFlow's three-layer build, made once under ``out``: the .meta prefix."""
    directory = out / f"wide-template-{TEMPLATE_LAYERS}"
    if not (directory / "nodes.txt").is_file():
        (directory / "nodes.txt").parent.mkdir(parents=True, exist_ok=True)
        (directory / "nodes.txt").write_text(str(tf_build(TEMPLATE_LAYERS, directory)))
    return directory / PREFIX


def layer_of(name: str) -> int | None:
    m = LAYER.search(name)
    return int(m.group(1)) if m else None


def shifted(text: str, by: int) -> str:
    """``text`` with every 'layerN/' moved by ``by`` layers."""
    return LAYER.sub(lambda m: f"layer{int(m.group(1)) + by}/", text) if by else text


def runs(items: list, key: Callable[[Any], str]) -> list[tuple[int | None, list]]:
    """Consecutive items grouped by their layer (None: not a layer's)."""
    out: list[tuple[int | None, list]] = []
    for item in items:
        j = layer_of(key(item))
        if out and out[-1][0] == j:
            out[-1][1].append(item)
        else:
            out.append((j, [item]))
    return out


class Synthesis:
    """The L-layer model from the template: template layer 0 is layer 0, 1 stands for layers 1..L-2, 2 for L-1."""

    def __init__(self, template: Any, layers: int, pb: Any):
        if layers < TEMPLATE_LAYERS:
            raise SystemExit(f"the synthesized model needs at least {TEMPLATE_LAYERS} layers")
        self.template, self.last, self.pb = template, layers - 1, pb
        names = next(n for n in template.graph_def.node if n.name == "save/SaveV2/tensor_names")
        # every checkpoint key, sorted as tf.train.Saver sorts them
        self.variables = sorted(v for s in names.attr["value"].tensor.string_val for v in self.expanded(s.decode()))

    def targets(self, j: int) -> range:
        return {0: range(0, 1), 1: range(1, self.last), 2: range(self.last, self.last + 1)}[j]

    def expanded(self, text: str) -> list[str]:
        """A name in the template -> the names it stands for (layer1's: one per middle layer)."""
        j = layer_of(text)
        return [text] if j is None else [shifted(text, t - j) for t in self.targets(j)]

    def single(self, text: str) -> str:
        names = self.expanded(text)
        if len(names) != 1:
            raise ValueError(f"{text} stands for {len(names)} names where one is expected")
        return names[0]

    def repeated(self, items: list, key: Callable[[Any], str]) -> Iterator[tuple[Any, int | None, int]]:
        """(template item, its layer, shift) with each layer's run repeated for the layers it stands for, in
        the direction its section runs (forward and Adam ascending, gradients descending)."""
        previous = None
        for j, group in runs(items, key):
            targets = [0] if j is None else list(self.targets(j))
            if j == 1 and previous == 2:
                targets.reverse()
            yield from ((item, j, 0 if j is None else t - j) for t in targets for item in group)
            previous = j

    def meta_graph(self) -> Any:
        out = self.pb.meta_graph_pb2.MetaGraphDef()
        out.CopyFrom(self.template)
        del out.graph_def.node[:]
        nodes = out.graph_def.node
        template_nodes = list(self.template.graph_def.node)
        assigns = [n for n in template_nodes if SAVE_ASSIGN.match(n.name)]
        for node, j, by in self.repeated(template_nodes, lambda n: n.name):
            if j is not None:
                self._renamed(nodes.add(), node, by)
            elif node is assigns[0]:
                self._saver_assigns(nodes, assigns)
            elif node not in assigns:
                self._spanning(nodes.add(), node)
        for key in ("variables", "trainable_variables"):
            defs = [self.pb.variable_pb2.VariableDef.FromString(raw)
                    for raw in self.template.collection_def[key].bytes_list.value]
            values = out.collection_def[key].bytes_list.value
            del values[:]
            values.extend(_renamed_variable(d, by, self.pb).SerializeToString()
                          for d, _, by in self.repeated(defs, lambda d: d.variable_name))
        return out

    @staticmethod
    def _renamed(new: Any, node: Any, by: int) -> None:
        new.CopyFrom(node)
        if by:
            new.name = shifted(node.name, by)
            new.input[:] = [shifted(i, by) for i in node.input]
            if "_class" in node.attr:
                new.attr["_class"].list.s[:] = [shifted(s.decode(), by).encode() for s in node.attr["_class"].list.s]

    def _spanning(self, new: Any, node: Any) -> None:
        """A node outside the layers, its lists of layers' names rebuilt for every layer."""
        new.CopyFrom(node)
        count = len(self.variables)
        data = [i for i in node.input if not i.startswith("^")]
        data = data[:3] + self.variables if node.op == "SaveV2" else [self.single(i) for i in data]
        controls = [i for i in node.input if i.startswith("^")]
        if node.name == "save/restore_all":
            controls = ["^" + name for name, _ in saver_assign_names(count)]
        new.input[:] = data + sorted({c for i in controls for c in self.expanded(i)})
        if "_class" in node.attr:
            new.attr["_class"].list.s[:] = [self.single(s.decode()).encode() for s in node.attr["_class"].list.s]
        if "dtypes" in node.attr:  # SaveV2 and RestoreV2: one per variable, all float32
            new.attr["dtypes"].list.type[:] = [node.attr["dtypes"].list.type[0]] * count
            if "_output_shapes" in node.attr:  # RestoreV2's outputs, all of unknown shape
                shapes = new.attr["_output_shapes"].list.shape
                shapes.extend([shapes[0]] * (count - len(shapes)))
        if node.name.endswith(("/tensor_names", "/shape_and_slices")):
            tensor = new.attr["value"].tensor
            tensor.string_val[:] = [v.encode() for v in self.variables] if node.name.endswith("names") \
                else [b""] * count
            tensor.tensor_shape.dim[0].size = count
            new.attr["_output_shapes"].list.shape[0].dim[0].size = count

    def _saver_assigns(self, nodes: Any, template_assigns: list) -> None:
        """save/Assign_k restores checkpoint key k (sorted) from RestoreV2's output k."""
        by_variable = {n.input[0]: n for n in template_assigns}
        for variable, (name, restored) in zip(self.variables, saver_assign_names(len(self.variables))):
            i = layer_of(variable)
            by = 0 if i is None else i - (0 if i == 0 else 2 if i == self.last else 1)
            new = nodes.add()
            self._renamed(new, by_variable[shifted(variable, -by)], by)
            new.name = name
            new.input[:] = [variable, restored]


def saver_assign_names(count: int) -> list[tuple[str, str]]:
    """(assign op, the RestoreV2 output it reads) for each variable, as tf.train.Saver numbers them."""
    return [("save/Assign" if k == 0 else f"save/Assign_{k}", "save/RestoreV2" if k == 0 else f"save/RestoreV2:{k}")
            for k in range(count)]


def _renamed_variable(variable_def: Any, by: int, pb: Any) -> Any:
    new = pb.variable_pb2.VariableDef()
    new.CopyFrom(variable_def)
    for field in ("variable_name", "initializer_name", "snapshot_name", "initial_value_name"):
        setattr(new, field, shifted(getattr(variable_def, field), by))
    return new


def initial_weights(layers: int) -> list[np.ndarray]:
    """Seeded glorot_uniform kernels (TensorFlow's default initializer, not its random stream)."""
    rng = np.random.default_rng(0)
    limit = np.sqrt(6 / 16)
    return [rng.uniform(-limit, limit, (8, 8)).astype(np.float32) for _ in range(layers)]


def trained_values(layers: int) -> dict[str, np.ndarray]:
    """Every checkpoint tensor after one Adam step on x = ones(2, 8) from initial_weights: the update
    TensorFlow's ApplyAdam makes (`check` compares them)."""
    w = initial_weights(layers)
    b = [np.zeros(8, np.float32) for _ in range(layers)]
    h = [np.ones((2, 8), np.float32)]
    for i in range(layers):
        h.append(np.tanh(h[-1] @ w[i] + b[i]))
    grad_h = 2 * h[-1] / h[-1].size
    grads: dict[str, np.ndarray] = {}
    for i in reversed(range(layers)):
        grad_z = grad_h * (1 - h[i + 1] ** 2)
        grads[f"layer{i}/w"], grads[f"layer{i}/b"] = h[i].T @ grad_z, grad_z.sum(0)
        grad_h = grad_z @ w[i].T
    values = {"beta1_power": np.float32(BETA1 * BETA1), "beta2_power": np.float32(BETA2 * BETA2)}
    lr = LR * np.sqrt(1 - BETA2) / (1 - BETA1)
    for i in range(layers):
        for name, value in ((f"layer{i}/w", w[i]), (f"layer{i}/b", b[i])):
            g = grads[name]
            m, v = (1 - BETA1) * g, (1 - BETA2) * g * g
            values[name] = (value - lr * m / (np.sqrt(v) + EPSILON)).astype(np.float32)
            values[name + "/Adam"], values[name + "/Adam_1"] = m.astype(np.float32), v.astype(np.float32)
    return values


def build(layers: int, out_dir: Path) -> int:
    """Write the L-layer model's .meta, checkpoint and state file into ``out_dir``; the number of nodes."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import tensorflow as tf
    from tensorflow.core.framework import variable_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = meta_graph_pb2.MetaGraphDef.FromString((Path(str(template(out_dir.parent)) + ".meta")).read_bytes())
    pb = SimpleNamespace(variable_pb2=variable_pb2, meta_graph_pb2=meta_graph_pb2)
    synthesized = Synthesis(meta, layers, pb).meta_graph()
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / PREFIX
    Path(str(prefix) + ".meta").write_bytes(synthesized.SerializeToString(deterministic=True))
    values = trained_values(layers)
    names = sorted(values)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(values[n]) for n in names])
    (out_dir / "checkpoint").write_text(f'model_checkpoint_path: "{PREFIX}"\nall_model_checkpoint_paths: "{PREFIX}"\n')
    return len(synthesized.graph_def.node)


def differences(ours, theirs) -> list[str]:
    """What differs between two MetaGraphDefs, random seeds aside."""
    out = []
    a, b = ours.graph_def.node, theirs.graph_def.node
    if [n.name for n in a] != [n.name for n in b]:
        out.append(f"node order differs ({len(a)} nodes vs {len(b)})")
    theirs_by_name = {n.name: n for n in b}
    for node in a:
        other = theirs_by_name.get(node.name)
        if other is None:
            out.append(f"{node.name}: not in TensorFlow's graph")
            continue
        mine, its = _without_seeds(node), _without_seeds(other)
        if mine != its:
            diff = difflib.unified_diff(str(its).splitlines(), str(mine).splitlines(), "tensorflow", "synthesized",
                                        lineterm="", n=1)
            out.append(f"{node.name} differs:\n" + "\n".join(list(diff)[:30]))
    for key in ("variables", "trainable_variables", "train_op"):
        if ours.collection_def[key] != theirs.collection_def[key]:
            out.append(f"collection {key} differs")
    if ours.saver_def != theirs.saver_def:
        out.append("saver_def differs")
    return out


def _without_seeds(node):
    copy = type(node)()
    copy.CopyFrom(node)
    for key in ("seed", "seed2"):
        if key in copy.attr:
            del copy.attr[key]
    return copy


def check(layers: int) -> None:
    from tensorflow.core.protobuf import meta_graph_pb2

    with tempfile.TemporaryDirectory() as tmp:
        theirs_dir, ours_dir = Path(tmp) / "tf", Path(tmp) / "synthesized"
        print(f"TensorFlow builds {layers} layers: {tf_build(layers, theirs_dir)} nodes")
        subprocess.run([sys.executable, __file__, "build", str(layers), str(ours_dir)], check=True, capture_output=True)
        read = lambda d: meta_graph_pb2.MetaGraphDef.FromString((d / (PREFIX + ".meta")).read_bytes())
        found = differences(read(ours_dir), read(theirs_dir))
        print("\n".join(found[:20]) if found else "the synthesized graph is TensorFlow's, node for node")
        loaded = subprocess.run([sys.executable, "-c", TF_LOAD, str(ours_dir / PREFIX)], capture_output=True, text=True)
        print(loaded.stdout.strip() or loaded.stderr.strip().splitlines()[-1])
        adam = subprocess.run([sys.executable, "-c", TF_ADAM, str(Path(__file__).parent), str(layers)],
                              capture_output=True, text=True, check=True)
        difference = float(adam.stdout.split()[-1])
        print(f"values: largest difference from TensorFlow's own Adam step {difference:.2g}")
        if found or loaded.returncode or difference > 1e-6:
            raise SystemExit(1)


if __name__ == "__main__":
    command, layers = sys.argv[1], int(sys.argv[2])
    if command == "build":
        print(build(layers, Path(sys.argv[3])))
    else:
        check(layers)
