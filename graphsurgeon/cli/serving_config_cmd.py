"""Write TensorFlow Serving's model_config_file (and a batching parameters file) for several models.

Each --model is NAME=BASE_PATH; --versions NAME=latest:N|all|specific:V1,V2
picks which versions Serving loads; --label NAME:LABEL=VERSION names one.
The files are checked by parsing them with the Serving API's protos.

  graphsurgeon serving-config --model planet=/models/planet resnet=/models/resnet \\
      --versions planet=latest:2 --label planet:stable=1 -o models.config --batching batching.config
"""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from graphsurgeon.errors import UsageError
from graphsurgeon.exporters.atomic import atomic_file, check_target
from graphsurgeon.exporters.serving_files import ServedModel, batching_parameters_text, model_config_text

NAME = "serving-config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", nargs="+", required=True, metavar="NAME=BASE_PATH", help="models to serve")
    parser.add_argument("--versions", nargs="+", default=[], metavar="NAME=POLICY",
                        help="latest:N (default latest:1), all, or specific:V1,V2")
    parser.add_argument("--label", nargs="+", default=[], metavar="NAME:LABEL=VERSION", help="version labels")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the model_config_file to write")
    parser.add_argument("--batching", metavar="FILE", help="also write a batching parameters file")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"cannot parse {what} {text!r}: write NAME=VALUE")
        if name in out:
            raise UsageError(f"{what} names {name!r} twice ({name}={out[name]} and {text}); give each name once")
        out[name] = value
    return out


def run(args: argparse.Namespace, console: Console) -> int:
    bases, policies = _pairs(args.model, "--model"), _pairs(args.versions, "--versions")
    labels: dict[str, dict[str, int]] = {}
    for key, version in _pairs(args.label, "--label").items():
        name, sep, label = key.partition(":")
        if not sep or name not in bases or not version.isdigit():
            raise UsageError(f"cannot parse --label {key}={version}: write NAME:LABEL=VERSION for a --model NAME")
        labels.setdefault(name, {})[label] = int(version)
    unknown = sorted(set(policies) - set(bases))
    if unknown:
        raise UsageError(f"--versions names {unknown[0]!r}, which no --model defines")
    models = [ServedModel(n, bases[n], policies.get(n, "latest:1"), labels.get(n, {})) for n in bases]
    outputs = [(args.output, model_config_text(models))]
    if args.batching:
        outputs.append((args.batching, batching_parameters_text()))
    for path, _ in outputs:  # both files are checked before either is written
        check_target(Path(path), args.force)
    for path, text in outputs:
        with atomic_file(Path(path), args.force) as tmp:
            tmp.write_text(text)
        console.print(f"wrote {path}")
    return 0
