"""The values verify invents for a table lookup, on tiny graphs built in code.

    words (string) ──► LookupTableFindV2 ◄── table ◄── InitializeTableV2(keys, values)
"""
from __future__ import annotations

import numpy as np

from graphsurgeon.formats import dtypes as dt
from graphsurgeon.ir.graph import Node
from graphsurgeon.names import TensorRef
from graphsurgeon.verify.domains import domain_of
from tests.tiny import attr, const, model, op, placeholder

STRING, INT64 = dt.enum_of("string"), dt.enum_of("int64")


def _lookup(*keys_nodes: Node) -> list[Node]:
    return [placeholder("words", (-1,), STRING), Node("table", "HashTableV2"), *keys_nodes,
            const("values", np.arange(3, dtype=np.int64), INT64),
            op("init", "InitializeTableV2", ["table", "keys", "values"]),
            const("default", np.int64(-1), INT64),
            op("find", "LookupTableFindV2", ["table", "words", "default"])]


def test_words_come_from_the_tables_constant_keys():
    graph = model(*_lookup(const("keys", np.array([b"a", b"b", b"c"], dtype=object), STRING)))
    domain = domain_of(graph, TensorRef("words"), None)
    assert domain.kind == "vocabulary" and domain.words == (b"a", b"b", b"c")


def test_keys_an_export_moved_into_a_variable_give_the_default_values_not_an_error():
    # export stores constants of 1 KiB or more in variables/: the keys then come from a variable's read
    keys = [Node("keys_var", "VariableV2", attrs={"dtype": attr(type=STRING)}), op("keys", "Identity", ["keys_var"])]
    domain = domain_of(model(*_lookup(*keys)), TensorRef("words"), None)
    assert domain.kind == "default"
