from graphsurgeon.ir.graph import Graph, Node
from graphsurgeon.ir.model import Asset, Model, Source
from graphsurgeon.ir.weights import WeightInfo, WeightStore

__all__ = ["Asset", "Graph", "Model", "Node", "Source", "WeightInfo", "WeightStore"]
