"""Turning report dataclasses into rich tables or JSON. The only place output is styled."""
from __future__ import annotations

import dataclasses
import json
import os

from rich.console import Console
from rich.table import Table

from graphsurgeon import defaults
from graphsurgeon.audit.sizes import format_size
from graphsurgeon.audit.summary import CutReport, ModelSummary, TensorDesc


def make_console() -> Console:
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(width=width, highlight=False, soft_wrap=False)


def print_json(console: Console, data: object) -> None:
    console.print_json(json.dumps(dataclasses.asdict(data) if dataclasses.is_dataclass(data) else data))


def _shape(desc: TensorDesc) -> str:
    if desc.shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d < 0 else str(d) for d in desc.shape) + "]"


def print_summary(console: Console, summary: ModelSummary, top_ops: int = 15) -> None:
    console.print(f"[bold]{summary.path}[/bold]  ({summary.format})")
    if summary.details:
        console.print(", ".join(f"{k}: {v}" for k, v in summary.details.items()))
    console.print(f"{summary.nodes} nodes, {len(summary.variables)} variables, weights {format_size(summary.weight_bytes)}")
    ops = Table(title="Ops", title_justify="left")
    ops.add_column("op")
    ops.add_column("count", justify="right")
    for op, count in summary.ops[:top_ops]:
        ops.add_row(op, str(count))
    if len(summary.ops) > top_ops:
        ops.add_row(f"... {len(summary.ops) - top_ops} more", "")
    console.print(ops)
    inputs = Table(title="Candidate inputs", title_justify="left")
    for column in ("name", "op", "dtype", "shape"):
        inputs.add_column(column)
    for desc in summary.inputs:
        inputs.add_row(desc.name, desc.op, desc.dtype, _shape(desc))
    console.print(inputs)
    console.print("[bold]Candidate outputs[/bold] (no consumers): " + (", ".join(summary.outputs) or "none"))
    if summary.variables:
        variables = Table(title="Variables", title_justify="left")
        for column, justify in (("name", "left"), ("dtype", "left"), ("shape", "left"), ("bytes", "right")):
            variables.add_column(column, justify=justify)
        for var in summary.variables:
            variables.add_row(var.name, var.dtype, str(var.shape), format_size(var.nbytes))
        console.print(variables)


def print_cut_report(console: Console, report: CutReport, output: str, top: int = 15) -> None:
    console.print(f"wrote [bold]{output}[/bold]")
    for desc in report.inputs:
        console.print(f"  input  {desc.name}: {desc.dtype}{_shape(desc)}")
    for name in report.outputs:
        console.print(f"  output {name}")
    console.print(f"kept    {report.kept_nodes} nodes, {format_size(report.kept_bytes)} of weights")
    console.print(f"removed {report.removed_nodes} nodes, {format_size(report.removed_bytes)} of weights")
    if report.removed:
        table = Table(title="Removed", title_justify="left")
        for column, justify in (("group", "left"), ("nodes", "right"), ("bytes", "right")):
            table.add_column(column, justify=justify)
        for group in report.removed[:top]:
            table.add_row(group.group, str(group.nodes), format_size(group.nbytes))
        rest = report.removed[top:]
        if rest:
            table.add_row(f"... {len(rest)} more groups", str(sum(g.nodes for g in rest)),
                          format_size(sum(g.nbytes for g in rest)))
        console.print(table)


def print_export(console: Console, result, model_name: str, as_json: bool = False) -> None:
    """A published export: its folder, signatures, and a REST and a gRPC request for it."""
    report = {"path": str(result.path), "signatures": result.signatures,
              "requests": request_examples(model_name, result.signatures)}
    if as_json:
        print_json(console, report)
        return
    console.print(f"published [bold]{report['path']}[/bold]")
    for key, sig in report["signatures"].items():
        inputs = ", ".join(f"{k}={v}" for k, v in sig["inputs"].items())
        outputs = ", ".join(f"{k}={v}" for k, v in sig["outputs"].items())
        console.print(f"  {key} ({sig['method'].rsplit('/', 1)[-1]}): {inputs} -> {outputs}")
    for kind, example in report["requests"].items():
        console.print(f"{kind} request example:\n  {example}", soft_wrap=True)


def request_examples(model_name: str, signatures: dict) -> dict:
    """A REST and a gRPC request for serving_default, as a user would write them."""
    sig = signatures.get("serving_default")
    if sig is None:
        return {}
    instance = {key: {"b64": "<base64 of the bytes>"} if "string" in key or key == defaults.IMAGE_KEY else "<value>"
                for key in sig["inputs"]}
    body = json.dumps({"signature_name": "serving_default", "instances": [instance]})
    rest = f"curl -d '{body}' http://localhost:8501/v1/models/{model_name}:predict"
    grpc = (f"request = predict_pb2.PredictRequest(); request.model_spec.name = {model_name!r}; "
            "request.model_spec.signature_name = 'serving_default'; "
            + "; ".join(f"request.inputs[{k!r}].CopyFrom(tf.make_tensor_proto(...))" for k in sig["inputs"])
            + "; stub.Predict(request)  # localhost:8500")
    return {"rest": rest, "grpc": grpc}


def print_verify(console: Console, report) -> None:
    console.print(f"[bold]{report.directory}[/bold]")
    for finding in report.findings:
        mark = "[green]ok  [/green]" if finding.ok else "[red]FAIL[/red]"
        console.print(f"  {mark} {finding.check}: {finding.message}")
    against = f" against {report.compared_with}" if report.compared_with else ""
    console.print(f"signatures run in TensorFlow's C++ loader{against}:")
    for sig in report.signatures:
        if not sig.ran:
            console.print(f"  [yellow]skip[/yellow] {sig.key}: {sig.note}")
            continue
        for out in sig.outputs:
            mark = "[green]ok  [/green]" if out.ok else "[red]FAIL[/red]"
            error = "" if out.max_abs_error is None else f"  max abs {out.max_abs_error:.3g}, max rel {out.max_rel_error:.3g}"
            console.print(f"  {mark} {sig.key}/{out.key}: {out.dtype}{out.shape}{error}")
    if report.signatures and not any(sig.ran for sig in report.signatures):
        console.print("[red]no signature could be run[/red]: pass sample inputs with --inputs FILE.npz")
    console.print("[green]verified[/green]" if report.ok else "[red]verification failed[/red]")
