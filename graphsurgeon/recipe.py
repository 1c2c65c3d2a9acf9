"""Recipe: everything that decides what a run does, in one value.

The CLI parses its options once into a Recipe; a conversion script builds one
in Python. Every field defaults to None, meaning "the library's default"
(graphsurgeon/defaults.py), so the CLI and the library cannot disagree about a
default. An export records its Recipe as JSON in assets.extra/, and verify
replays it against the source.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from graphsurgeon import defaults
from graphsurgeon.errors import UsageError
from graphsurgeon.surgery.select import InputSpec


BatchPolicy = Literal["auto", "dynamic", "static"]
Method = Literal["predict", "classify", "regress"]


@dataclass(frozen=True)
class FrontEnd:
    """Encoded images in, where the network takes pixels (surgery/frontends.py).

    Attributes:
        image_input: the input (a Placeholder, or a tensor the cut makes one) that takes pixels.
        image_key: the signature key of the string input (default ``defaults.IMAGE_KEY``, for REST's b64).
        normalize: a preset (unit, inception, centered, raw, caffe) or a range such as "-1,1" (default unit).
        mean, std: per-channel (pixel - mean) / std on 0..255 pixels, instead of a preset.
        channels_first: the network takes [N, C, H, W].
    """

    image_input: str
    image_key: str | None = None
    normalize: str | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    channels_first: bool | None = None


@dataclass(frozen=True)
class Head:
    """A classification head on one output (surgery/heads.py): outputs classes and probabilities of the top k.

    Attributes:
        top_k: how many classes each request returns.
        output: the logits or probabilities output it reads (default: the only output).
        labels: a text file, one label per line, shipped as an asset; adds a ``labels`` output.
    """

    top_k: int
    output: str | None = None
    labels: str | None = None


# The fields a Recipe holds as tuples of names, however they are given (a list, one string).
TUPLE_FIELDS = ("tags", "signatures", "replace_layers", "outputs", "extra_assets", "export_tags")


@dataclass(frozen=True)
class Recipe:
    """What to load, what to keep, how to bind it, and how to serve it. Every field None means the default.

    The source:
        tags: the MetaGraph tags of a SavedModel source (default ``serve``).
        signatures: the TF2 SavedModel signatures to flatten together (default: every one that can be frozen).
        architecture: the JSON architecture of a weights-only Keras .h5 file.
        custom_objects: a Python file defining a Keras model's custom layers and functions.
        unsafe_lambda: allow Keras Lambda layers, whose stored bytecode runs (trusted files only).
        weights: where a checkpoint the graph restores at init is now, or a weightless .meta's checkpoint.
        replace_layers: "NAME=module.py:function" each: trace Keras layer NAME with that function.
    The cut:
        inputs: tensors that become Placeholders ("NAME", "NAME=float32[?,224,224,3]" or InputSpec); default:
            the source's own Placeholders the outputs need.
        outputs: nodes, tensors or Keras layers to keep (default: the source's signatures' outputs, else a Keras
            model's output layers).
        bindings: NAME -> value; each tensor becomes a constant and the conds it decides fold.
        init_from_initializers: variables missing from the checkpoint take their own initializers' values.
        strip: remove Identity/CheckNumerics pass-throughs (default True).
        batch: the inputs' batch dimension: "auto" (pipeline outputs relaxed), "dynamic" or "static".
        stochastic: the model samples on purpose: no warning for training switches left on or random ops.
        asset_dir: where asset files are now, when the model names them by another machine's paths.
        extra_assets: more files to ship in assets/.
    Serving front and back ends:
        front_end: encoded images in (FrontEnd, or a dict of its fields).
        head: a classification head (Head, or a dict of its fields).
        keys: NAME -> signature key, NAME being any name given for an input or output (node, tensor, Keras layer,
            or the name of the Placeholder a cut made).
        method: serving_default's method, "predict" (default), "classify" or "regress".
        warmup: an .npz whose rows become Serving's warmup requests.
    The export:
        inline_limit: constants of this many bytes or more go to variables/ (default 1 KiB).
        export_tags: the exported MetaGraph's tags (default ``serve``).
    """

    # the source
    tags: tuple[str, ...] | None = None
    signatures: tuple[str, ...] | None = None
    architecture: str | None = None
    custom_objects: str | None = None
    unsafe_lambda: bool | None = None
    weights: str | None = None
    replace_layers: tuple[str, ...] | None = None  # "NAME=module.py:function" (loaders/keras/replace.py)
    # the cut
    inputs: tuple[InputSpec, ...] | None = None
    outputs: tuple[str, ...] | None = None
    bindings: Mapping[str, Any] | None = None
    init_from_initializers: bool | None = None
    strip: bool | None = None
    batch: BatchPolicy | None = None
    stochastic: bool | None = None
    asset_dir: str | None = None
    extra_assets: tuple[str, ...] | None = None
    # serving front and back ends
    front_end: FrontEnd | None = None
    head: Head | None = None
    keys: Mapping[str, str] | None = None
    method: Method | None = None
    warmup: str | None = None
    # the export
    inline_limit: int | None = None
    export_tags: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # Accept what a script naturally writes (lists, "name=float32[?,3]" strings) and store one form.
        for name in TUPLE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        if self.inputs is not None:
            specs = (self.inputs,) if isinstance(self.inputs, (str, InputSpec)) else self.inputs
            object.__setattr__(self, "inputs", tuple(s if isinstance(s, InputSpec) else InputSpec.parse(str(s))
                                                     for s in specs))
        for name in ("bindings", "keys"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, dict(getattr(self, name)))
        for name, kind in (("front_end", FrontEnd), ("head", Head)):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, kind(**value))

    def replace(self, **changes: Any) -> "Recipe":
        return dataclasses.replace(self, **changes)

    # Library defaults, resolved here and nowhere else.
    @property
    def export_tag_list(self) -> tuple[str, ...]:
        return self.export_tags if self.export_tags is not None else defaults.EXPORT_TAGS

    @property
    def inline_bytes(self) -> int:
        return self.inline_limit if self.inline_limit is not None else defaults.INLINE_LIMIT

    @property
    def signature_method(self) -> str:
        return self.method or defaults.METHOD

    @property
    def input_specs(self) -> tuple[InputSpec, ...]:
        specs = tuple(self.inputs or ())
        if self.front_end and self.front_end.image_input not in {s.name for s in specs}:
            specs += (InputSpec(self.front_end.image_input),)  # the pixels input must be a Placeholder to replace
        return specs

    @property
    def strips(self) -> bool:
        return True if self.strip is None else self.strip

    @property
    def inits_from_initializers(self) -> bool:
        return bool(self.init_from_initializers)

    @property
    def names_own_signature(self) -> bool:
        """True when serving_default is built from this recipe rather than kept from the source."""
        return bool(self.outputs or self.keys or self.head or self.front_end)

    def to_json(self) -> dict[str, Any]:
        """The recipe as given: fields left at None are omitted; JSON-safe and deterministic."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = _jsonable(value)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Recipe":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"recipe field(s) {', '.join(unknown)} are unknown to this graphsurgeon; "
                             "upgrade graphsurgeon or remove them")
        values = dict(data)
        if "inputs" in values:
            values["inputs"] = tuple(_input_spec(spec) for spec in values["inputs"])
        if "front_end" in values:
            values["front_end"] = FrontEnd(**values["front_end"])
        if "head" in values:
            values["head"] = Head(**values["head"])
        for name in ("mean", "std"):
            if values.get("front_end") and getattr(values["front_end"], name) is not None:
                values["front_end"] = dataclasses.replace(values["front_end"],
                                                          **{name: tuple(getattr(values["front_end"], name))})
        return cls(**values)


def _input_spec(spec: Any) -> InputSpec:
    if not isinstance(spec, Mapping):
        return InputSpec.parse(str(spec))
    shape = spec.get("shape")
    return InputSpec(spec["name"], spec.get("dtype"), tuple(shape) if shape is not None else None)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy values given to --set
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
