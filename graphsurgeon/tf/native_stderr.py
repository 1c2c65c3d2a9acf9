"""Holding back what native code writes to file descriptor 2 (TensorFlow's C++ start-up lines).

Plain os-level redirection, no TensorFlow: runtime uses it around every import of
and call into TensorFlow that may log from C++.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_held_back(show_on_failure: bool = False) -> Iterator[None]:
    """Hold back what native code writes to fd 2; if the block fails, log it (shown with -v), or with
    ``show_on_failure`` write it to stderr (fixtures/build.py: a failing builder shows why).

    TensorFlow 2.21 logs INFO lines from C++ (oneDNN, CUDA probing) at import,
    before TF_CPP_MIN_LOG_LEVEL takes effect, into the CLI's output. A failure
    the caller turns into a one-line error must not print those lines either.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            capture.seek(0)
            native = capture.read().decode(errors="replace").strip()
            if native and show_on_failure:
                sys.stderr.write(native + "\n")
            elif native:
                logging.getLogger("graphsurgeon.tf.runtime").debug(
                    "TensorFlow's native output before the failure:\n%s", native)
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
