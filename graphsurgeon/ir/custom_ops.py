"""Ops TensorFlow does not register, and the package that provides each, where this small table knows it.

A graph that needs them loads only where that package's kernels are linked in: not in stock TensorFlow,
nor in stock TensorFlow Serving. Op names as the packages register them (tensorflow/text's kernels,
TF-DF's SimpleML* ops, and the prefixes TF-Addons, TF-IO and TFRA give their ops).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

# Op name prefix -> the package that registers ops so named.
PREFIXES = {
    "SimpleML": "tensorflow_decision_forests",
    "Addons>": "tensorflow_addons",
    "IO>": "tensorflow_io",
    "TFRA>": "tensorflow_recommenders_addons",  # TFRA's name under TF 2 ("Tfra" under TF 1)
    "Tfra": "tensorflow_recommenders_addons",
    "TFText>": "tensorflow_text",
}
# tensorflow_text's ops registered without a prefix.
TEXT_OPS = frozenset({
    "CaseFoldUTF8", "ConstrainedSequence", "FastBertNormalize", "FastWordpieceTokenizeWithOffsets",
    "FindSourceOffsets", "MaxSpanningTree", "NormalizeUTF8", "NormalizeUTF8WithOffsetsMap", "PhraseTokenize",
    "RegexSplitWithOffsets", "RougeL", "SentenceFragments", "SentenceFragmentsV2", "SentencepieceDetokenizeOp",
    "SentencepieceIdToStringOp", "SentencepieceOp", "SentencepieceStringToIdOp", "SentencepieceTokenizeOp",
    "SentencepieceTokenizeWithOffsetsOp", "SentencepieceVocabSizeOp", "SplitMergeTokenizeWithOffsets",
    "TokenizerFromLogits", "UnicodeScriptTokenizeWithOffsets", "WhitespaceTokenizeWithOffsets",
    "WordpieceTokenizeWithOffsets",
})


def provider(op: str) -> str | None:
    """The package that registers ``op``, if the table knows it."""
    if op in TEXT_OPS:
        return "tensorflow_text"
    return next((package for prefix, package in PREFIXES.items() if op.startswith(prefix)), None)


def describe(op: str, where: str | None = None) -> str:
    """'SimpleMLInferenceOpWithHandle' (node 'forest/inference', from tensorflow_decision_forests)."""
    facts = ([where] if where else []) + ([f"from {provider(op)}"] if provider(op) else [])
    return f"{op!r}" + (f" ({', '.join(facts)})" if facts else "")


def listed(ops: Sequence[str], where: Mapping[str, str] | None = None) -> str:
    """Every op described, '; '-separated (``where``: op -> where it is used, as ir.types.unregistered_ops_of
    says)."""
    return "; ".join(describe(op, (where or {}).get(op)) for op in ops)


def packages(ops: Iterable[str]) -> list[str]:
    return sorted({p for p in (provider(op) for op in ops) if p})


def unregistered_list(ops: Sequence[str], where: Mapping[str, str] | None = None) -> str:
    """'2 op(s) this TensorFlow does not register: ...', each op described."""
    return f"{len(ops)} op(s) this TensorFlow does not register: {listed(ops, where)}"


def serving_build(ops: Iterable[str]) -> str:
    """The TensorFlow Serving that can run ``ops``."""
    known = packages(ops)
    return f"a TensorFlow Serving built with the ops of {' and '.join(known)}" if known else \
        "a TensorFlow Serving built with them"


def unregistered_message(ops: Sequence[str], where: Mapping[str, str] | None = None) -> str:
    """The one line that refuses a graph needing ``ops``: every op, where it is used, its package, the fix."""
    return (f"the graph needs {unregistered_list(ops, where)}; stock TensorFlow and TensorFlow Serving cannot run "
            "them: cut them away (--inputs/--outputs that avoid them; `graphsurgeon audit` shows what needs them), "
            f"or serve with {serving_build(ops)}")
