"""One output against the source's: every element within tolerance, NaN and Inf, empty outputs, the defaults."""
from __future__ import annotations

import numpy as np

from graphsurgeon import defaults
from graphsurgeon.verify.compare import check_output, same_outputs, tolerance

SOURCE = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)


def _check(value, expected=SOURCE, atol=defaults.ATOL, rtol=defaults.RTOL, allow_empty=False):
    return check_output("serving_default", "y", [np.asarray(value)], [np.asarray(expected)], atol, rtol, allow_empty)


def test_one_element_out_of_many_fails_the_output():
    off = SOURCE.copy()
    off[0, 2] += 1e-3
    check = _check(off)
    assert not check.ok and check.problem.startswith("differs from the source at 1 of 4 elements")


def test_exactly_at_the_tolerance_passes():
    off = SOURCE.copy()
    off[0, 0] += 2.0 ** -10
    assert _check(off, atol=2.0 ** -10, rtol=0.0).ok
    assert not _check(off, atol=2.0 ** -11, rtol=0.0).ok


def test_a_per_output_tolerance_leaves_the_other_kind_at_its_own_default():
    given = {"": 0.5, "y": 1e-3}
    assert tolerance(given, "serving_default", "y", defaults.RTOL) == 1e-3
    assert tolerance({"y": 1e-3}, "serving_default", "z", defaults.RTOL) == defaults.RTOL
    assert tolerance({"y": 1e-3}, "serving_default", "z", defaults.ATOL) == defaults.ATOL
    assert tolerance({"serving_default/z": 2.0, "z": 1.0}, "serving_default", "z", defaults.ATOL) == 2.0


def test_nan_and_inf_where_the_source_has_them_are_notes():
    source = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    check = _check(source.copy(), source)
    assert check.ok and check.notes == ["the source itself produces NaN at 1 of 4 elements; the export does the same",
                                        "the source itself produces Inf at 2 of 4 elements; the export does the same"]


def test_nan_only_in_the_export_fails_and_nan_only_in_the_source_is_a_mismatch():
    export_nan = _check(np.array([np.nan, 2.0], np.float32), np.array([1.0, 2.0], np.float32))
    assert not export_nan.ok and export_nan.problem == "NaN in the export at 1 of 2 elements where the source gives numbers"
    source_nan = _check(np.array([1.0, 2.0], np.float32), np.array([np.nan, 2.0], np.float32))
    assert not source_nan.ok and source_nan.problem.startswith("differs from the source at 1 of 2 elements")
    flipped = _check(np.array([np.inf], np.float32), np.array([-np.inf], np.float32))
    assert not flipped.ok


def test_an_empty_output_fails_unless_allowed():
    empty = np.zeros((2, 0), np.float32)
    assert not _check(empty, empty).ok and "--allow-empty y" in _check(empty, empty).problem
    assert _check(empty, empty, allow_empty=True).ok


def test_every_run_is_compared_not_only_the_first():
    good, bad = SOURCE, SOURCE + 1.0
    check = check_output("serving_default", "y", [good, bad], [good, good], defaults.ATOL, defaults.RTOL, False)
    assert not check.ok and check.max_abs_error == 1.0


def test_strings_and_shapes_are_compared_exactly():
    words = np.array([b"a", b"b"], dtype=object)
    assert _check(words, words).ok and not _check(words, np.array([b"a", b"c"], dtype=object)).ok
    assert _check(SOURCE[:, :2], SOURCE).problem == "shape [1, 2], but the source gives [1, 4]"


def test_two_runs_that_differ_beyond_tolerance_are_not_the_same():
    assert same_outputs([SOURCE], [SOURCE.copy()], 0.0, 0.0)
    assert same_outputs([np.array([np.nan])], [np.array([np.nan])], 0.0, 0.0)
    assert not same_outputs([SOURCE], [SOURCE + 1e-3], 1e-5, 1e-5)


def test_an_output_without_its_own_rtol_gets_the_rtol_default_not_the_atol_one(monkeypatch):
    monkeypatch.setattr(defaults, "RTOL", 0.5)  # apart from ATOL, so the two defaults can be told apart
    tenth_off = SOURCE * 1.1
    assert _check(tenth_off, atol={"other": 0.0}, rtol={"other": 0.0}).ok
    monkeypatch.setattr(defaults, "RTOL", defaults.ATOL)
    assert not _check(tenth_off, atol={"other": 0.0}, rtol={"other": 0.0}).ok
