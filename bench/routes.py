"""What the benchmarks share: TensorFlow's careful route, and timing one process."""
from __future__ import annotations

import os
import time

# TensorFlow's recipe up to the frozen, extracted GraphDef `frozen`; each benchmark appends
# how it writes the result. Args: prefix output out.
FREEZE = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
v1 = tf.compat.v1
prefix, output, out = sys.argv[1], sys.argv[2], sys.argv[3]
graph = tf.Graph()
with graph.as_default():
    saver = v1.train.import_meta_graph(prefix + ".meta", clear_devices=True)
    with v1.Session(graph=graph) as s:
        saver.restore(s, prefix)
        frozen = v1.graph_util.convert_variables_to_constants(s, graph.as_graph_def(), [output])
frozen = v1.graph_util.extract_sub_graph(frozen, [output])
"""

# The best route TensorFlow offers a careful engineer: parse the .meta, extract_sub_graph,
# restore only the kept variables, save a SavedModel with variables. Args: prefix output out.
CAREFUL = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
v1 = tf.compat.v1
prefix, output, out = sys.argv[1], sys.argv[2], sys.argv[3]
meta = v1.MetaGraphDef()
meta.ParseFromString(open(prefix + ".meta", "rb").read())
sub = v1.graph_util.extract_sub_graph(meta.graph_def, [output])
graph = tf.Graph()
with graph.as_default():
    tf.graph_util.import_graph_def(sub, name="")
    kept = sorted(n.name for n in sub.node if n.op in ("VariableV2", "Variable"))
    variables = {name: graph.get_tensor_by_name(name + ":0") for name in kept}
    with v1.Session(graph=graph) as s:
        v1.train.Saver(variables).restore(s, prefix)
        builder = v1.saved_model.Builder(out)
        sig = v1.saved_model.predict_signature_def({"x": graph.get_tensor_by_name("x:0")},
                                                   {"y": graph.get_tensor_by_name(output + ":0")})
        builder.add_meta_graph_and_variables(s, ["serve"], {"serving_default": sig}, saver=v1.train.Saver(variables))
        builder.save()
"""


def measured(args: list[str], cwd: str | os.PathLike | None = None) -> tuple[float, int, bool]:
    """Wall seconds, peak RSS in bytes (wait4 rusage) and success of one child process (see measured_usage)."""
    seconds, peak, _, ok = measured_usage(args, cwd)
    return seconds, peak, ok


def measured_usage(args: list[str], cwd: str | os.PathLike | None = None) -> tuple[float, int, float, bool]:
    """Wall seconds, peak RSS in bytes, CPU seconds (user + system) and success of one child process
    (wait4 rusage), run in ``cwd``: `python -m graphsurgeon` imports a graphsurgeon/ in its working
    directory before PYTHONPATH's."""
    import subprocess

    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    ok = os.waitstatus_to_exitcode(status) == 0
    if not ok:
        lines = proc.stderr.read().decode().strip().splitlines() or ["(no output)"]
        print(f"  failed: {' '.join(args[:3])[:80]}...: {lines[-1][:200]}")
    return time.perf_counter() - start, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, ok
