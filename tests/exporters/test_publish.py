"""Version folders appear complete or not at all, and are never overwritten without --force."""
from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time

import pytest

from graphsurgeon.verify import verify

KILLS = 20


def _export_args(generated, base, *extra):
    return [sys.executable, "-m", "graphsurgeon", "export", str(generated / "encoder_decoder"), "--inputs",
            "images_ph", "--outputs", "encoder/out", "-o", str(base), *extra]


@pytest.mark.slow
def test_killed_exports_leave_no_broken_version(generated, tmp_path):
    base = tmp_path / "serving"
    rng = random.Random(20)
    for version in range(1, KILLS + 1):
        proc = subprocess.Popen(_export_args(generated, base, "--version", str(version)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 4.5))  # import, load, write and rename happen in this window
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    published = sorted(p for p in base.iterdir() if p.name.isdigit()) if base.exists() else []
    print(f"{len(published)} of {KILLS} killed exports had published their version")
    for folder in published:
        report = verify(folder)
        assert report.ok, (folder, report)
    hidden = [p.name for p in base.iterdir() if not p.name.isdigit()] if base.exists() else []
    assert all(name.startswith(".graphsurgeon-tmp-") for name in hidden)


def test_existing_version_is_not_overwritten_without_force(cli, generated, tmp_path):
    base = tmp_path / "serving"
    (base / "1").mkdir(parents=True)
    (base / "1" / "keep.txt").write_text("mine")
    result = cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                 "-o", base, "--version", "1")
    assert result.code == 1 and "already exists; pass --force" in result.err
    assert (base / "1" / "keep.txt").read_text() == "mine"
    assert cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
               "-o", base).code == 0
    assert (base / "2" / "saved_model.pb").is_file()  # the next integer by default
    assert cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
               "-o", base, "--version", "1", "--force").code == 0
    assert not (base / "1" / "keep.txt").exists() and (base / "1" / "saved_model.pb").is_file()


def test_read_only_target_is_a_clear_error(generated, tmp_path, cli):
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        result = cli("export", generated / "encoder_decoder", "--inputs", "images_ph", "--outputs", "encoder/out",
                     "-o", mount / "serving")
        assert result.code == 1
        (line,) = result.err.strip().splitlines()
        assert "Read-only file system" in line and str(mount / "serving") in line
        assert list(mount.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mount)])


def test_full_disk_is_a_clear_error_and_leaves_nothing(generated, tmp_path):
    """The file-size limit stands in for a full disk: writes past 100 KiB fail like ENOSPC would."""
    base = tmp_path / "serving"

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, 100 * 1024))

    proc = subprocess.run(_export_args(generated, base), capture_output=True, text=True, preexec_fn=limit,
                          env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert not [p for p in base.iterdir()] if base.exists() else True
