"""Failed commands leave nothing behind, and leftovers of killed ones are cleaned up."""
from __future__ import annotations

import os
import subprocess
import sys


def _one_line(result, fragment):
    assert result.code == 1, result.err
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: ") and fragment in line and "Traceback" not in result.err


def test_export_to_an_empty_output_is_refused(cli, generated, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out", "-o", "")
    _one_line(result, "-o ''")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_base_directory_it_created(cli, generated, tmp_path):
    """Failing after the staging folder exists (the C++ check refuses a tensor fed and fetched)."""
    base = tmp_path / "new" / "deeper" / "serving"
    result = cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "images_ph",
                 "-o", base)
    _one_line(result, "both fed and fetched")
    assert list(tmp_path.iterdir()) == []


def test_serving_config_with_a_directory_for_batching_writes_nothing(cli, tmp_path):
    (tmp_path / "batching").mkdir()
    result = cli("serving-config", "--model", "m=/models/m", "-o", tmp_path / "models.config",
                 "--batching", tmp_path / "batching")
    _one_line(result, "is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batching"]


def test_a_killed_cuts_temp_file_is_removed_by_the_next_cut(cli, generated, tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process id that is gone, as a killed cut's would be
    stale = tmp_path / f".enc.pb.tmp-{child.pid}"
    stale.write_bytes(b"half a graph")
    alive = tmp_path / f".enc.pb.tmp-{os.getppid()}"  # a live process's temp file is never touched
    alive.write_bytes(b"being written")
    result = cli("cut", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                 "-o", tmp_path / "enc.pb")
    assert result.code == 0, result.err
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "enc.pb"]
