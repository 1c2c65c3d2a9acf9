"""Turning report dataclasses into rich tables or JSON. The only place output is styled."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from rich.console import Console
from rich.table import Table

from graphsurgeon import defaults
from graphsurgeon.audit.render import ScopedName
from graphsurgeon.audit.sizes import format_size
from graphsurgeon.audit.summary import CutReport, ModelSummary, TensorDesc
from graphsurgeon.ir.custom_ops import listed
from graphsurgeon.pipeline import ExportResult
from graphsurgeon.verify import VerifyReport
from graphsurgeon.verify.checks import SignatureCheck


def make_console() -> Console:
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    return Console(width=width, highlight=False, soft_wrap=False)


def print_json(console: Console, data: object) -> None:
    console.print_json(json.dumps(data, default=_plain))


def _plain(value: object) -> object:
    """A result dataclass (anywhere in a report) as the dict JSON writes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _shape(desc: TensorDesc) -> str:
    return _dims(desc.shape)


def _dims(shape: list[int] | None) -> str:
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d < 0 else str(d) for d in shape) + "]"


def more(hidden: int) -> str:
    """The line that ends a capped list."""
    return f"... and {hidden} more (--all)"


def name_column(table: Table, header: str) -> None:
    """Names wrap instead of being cut ('decoder/up0/k…' three times over says nothing), at a '/' (ScopedName)."""
    table.add_column(header, overflow="fold")


def print_summary(console: Console, summary: ModelSummary, limit: int | None = 10) -> None:
    """The model at a glance; lists longer than ``limit`` are cut short (None: everything)."""
    console.print(f"[bold]{summary.path}[/bold]  ({summary.format})")
    if summary.details:
        console.print(", ".join(f"{k}: {v}" for k, v in summary.details.items()))
    console.print(f"{summary.nodes} nodes, {len(summary.variables)} variables, weights {format_size(summary.weight_bytes)}")
    if summary.signatures:
        _signatures(console, summary)
    _ops(console, summary, limit)
    _inputs(console, summary, limit)
    _outputs(console, summary, limit)
    if summary.layers:
        _layers(console, summary, limit)
    if summary.variables:
        _variables(console, summary, limit)
    _unregistered(console, summary)


def _unregistered(console: Console, summary: ModelSummary) -> None:
    """Every op TensorFlow does not register, never capped: a cut must avoid each of them."""
    if not summary.unregistered_ops:
        return
    ops = [u.op for u in summary.unregistered_ops]
    console.print(f"[red]Unregistered ops[/red]: {listed(ops, {u.op: u.where for u in summary.unregistered_ops})}; "
                  "stock TensorFlow and TensorFlow Serving cannot run them", overflow="fold")


def _outputs(console: Console, summary: ModelSummary, limit: int | None) -> None:
    shown, hidden = _capped(summary.outputs, limit)
    if shown or not summary.signatures:
        console.print("[bold]Candidate outputs[/bold]: " + (", ".join(shown) or "none")
                      + (f" {more(hidden)}" if hidden else ""), overflow="fold")
    else:  # a TF2 SavedModel: its outputs are function calls; the signatures above are what export keeps
        console.print("[bold]Candidate outputs[/bold]: the signatures' (export keeps them; --signature KEY picks)")
    side, hidden = _capped(summary.side_outputs, limit)
    if side:
        console.print(f"  also losses, metrics and summary images: {', '.join(side)}"
                      + (f" {more(hidden)}" if hidden else ""), overflow="fold")


def _signatures(console: Console, summary: ModelSummary) -> None:
    """Like `saved_model_cli show --all`: every signature's method, and each tensor's key, dtype and shape."""
    table = Table(title="Signatures", title_justify="left", box=None, header_style="bold")
    name_column(table, "signature")
    for column in ("method", "key", "dtype", "shape"):
        table.add_column(column, overflow="fold")
    name_column(table, "tensor")
    for sig in summary.signatures:
        table.add_row(sig.key, sig.method.rsplit("/", 1)[-1], "", "", "", "")
        for direction, tensors in (("in", sig.inputs), ("out", sig.outputs)):
            for t in tensors:
                table.add_row("", direction, t.key, t.dtype, _dims(t.shape), ScopedName(t.tensor))
    console.print(table)


