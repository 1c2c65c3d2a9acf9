"""Which while-loop frame each node runs in, on a v1 loop built in code (no TensorFlow)."""
from __future__ import annotations

from graphsurgeon.ir.graph import Graph
from graphsurgeon.surgery import frames
from tests.tiny import attr, chain, const, op, placeholder


def loop_nodes(prefix: str = "", frame: str = "loop", source: str = "x") -> list:
    """A v1 while loop over ``source``:

        source -> enter ----> merge -> sw (Switch) -:0-> exit -> (parent frame)
                                ^  \\           |
        limit -> lim_enter -> less -> cond ----+ (pred)
                                ^       sw:1 -> body (Tanh) -> next (NextIteration) --+
                                +-----------------------------------------------------+
    """
    p = prefix
    frame_name = attr(s=frame.encode())
    return [
        # inside another loop, a constant hangs off the body by a control edge, as TensorFlow builds it
        const(f"{p}limit", 3.0, control_inputs=(source,) if source != "x" else ()), op(f"{p}enter", "Enter", [source], frame_name=frame_name),
        op(f"{p}lim_enter", "Enter", [f"{p}limit"], frame_name=frame_name, is_constant=attr(b=True)),
        op(f"{p}merge", "Merge", [f"{p}enter", f"{p}next"], N=attr(i=2)),
        op(f"{p}less", "Less", [f"{p}merge", f"{p}lim_enter"]), loop_cond(f"{p}cond", f"{p}less"),
        op(f"{p}sw", "Switch", [f"{p}merge", f"{p}cond"]), op(f"{p}exit", "Exit", [f"{p}sw"]),
        op(f"{p}body", "Tanh", [f"{p}sw:1"]), op(f"{p}next", "NextIteration", [f"{p}body"]),
    ]


def loop_cond(name: str, pred: str):
    return op(name, "LoopCond", [pred])


def test_a_loop_s_nodes_run_in_its_frame_and_exit_returns_to_the_root():
    graph = Graph([placeholder("x"), *loop_nodes(), op("y", "Identity", ["exit"])])
    frame = frames.node_frames(graph)
    assert frames.has_loops(graph)
    assert frame["x"] == frame["limit"] == frame["y"] == frames.ROOT
    inside = ["enter", "lim_enter", "merge", "less", "cond", "sw", "exit", "body", "next"]
    assert {frame[n] for n in inside} == {"/loop"}


def test_nested_loops_get_nested_frame_names():
    # the inner loop runs over the outer loop's body value
    graph = Graph([placeholder("x"), *loop_nodes(), *loop_nodes("in/", "inner", source="body"),
                   op("y", "Identity", ["exit"])])
    frame = frames.node_frames(graph)
    assert frame["in/body"] == "/loop/inner"
    assert frame["in/exit"] == "/loop/inner"
    assert frame["in/enter"] == "/loop/inner"
    assert frame["y"] == frames.ROOT


def test_a_graph_without_enter_has_no_loops():
    graph = Graph([placeholder("x"), *chain(3)])
    assert not frames.has_loops(graph)
    assert set(frames.node_frames(graph).values()) == {frames.ROOT}
