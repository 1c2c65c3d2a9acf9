from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Model, Source
from graphsurgeon.ir.weights import WeightInfo, WeightStore

__all__ = ["Graph", "Model", "Node", "Source", "WeightInfo", "WeightStore"]
