"""Version folders that appear complete or not at all.

Serving loads a version folder as soon as it sees it, so the export is written
into a hidden temporary folder inside the base directory (same file system),
every file and folder is fsynced, and only then is it renamed to its number.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from graphsurgeon.errors import OutputExistsError, UsageError, WriteError
from graphsurgeon.exporters.atomic import fsync_dir
from graphsurgeon.limits import INT64_MAX

TEMP_PREFIX = ".graphsurgeon-tmp-"


def next_version(base: Path) -> int:
    versions = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()] if base.is_dir() else []
    return max(versions, default=0) + 1


def check_base(base: Path, version: int | None, force: bool) -> int:
    """The version to write, after checking the target can be written without clobbering."""
    if base.exists() and not base.is_dir():
        raise WriteError(f"{base} exists and is not a directory; choose a base directory for version folders")
    version = next_version(base) if version is None else version
    if version < 0:
        raise WriteError(f"version {version} is negative; Serving loads only non-negative integer folders")
    if version > INT64_MAX:
        raise UsageError(f"version {version} does not fit in int64, which Serving reads version folders as; "
                         "choose a smaller --version")
    same = sorted(p.name for p in base.iterdir() if p.name.isdigit() and int(p.name) == version
                  and p.name != str(version)) if base.is_dir() else []
    if same:
        raise OutputExistsError(f"{base / same[0]} is already version {version} under another spelling; Serving "
                                "would see two folders with one number: choose another --version or remove it")
    if (base / str(version)).exists() and not force:
        raise OutputExistsError(f"{base / str(version)} already exists; pass --force to replace it or choose --version")
    return version


def check_outside_source(base: Path, source: str) -> None:
    """Refuse a base directory that is the source model's folder, or inside it: the export would land in the model."""
    if not source:
        return
    source_path = Path(source).resolve()
    folder = source_path if source_path.is_dir() else source_path.parent
    target = base.resolve()
    if target == folder or (source_path.is_dir() and folder in target.parents):
        raise UsageError(f"-o {base} is the source model's own folder {folder}; write the export somewhere else "
                         "(e.g. a serving/ directory beside it)")


@contextlib.contextmanager
def staged_version(base: Path, version: int, force: bool) -> Iterator[Path]:
    """Yield a hidden staging folder; on success fsync it and rename it to BASE/VERSION."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(base)
        staging = base / f"{TEMP_PREFIX}{version}-{os.getpid()}"
        staging.mkdir()
    except OSError as err:
        raise WriteError(f"cannot write into {base}: {err.strerror}; check permissions and free space") from err
    try:
        yield staging
        _fsync_tree(staging)
        _swap_in(staging, base / str(version), force)
    except OSError as err:
        raise WriteError(f"writing {base / str(version)} failed: {err.strerror}; nothing was published") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, target: Path, force: bool) -> None:
    retired = None
    if target.exists():
        if not force:
            raise OutputExistsError(f"{target} appeared while exporting; pass --force to replace it")
        retired = target.parent / f"{TEMP_PREFIX}old-{target.name}-{os.getpid()}"
        os.rename(target, retired)
    os.rename(staging, target)
    fsync_dir(target.parent)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def background_sync(root: Path) -> threading.Thread:
    """Start fsyncing what is written so far; os.fsync releases the GIL, so other work goes on."""
    thread = threading.Thread(target=_fsync_tree, args=(root,), name="graphsurgeon-fsync", daemon=True)
    thread.start()
    return thread


def _fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(directory))


def _remove_stale_staging(base: Path) -> None:
    """Staging folders left by exports that were killed: their process is gone."""
    for path in base.glob(TEMP_PREFIX + "*"):
        match = re.search(r"-(\d+)$", path.name)
        if match and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