def _capped(items: list, limit: int | None) -> tuple[list, int]:
    if limit is None or len(items) <= limit:
        return items, 0
    return items[:limit], len(items) - limit


def _ops(console: Console, summary: ModelSummary, limit: int | None) -> None:
    ops = Table(title="Ops", title_justify="left")
    name_column(ops, "op")
    ops.add_column("count", justify="right", overflow="fold")
    shown, hidden = _capped(summary.ops, limit)
    for op, count in shown:
        ops.add_row(op, str(count))
    if hidden:
        ops.add_row(more(hidden), str(sum(c for _, c in summary.ops[len(shown):])))
    console.print(ops)


def _inputs(console: Console, summary: ModelSummary, limit: int | None) -> None:
    inputs = Table(title="Candidate inputs", title_justify="left")
    name_column(inputs, "name")
    for column in ("op", "dtype", "shape"):
        inputs.add_column(column, overflow="fold")
    shown, hidden = _capped(summary.inputs, limit)
    for desc in shown:
        inputs.add_row(ScopedName(desc.name), desc.op, desc.dtype, _shape(desc))
    if hidden:
        inputs.add_row(more(hidden), "", "", "")
    for copy in summary.function_copies:
        inputs.add_row(ScopedName(f"{copy.scope}/..."), f"{copy.count} feeds of an inlined function", "", "")
    console.print(inputs)


def _layers(console: Console, summary: ModelSummary, limit: int | None) -> None:
    """Keras layers indented under the model that holds them, as --inputs and --outputs name them."""
    table = Table(title="Keras layers", title_justify="left")
    name_column(table, "layer")
    table.add_column("class", overflow="fold")
    table.add_column("calls", justify="right")
    shown, hidden = _capped(summary.layers, limit)
    for layer in shown:
        table.add_row("  " * layer.depth + layer.name, layer.class_name, str(layer.calls))
    if hidden:
        table.add_row(more(hidden), "", "")
    console.print(table)


def _variables(console: Console, summary: ModelSummary, limit: int | None) -> None:
    variables = summary.variables
    shown, hidden = _capped(sorted(variables, key=lambda v: -v.nbytes) if limit is not None and len(variables) > limit
                            else variables, limit)
    title = "Variables" if not hidden else f"Variables (largest {len(shown)} of {len(variables)})"
    table = Table(title=title, title_justify="left")
    name_column(table, "name")
    for column in ("dtype", "shape"):
        table.add_column(column, overflow="fold")
    table.add_column("bytes", justify="right", overflow="fold")
    for var in shown:
        table.add_row(ScopedName(var.name), var.dtype, str(var.shape), format_size(var.nbytes))
    if hidden:
        table.add_row(more(hidden), "", "", format_size(sum(v.nbytes for v in variables) - sum(v.nbytes for v in shown)))
    console.print(table)


def print_cut_report(console: Console, report: CutReport, output: str, top: int = 15) -> None:
    console.print(f"wrote [bold]{output}[/bold]")
    for desc in report.inputs:
        console.print(f"  input  {desc.name}: {desc.dtype}{_shape(desc)}")
    for name in report.outputs:
        console.print(f"  output {name}")
    for note in report.notes:
        console.print(f"  note   {note}")
    console.print(f"kept    {report.kept_nodes} nodes, {format_size(report.kept_bytes)} of weights")
    console.print(f"removed {report.removed_nodes} nodes, {format_size(report.removed_bytes)} of weights")
    if report.removed:
        table = Table(title="Removed", title_justify="left")
        name_column(table, "group")
        for column in ("nodes", "bytes"):
            table.add_column(column, justify="right")
        for group in report.removed[:top]:
            table.add_row(ScopedName(group.group), str(group.nodes), format_size(group.nbytes))
        rest = report.removed[top:]
        if rest:
            table.add_row(f"... {len(rest)} more groups", str(sum(g.nodes for g in rest)),
                          format_size(sum(g.nbytes for g in rest)))
        console.print(table)


