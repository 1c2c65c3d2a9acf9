"""Version folders that appear complete or not at all.

Serving loads a version folder as soon as it sees it, so the export is written
into a hidden temporary folder inside the base directory (same file system),
every file and folder is fsynced, and only then is it renamed to its number.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from graphsurgeon.errors import OutputExistsError, UsageError, WriteError
from graphsurgeon.exporters.atomic import fsync_dir, process_alive
from graphsurgeon.exporters.swap import exchange, pause_for_tests
from graphsurgeon.formats.limits import INT64_MAX

TEMP_PREFIX = ".graphsurgeon-tmp-"
RETIRED = "old-"  # TEMP_PREFIX + "old-N-PID": version N, moved aside while its replacement goes in
STALE = re.compile(r"(?P<retired>old-)?(?P<version>\d+)-(?P<pid>\d+)")
log = logging.getLogger(__name__)


def next_version(base: Path) -> int:
    versions = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()] if base.is_dir() else []
    return max(versions, default=0) + 1


def check_base(base_dir: str | os.PathLike, version: int | None, force: bool) -> int:
    """The version to write, after checking the target can be written without clobbering.

    An interrupted replacement in BASE is recovered first, so the next number
    is counted over every version that exists.
    """
    if not os.fspath(base_dir):
        raise UsageError("the output base directory is empty (-o ''); name the directory that holds the versions")
    _refuse_non_utf8(Path(base_dir))
    base = Path(base_dir)
    if base.exists() and not base.is_dir():
        raise WriteError(f"{base} exists and is not a directory; choose a base directory for version folders")
    if base.is_dir():
        recover_interrupted(base)
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


def _refuse_non_utf8(base: Path) -> None:
    """Serving takes the base path as UTF-8 text (--model_base_path, model_config_file's base_path, a proto
    string), and so does TensorFlow's loader: a name with other bytes could be written but never served."""
    raw = os.fsencode(base.absolute())
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        shown = raw.decode("utf-8", "backslashreplace")
        raise UsageError(f"-o {shown}: the path is not valid UTF-8 (byte 0x{raw[err.start]:02x}), and TensorFlow "
                         "Serving reads model paths as UTF-8; choose a UTF-8 name") from err


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
    """Yield a hidden staging folder; on success fsync it and rename it to BASE/VERSION.

    On failure nothing stays behind: not the staging folder, and not the base
    directories this export created.
    """
    created = _absent_dirs(base)
    published = False
    try:
        try:
            base.mkdir(parents=True, exist_ok=True)
            recover_interrupted(base)
            staging = base / f"{TEMP_PREFIX}{version}-{os.getpid()}"
            staging.mkdir()
        except OSError as err:
            raise WriteError(f"cannot write into {base}: {err.strerror}; check permissions and free space") from err
        try:
            yield staging
            _fsync_tree(staging)
            _swap_in(staging, base / str(version), force)
            published = True
        except OSError as err:
            raise WriteError(f"writing {base / str(version)} failed: {err.strerror}; nothing was published") from err
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        if not published:
            _remove_empty(created)


def _swap_in(staging: Path, target: Path, force: bool) -> None:
    """Publish ``staging`` as ``target``; an existing target is replaced in one step where possible."""
    pause_for_tests("before-swap")
    if not target.exists():
        os.rename(staging, target)
        fsync_dir(target.parent)
        return
    if not force:
        raise OutputExistsError(f"{target} appeared while exporting; pass --force to replace it")
    if exchange(staging, target):
        fsync_dir(target.parent)
        pause_for_tests("after-swap")
        return  # staging now holds the old version, which the caller removes
    # Two renames: the old version stays complete under a hidden name until the new one is in place;
    # recover_interrupted() puts it back if this process dies in between.
    retired = target.parent / f"{TEMP_PREFIX}{RETIRED}{target.name}-{os.getpid()}"
    os.rename(target, retired)
    fsync_dir(target.parent)
    pause_for_tests("between-renames")
    os.rename(staging, target)
    fsync_dir(target.parent)
    pause_for_tests("after-swap")
    shutil.rmtree(retired, ignore_errors=True)


def recover_interrupted(base: Path) -> None:
    """Undo what exports killed mid-way left in BASE (their process is gone).

    A retired version whose number is free again is the only complete copy of
    that version: it is renamed back. A retired version whose number holds a
    published replacement, and a staging folder (never published, or the old
    side of a finished exchange), are removed.
    """
    for path in sorted(base.glob(TEMP_PREFIX + "*")):
        match = STALE.fullmatch(path.name[len(TEMP_PREFIX):])
        if not match or process_alive(int(match.group("pid"))):
            continue
        target = base / match.group("version")
        if match.group("retired") and not target.exists():
            try:
                os.rename(path, target)
                fsync_dir(base)
            except OSError as err:
                raise WriteError(f"cannot restore {target} from {path} (left by a killed export): {err.strerror}; "
                                 f"rename it back to {target.name} by hand") from err
            log.warning("restored %s from %s, left by an export that was killed while replacing it", target, path)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _absent_dirs(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, deepest first."""
    absent = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        absent.append(candidate)
    return absent


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:  # deepest first
        with contextlib.suppress(OSError):
            directory.rmdir()


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
