"""Export a model as a versioned SavedModel for TensorFlow Serving: BASE_DIR/<version>/.

Without --outputs, the source's own signatures are kept (and their outputs
decide what is kept). Variables are frozen and large constants stored in
variables/; assets are copied once each; one init op runs table initializers
in a guaranteed order. The version folder appears only when complete.

  graphsurgeon export model_dir --inputs images_ph --outputs encoder/out --keys images_ph=images -o serving/enc
  graphsurgeon verify serving/enc/1 --against model_dir
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from graphsurgeon.audit.sizes import parse_size
from graphsurgeon.cli import options
from graphsurgeon.cli.progress import DelayedProgress
from graphsurgeon.cli.render import print_export, print_json
from graphsurgeon.errors import UsageError
from graphsurgeon.exporters.saved_model import export_saved_model
from graphsurgeon.exporters.saved_model.publish import check_base
from graphsurgeon.exporters.saved_model.signatures import default_signature, from_source
from graphsurgeon.ir.model import Model
from graphsurgeon.ir.signatures import tensor_names
from graphsurgeon.loaders import load
from graphsurgeon.surgery import extract
from graphsurgeon.surgery.assets import carry_all_assets
from graphsurgeon.surgery.frontends import add_image_input, normalization
from graphsurgeon.surgery.heads import add_top_k
from graphsurgeon.surgery.select import InputSpec

NAME = "export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=True, outputs_required=False)
    parser.add_argument("-o", "--output", required=True, metavar="BASE_DIR", help="model base directory")
    options.add_saved_model(parser)
    parser.add_argument("--force", action="store_true", help="replace an existing version folder")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    check_base(Path(args.output), args.version, args.force)
    source = options.load_model(args)
    path = export(extract_for_export(source, args), args)
    report = {"path": str(path), "signatures": signature_summary(path),
              "requests": request_examples(Path(args.output).name, signature_summary(path))}
    if args.json:
        print_json(console, report)
    else:
        print_export(console, report)
    return 0


def extract_for_export(source: Model, args: argparse.Namespace) -> Model:
    """Cut to --outputs, else to the source's signature outputs (or a Keras model's output layers)."""
    wanted = options.outputs(args) or _signature_outputs(source) or [str(r) for r in source.outputs]
    if not wanted:
        raise UsageError(f"{args.model} has no signatures to export; name what to keep with --outputs")
    specs = options.input_specs(args)
    if args.image_input and args.image_input not in {s.name for s in specs}:
        specs.append(InputSpec(args.image_input))  # the pixels input must be a Placeholder to replace
    model = extract(source, specs, wanted, bindings=options.bindings(args),
                    init_from_initializers=args.init_from_initializers, strip=not args.no_strip)
    model = model if options.outputs(args) else carry_all_assets(model, source)
    if args.image_input:
        norm = normalization(args.normalize, args.mean, args.std)
        model = add_image_input(model, args.image_input, norm=norm, channels_first=args.channels_first,
                                key=args.image_key)
    return _with_head(model, args)


def _with_head(model: Model, args: argparse.Namespace) -> Model:
    if args.top_k is None:
        if args.labels:
            raise UsageError("--labels goes with --top-k K: labels name the top K classes")
        return model
    target = args.top_k_output
    if target is None:
        if len(model.outputs) != 1:
            raise UsageError(f"the model has {len(model.outputs)} outputs; choose the one for --top-k with "
                             f"--top-k-output (one of {', '.join(str(r) for r in model.outputs)})")
        target = str(model.outputs[0])
    return add_top_k(model.replace(signatures={}), target, args.top_k, labels=args.labels)


def _signature_outputs(model: Model) -> list[str]:
    names = [name for key, sig in sorted(model.signatures.items()) if not key.startswith("__")
             for name in tensor_names(sig, outputs_only=True)]
    return list(dict.fromkeys(names))


def export(model: Model, args: argparse.Namespace):
    renames = dict(_pair(text) for text in args.keys)
    own_keys = options.outputs(args) or renames or args.top_k or args.image_input
    signatures = [default_signature(model, renames, args.method)] if own_keys else None
    if signatures and model.signatures:
        signatures += [s for s in from_source(model) if s.key != signatures[0].key]
    with DelayedProgress("writing variables") as progress:
        return export_saved_model(model, args.output, version=args.version, force=args.force, signatures=signatures,
                                  tags=[t for t in args.export_tags.split(",") if t],
                                  inline_limit=parse_size(args.inline_limit), asset_dir=args.asset_dir,
                                  extra_assets=args.extra_assets, progress=progress, warmup=_warmup(args))


def _warmup(args: argparse.Namespace) -> list[dict]:
    """One request per row of the --warmup arrays (a batch of one each)."""
    if not args.warmup:
        return []
    arrays = options.read_npz(args.warmup, "--warmup")
    rows = min(len(a) for a in arrays.values()) if arrays else 0
    return [{key: value[i:i + 1] for key, value in arrays.items()} for i in range(rows)]


def _pair(text: str) -> tuple[str, str]:
    name, sep, key = text.partition("=")
    if not sep or not name or not key:
        raise UsageError(f"cannot parse --keys {text!r}: write NAME=KEY, e.g. images_ph=images")
    return name, key


def signature_summary(path) -> dict:
    model = load(path)
    return {key: {"method": sig.method_name,
                  "inputs": {k: t.name for k, t in sorted(sig.inputs.items())},
                  "outputs": {k: t.name for k, t in sorted(sig.outputs.items())}}
            for key, sig in sorted(model.signatures.items()) if not key.startswith("__")}



def request_examples(model_name: str, signatures: dict) -> dict:
    """A REST and a gRPC request for serving_default, as a user would write them."""
    sig = signatures.get("serving_default")
    if sig is None:
        return {}
    instance = {key: {"b64": "<base64 of the bytes>"} if "string" in key or key == "image_bytes" else "<value>"
                for key in sig["inputs"]}
    body = json.dumps({"signature_name": "serving_default", "instances": [instance]})
    rest = f"curl -d '{body}' http://localhost:8501/v1/models/{model_name}:predict"
    grpc = (f"request = predict_pb2.PredictRequest(); request.model_spec.name = {model_name!r}; "
            "request.model_spec.signature_name = 'serving_default'; "
            + "; ".join(f"request.inputs[{k!r}].CopyFrom(tf.make_tensor_proto(...))" for k in sig["inputs"])
            + "; stub.Predict(request)  # localhost:8500")
    return {"rest": rest, "grpc": grpc}
