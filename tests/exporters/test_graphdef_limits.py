"""A frozen GraphDef over protobuf's 2 GiB limit is refused before any work, with the way out."""
from __future__ import annotations

import pytest

import graphsurgeon as gs
from graphsurgeon import errors
from graphsurgeon.exporters.graphdef import write_graph_def
from graphsurgeon.ir.weights import ArraySource, WeightInfo, WeightStore
from tests.tiny import extract


class NeverRead(ArraySource):
    def read(self, key):
        pytest.fail(f"read {key}: the size check must come before any weight is read")


def test_frozen_pb_over_two_gib_is_refused_up_front(generated, tmp_path):
    model = extract(gs.load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])
    huge = WeightInfo("encoder/fc/w", 1, (2**20, 768), 2**20 * 768 * 4)  # 3 GiB
    weights = WeightStore({**{k: (model.weights[k], NeverRead({})) for k in model.weights},
                           "encoder/fc/w": (huge, NeverRead({}))})
    with pytest.raises(errors.WriteError, match=r"about 3\.\d+ GiB, over protobuf's 2 GiB limit; export a SavedModel"):
        write_graph_def(model.replace(weights=weights), tmp_path / "big.pb")
    assert list(tmp_path.iterdir()) == []
