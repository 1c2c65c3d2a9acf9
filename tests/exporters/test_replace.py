"""--force replaces a version crash-safely, and a killed export leaves nothing a later one cannot recover.

The kill tests pause a real export at a step of the replacement (through the
GRAPHSURGEON_TEST_PAUSE hook in exporters/swap.py), SIGKILL it there, and
check that version 1 is still complete and that the next export recovers.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphsurgeon import load
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.exporters.saved_model.publish import TEMP_PREFIX, check_base
from graphsurgeon.exporters.swap import NO_EXCHANGE_ENV, PAUSE_ENV
from tests.tiny import extract


@pytest.fixture(scope="module")
def encoder(generated):
    return extract(load(generated / "encoder_decoder"), ["images_ph"], ["encoder/out"])


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _hidden(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.startswith("."))


def test_a_retired_version_whose_number_is_free_is_restored(encoder, tmp_path):
    """Killed between the two renames of the fallback: 1/ is gone, its only copy is hidden. Recover it."""
    base = tmp_path / "serving"
    first = export_saved_model(encoder, base, load_check=False)
    reference = (first / "saved_model.pb").read_bytes()
    first.rename(base / f"{TEMP_PREFIX}old-1-{_dead_pid()}")
    (base / f"{TEMP_PREFIX}1-{_dead_pid()}").mkdir()  # the staged replacement that never got in
    assert check_base(base, None, False) == 2  # recovery runs before the next number is chosen
    assert (base / "1" / "saved_model.pb").read_bytes() == reference
    assert _hidden(base) == []


def test_a_retired_version_with_a_published_replacement_is_removed(encoder, tmp_path):
    base = tmp_path / "serving"
    export_saved_model(encoder, base, load_check=False)
    (base / f"{TEMP_PREFIX}old-1-{_dead_pid()}").mkdir()
    assert check_base(base, None, False) == 2
    assert _hidden(base) == [] and (base / "1" / "saved_model.pb").is_file()


def test_a_live_exports_staging_is_left_alone(encoder, tmp_path):
    base = tmp_path / "serving"
    export_saved_model(encoder, base, load_check=False)
    live = base / f"{TEMP_PREFIX}old-1-{os.getpid()}"
    live.mkdir()
    check_base(base, None, False)
    assert live.is_dir()


def test_force_replaces_in_place(encoder, generated, tmp_path):
    base = tmp_path / "serving"
    export_saved_model(encoder, base, load_check=False)
    decoder = extract(load(generated / "encoder_decoder"), ["images_ph"], ["decoder/out"])
    path = export_saved_model(decoder, base, version=1, force=True, load_check=False)
    assert "decoder/out" in str(load(path).signatures["serving_default"].outputs)
    assert _hidden(base) == []


def _export_paused_and_killed(generated, base: Path, step: str, exchange: bool, tmp_path: Path) -> None:
    marker = tmp_path / f"paused-{step}"
    env = {**os.environ, PAUSE_ENV: f"{step}:{marker}"}
    if not exchange:
        env[NO_EXCHANGE_ENV] = "1"
    child = subprocess.Popen([sys.executable, "-m", "graphsurgeon", "export", str(generated / "encoder_decoder"),
                              "--inputs", "images_ph", "--outputs", "decoder/out", "-o", str(base), "--version", "1",
                              "--force", "--no-load-check"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline, "the export never reached the pause"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()


@pytest.mark.slow
@pytest.mark.parametrize("exchange, step", [(True, "before-swap"), (True, "after-swap"),
                                            (False, "between-renames"), (False, "after-swap")])
def test_force_killed_at_the_swap_loses_no_version(encoder, generated, tmp_path, exchange, step):
    base = tmp_path / "serving"
    old = (export_saved_model(encoder, base, load_check=False) / "saved_model.pb").read_bytes()
    _export_paused_and_killed(generated, base, step, exchange, tmp_path)
    replaced = step == "after-swap" or (exchange and step != "before-swap")
    if step == "between-renames":
        assert not (base / "1").exists()  # the one moment 1/ is missing: its only copy is hidden
    else:
        assert ((base / "1" / "saved_model.pb").read_bytes() == old) != replaced
    path = export_saved_model(encoder, base, load_check=False)  # the next export recovers, then counts
    assert path.name == "2" and _hidden(base) == []
    published = (base / "1" / "saved_model.pb").read_bytes()
    assert (published == old) != replaced  # the old version came back, or the new one stayed
