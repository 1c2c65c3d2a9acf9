"""Every default that decides an export, written once: the CLI's help and the library both read these.

A Recipe field left as None means "the value here".
"""
from __future__ import annotations

SERVE_TAG = "serve"  # the MetaGraph tag Serving loads, and the one read from a SavedModel source
EXPORT_TAGS: tuple[str, ...] = (SERVE_TAG,)
INLINE_LIMIT = 1024  # constants of at least this many bytes go to variables/ (1KiB)
INLINE_LIMIT_TEXT = "1KiB"
IMAGE_KEY = "image_bytes"  # so REST's {"b64": ...} works for an encoded-image input
METHOD = "predict"
DEFAULT_SIGNATURE = "serving_default"
ATOL = 1e-5
RTOL = 1e-5
