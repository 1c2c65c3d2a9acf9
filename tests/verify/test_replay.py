"""The record's recipe replayed as a cut, at the cost of one C++ loader child, with export's loading options."""
from __future__ import annotations

import shutil

import numpy as np

import graphsurgeon as gs
from graphsurgeon.exporters.serving_files import warmup_records, write_tfrecord
from graphsurgeon.loaders.bundle import Bundle
from graphsurgeon.verify.cpp_loader import LoaderChild, Run, run_in_cpp_loader
from tests.verify.conftest import flat, report_of

PREFIX = "model.ckpt-3"


def test_weights_outside_the_cut_are_never_read(cli, generated, exported, tmp_path):
    """The decoder's bytes are zeroed in a copy of the checkpoint: an encoder cut verifies against it all the same."""
    source = generated / "encoder_decoder"
    version = exported(source, inputs=["images_ph"], outputs=["encoder/out"])
    damaged = tmp_path / "damaged"
    shutil.copytree(source, damaged)
    entries = Bundle(str(damaged / PREFIX)).entries
    data = damaged / f"{PREFIX}.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    for key in ("decoder/fc/w", "decoder/fc/w/Adam", "encoder/fc/w/Adam_1"):
        entry = entries[key]
        raw[entry.offset:entry.offset + entry.size] = bytes(entry.size)
    data.write_bytes(bytes(raw))
    assert cli("verify", version, "--against", damaged / PREFIX).code == 0
    zeroed_kept = tmp_path / "kept"
    shutil.copytree(damaged, zeroed_kept)
    entry = entries["encoder/fc/w"]
    raw[entry.offset:entry.offset + entry.size] = bytes(entry.size)
    (zeroed_kept / data.name).write_bytes(bytes(raw))
    result = cli("verify", version, "--against", zeroed_kept / PREFIX)
    (line,) = result.err.strip().splitlines()
    assert result.code == 1 and "checkpoint tensor 'encoder/fc/w'" in line and "fail their CRC32C check" in line


def test_one_child_runs_the_export_its_warmup_and_the_source(generated, tmp_path, monkeypatch):
    rows = np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32)
    np.savez(tmp_path / "warm.npz", images_ph=rows)
    version = gs.export(generated / "encoder_decoder", gs.Recipe(inputs=["images_ph"], outputs=["encoder/out"],
                                                                warmup=str(tmp_path / "warm.npz")), tmp_path / "enc").path
    started, asked = [], []
    real_init, real_ask = LoaderChild.__init__, LoaderChild.ask

    def counted_init(self, *args, **kwargs):
        started.append(self)
        real_init(self, *args, **kwargs)

    def counted_ask(self, sessions):
        asked.append([s.export_dir or "reference" for s in sessions])
        return real_ask(self, sessions)

    monkeypatch.setattr(LoaderChild, "__init__", counted_init)
    monkeypatch.setattr(LoaderChild, "ask", counted_ask)
    report = gs.verify(version)
    assert report.ok, report
    assert len(started) == 1 and asked == [[str(version), "reference"]]
    assert [f.message for f in report.findings if f.check == "warmup requests"] == [
        "3 request(s) in tf_serving_warmup_requests ran"]


def test_a_damaged_warmup_file_is_a_failed_check_not_a_traceback(generated, tmp_path):
    np.savez(tmp_path / "warm.npz", images_ph=np.zeros((2, 32, 32, 3), np.float32))
    version = gs.export(generated / "encoder_decoder", gs.Recipe(inputs=["images_ph"], outputs=["encoder/out"],
                                                                warmup=str(tmp_path / "warm.npz")), tmp_path / "enc").path
    warmup = version / "assets.extra" / "tf_serving_warmup_requests"
    whole = warmup.read_bytes()
    for damaged, says in ((whole[:-3], "record 1 is damaged"), (whole[:20] + b"x" + whole[21:], "record 0 is damaged")):
        warmup.write_bytes(damaged)
        report = gs.verify(version, replay=False)
        (finding,) = [f for f in report.findings if f.check == "warmup requests"]
        assert not report.ok and not finding.ok and says in finding.message, finding
    write_tfrecord(warmup, warmup_records("enc", "serving_default", [{"pixels": np.zeros((1, 32, 32, 3), np.float32)}]))
    (finding,) = [f for f in gs.verify(version, replay=False).findings if f.check == "warmup requests"]
    assert "sends input 'pixels', which the signature lacks (it takes images_ph)" in finding.message


def test_a_0_d_array_reaches_the_runtime_as_a_scalar(cases, exported):
    version = exported(cases / "scalars" / "model.ckpt-1", outputs=["y"])
    feeds = {"x:0": np.ones((2, 3), np.float32), "use_double:0": np.array(True), "scale:0": np.array(0.5, np.float32),
             "steps:0": np.array(2, np.int32)}
    [[y]] = run_in_cpp_loader(version, ["serve"], [Run(feeds, ["y:0"])])
    assert y.shape == (2, 3)


def test_tags_load_the_source_and_export_tags_pick_the_export(cli, corpus, tmp_path):
    source = corpus / "rust_regression_savedmodel_tf1"
    assert cli("export", source, "--tags", "train,serve", "-o", tmp_path / "out").code == 0
    version = tmp_path / "out" / "1"
    assert cli("verify", version).code == 0  # the recorded --tags are replayed (they run no code)
    wrong_source = cli("verify", version, "--tags", "serve")
    assert wrong_source.code == 1 and "has no MetaGraph tagged ['serve']" in wrong_source.err
    wrong_export = cli("verify", version, "--export-tags", "gpu")
    assert wrong_export.code == 1 and "no MetaGraph tagged ['gpu']" in flat(wrong_export.out + wrong_export.err)


def test_no_replay_only_loads_and_runs(cli, cases, exported):
    module = cases / "keras" / "layer.py"
    version = exported(cases / "keras" / "layer.keras", custom_objects=str(module))
    result = cli("verify", version, "--no-replay", "--json")
    assert result.code == 0 and report_of(result)["compared_with"] is None
