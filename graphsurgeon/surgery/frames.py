"""Which v1 while-loop frame each node runs in, as TensorFlow's executor decides it.

Enter starts a child frame (named by its frame_name attr) and belongs to it;
Exit belongs to the child frame and sends its output to the parent. Every other
node runs in the frame of its inputs. A forward breadth-first walk from the
source nodes assigns frames, like TensorFlow's BuildControlFlowInfo.
"""
from __future__ import annotations

from collections import deque

from graphsurgeon.ir.graph import Graph
from graphsurgeon.ir.ops import ENTER_OPS, EXIT_OPS

ROOT = ""


def has_loops(graph: Graph) -> bool:
    return bool(graph.of_ops(ENTER_OPS))


def node_frames(graph: Graph) -> dict[str, str]:
    """Node name -> frame name ('' for the root frame)."""
    frame: dict[str, str] = {}
    parent: dict[str, str] = {}
    ready: deque[str] = deque()
    for node in graph:
        if not node.inputs and not node.control_inputs:
            frame[node.name] = ROOT
            ready.append(node.name)
    while ready:
        name = ready.popleft()
        node = graph[name]
        out_frame = parent.get(frame[name], ROOT) if node.op in EXIT_OPS else frame[name]
        for consumer in graph.consumers.get(name, ()):
            if consumer in frame:
                continue
            target = graph[consumer]
            if target.op in ENTER_OPS:
                child = out_frame + "/" + target.attrs["frame_name"].s.decode()
                parent[child] = out_frame
                frame[consumer] = child
            else:
                frame[consumer] = out_frame
            ready.append(consumer)
    return frame
