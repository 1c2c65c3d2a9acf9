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

from graphsurgeon.cli import options
from graphsurgeon.cli.progress import DelayedProgress
from graphsurgeon.cli.render import print_export, print_json
from graphsurgeon.pipeline import export

NAME = "export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_model(parser)
    options.add_surgery(parser, inputs=True, outputs_required=False)
    parser.add_argument("-o", "--output", required=True, metavar="BASE_DIR", help="model base directory")
    options.add_saved_model(parser)
    parser.add_argument("--force", action="store_true", help="replace an existing version folder")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace, console: Console) -> int:
    recipe = options.recipe_from(args)
    with DelayedProgress("writing variables") as progress:
        result = export(args.model, recipe, args.output, version=args.version, force=args.force, progress=progress)
    report = {"path": str(result.path), "signatures": result.signatures,
              "requests": request_examples(Path(args.output).name, result.signatures)}
    if args.json:
        print_json(console, report)
    else:
        print_export(console, report)
    return 0


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
