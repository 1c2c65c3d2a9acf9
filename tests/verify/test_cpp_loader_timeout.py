"""A C++ loader child that does not finish in time is stopped and named in one line, not a TimeoutExpired traceback."""
from __future__ import annotations

import pytest

from graphsurgeon.verify.cpp_loader import CppLoaderError, Run, run_in_cpp_loader


def test_a_child_past_its_timeout_is_one_clear_error(generated):
    export_dir = generated / "latent_search" / "article_export" / "1"
    # 10 ms: the child cannot even start Python in that time, so it is stopped mid-way.
    with pytest.raises(CppLoaderError) as caught:
        run_in_cpp_loader(export_dir, ["serve"], [Run({}, [])], timeout=0.01)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"TensorFlow's C++ loader did not finish with {export_dir} within 0.01 s")