def print_export(console: Console, result: ExportResult, model_name: str, as_json: bool = False) -> None:
    """A published export: its folder, signatures, and a REST and a gRPC request for it."""
    report: dict[str, Any] = {"path": str(result.path), "signatures": result.signatures,
                              "requests": request_examples(model_name, result.signatures)}
    if as_json:
        print_json(console, report)
        return
    console.print(f"published [bold]{report['path']}[/bold]")
    for key, sig in result.signatures.items():
        inputs = ", ".join(f"{k}={v}" for k, v in sig.inputs.items())
        outputs = ", ".join(f"{k}={v}" for k, v in sig.outputs.items())
        console.print(f"  {key} ({sig.method.rsplit('/', 1)[-1]}): {inputs} -> {outputs}")
    for kind, example in report["requests"].items():
        console.print(f"{kind} request example:\n  {example}", soft_wrap=True)


def request_examples(model_name: str, signatures: dict) -> dict:
    """A REST and a gRPC request for serving_default, as a user would write them."""
    sig = signatures.get(defaults.DEFAULT_SIGNATURE)
    if sig is None:
        return {}
    instance = {key: {"b64": "<base64 of the bytes>"} if "string" in key or key == defaults.IMAGE_KEY else "<value>"
                for key in sig.inputs}
    body = json.dumps({"signature_name": defaults.DEFAULT_SIGNATURE, "instances": [instance]})
    rest = f"curl -d '{body}' http://localhost:8501/v1/models/{model_name}:predict"
    grpc = (f"request = predict_pb2.PredictRequest(); request.model_spec.name = {model_name!r}; "
            f"request.model_spec.signature_name = {defaults.DEFAULT_SIGNATURE!r}; "
            + "; ".join(f"request.inputs[{k!r}].CopyFrom(tf.make_tensor_proto(...))" for k in sig.inputs)
            + "; stub.Predict(request)  # localhost:8500")
    return {"rest": rest, "grpc": grpc}


def print_verify(console: Console, report: VerifyReport) -> None:
    console.print(f"[bold]{report.directory}[/bold]")
    for finding in report.findings:
        console.print(f"  {_mark(finding.ok)} {finding.check}: {finding.message}")
    against = f" against {report.compared_with}" if report.compared_with else ""
    console.print(f"signatures run in TensorFlow's C++ loader{against}:")
    for sig in report.signatures:
        _verify_signature(console, sig)
    console.print("[green]verified[/green]" if report.ok else "[red]verification failed[/red]")


def _mark(ok: bool) -> str:
    return "[green]ok  [/green]" if ok else "[red]FAIL[/red]"


def _verify_signature(console: Console, sig: SignatureCheck) -> None:
    for invented in sig.inputs:
        shape = "[" + ", ".join(str(d) for d in invented.shape) + "]"
        console.print(f"  input {sig.key}/{invented.key}: {invented.dtype}{shape}, {invented.values} "
                      f"({invented.why})")
    if not sig.ran:
        console.print(f"  [red]FAIL[/red] {sig.key}: {sig.note}")
        return
    if sig.note:
        console.print(f"  [red]FAIL[/red] {sig.key}: {sig.note}")
    for note in sig.notes:
        console.print(f"  note {sig.key}: {note}")
    for out in sig.outputs:
        error = "" if out.max_abs_error is None else f"  max abs {out.max_abs_error:.3g}"
        error += "" if out.max_rel_error is None else f", max rel {out.max_rel_error:.3g}"
        console.print(f"  {_mark(out.ok)} {sig.key}/{out.key}: {out.dtype}{out.shape}{error}")
        if out.problem:
            console.print(f"       {out.problem}")
        for note in out.notes:
            console.print(f"       note: {note}")
