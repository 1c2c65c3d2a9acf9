"""A long fuzz campaign: Hypothesis-generated mutations of every seed until the time is up.

    python -m tests.fuzz.campaign --minutes 10 --out /tmp/gs-fuzz

The parent runs workers (one process per seed, for a share of the time) and
watches them: a worker killed by a signal is a crash, one that stops answering
is a hang; both keep the input that did it (each case is written to
OUT/<seed>.current before it runs). Distinct findings (kind, exception type,
innermost graphsurgeon frame) are saved as OUT/<signature>.bin with a line in
OUT/findings.tsv; the closing line gives cases, refusals, exceptions, hangs, crashes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

WORKER_GRACE = 120  # seconds a worker may overrun its share: its last case (at most CASE_TIMEOUT) and exit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--out", type=Path, default=Path("/tmp/gs-fuzz"))
    parser.add_argument("--export", action="store_true", help="also export every cut as a SavedModel (slower)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--until", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        return _worker(args.worker, args.until, args.out, args.export)
    return _parent(args)


def _parent(args: argparse.Namespace) -> int:
    from tests.fuzz.harness import seeds
    names = [s.name for s in seeds(_generated())]
    totals = {"cases": 0, "ok": 0, "refused": 0, "exception": 0, "hang": 0, "crash": 0}
    deadline = time.monotonic() + args.minutes * 60
    round_no = 0
    while time.monotonic() < deadline - 30:
        for name in names:
            left = deadline - time.monotonic()
            if left < 30:
                break
            share = min(left, max(60.0, args.minutes * 60 / len(names) / 2))
            counts = _run_worker(name, share, args, round_no)
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        round_no += 1
    findings = (args.out / "findings.tsv").read_text().splitlines() if (args.out / "findings.tsv").exists() else []
    print(json.dumps({**totals, "distinct_findings": len(findings), "minutes": args.minutes}))
    return 0 if totals["exception"] + totals["hang"] + totals["crash"] == 0 else 1


def _run_worker(name: str, seconds: float, args: argparse.Namespace, round_no: int) -> dict[str, int]:
    report = args.out / f"{name}.report.json"
    report.unlink(missing_ok=True)
    # The worker's share ends at a wall-clock time, so its start-up (TensorFlow's import, slow on a
    # loaded machine) counts against it and only a case that never returns can overrun the grace.
    until = time.time() + seconds
    command = [sys.executable, "-m", "tests.fuzz.campaign", "--worker", name, "--until", str(until),
               "--out", str(args.out)] + (["--export"] if args.export else [])
    try:
        child = subprocess.run(command, capture_output=True, text=True, timeout=seconds + WORKER_GRACE)
    except subprocess.TimeoutExpired:
        _record(args.out, name, "hang", "worker stopped answering", "?", args.out / f"{name}.current")
        return {"hang": 1, "cases": 1}
    if child.returncode < 0:
        _record(args.out, name, "crash", f"signal {-child.returncode}", "?", args.out / f"{name}.current")
        counts = json.loads(report.read_text()) if report.exists() else {}
        return {**counts, "crash": 1, "cases": counts.get("cases", 0) + 1}
    if not report.exists():
        raise RuntimeError(f"worker {name} failed: {child.stderr[-3000:]}")
    return json.loads(report.read_text())


def _record(out: Path, seed: str, kind: str, detail: str, where: str, data: Path | bytes) -> None:
    signature = re.sub(r"[^A-Za-z0-9]+", "_", f"{seed}_{kind}_{detail.split(':', 1)[0]}_{where}").strip("_")
    target = out / f"{signature}.bin"
    if target.exists():
        return
    if isinstance(data, Path):
        if data.exists():
            shutil.copy(data, target)
    else:
        target.write_bytes(data)
    with open(out / "findings.tsv", "a") as f:
        f.write(f"{signature}\t{seed}\t{kind}\t{where}\t{detail[:200]!r}\n")


def _worker(name: str, until: float, out: Path, export: bool) -> int:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from graphsurgeon import _tf
    from tests.fuzz.harness import apply_bytes, apply_proto, byte_mutations, proto_mutations, run_case, seeds

    _tf.tf()
    (seed,) = [s for s in seeds(_generated()) if s.name == name]
    original = seed.files[seed.mutated].read_bytes()
    current = out / f"{name}.current"
    counts = {"cases": 0, "ok": 0, "refused": 0, "exception": 0, "hang": 0}
    current.write_bytes(b"")  # nothing is running yet: a hang before the first case keeps no stale input

    @settings(max_examples=100, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        if seed.proto is not None and data.draw(st.booleans()):
            mutated = apply_proto(original, seed.proto, data.draw(proto_mutations()))
        else:
            mutated = apply_bytes(original, data.draw(byte_mutations(len(original))))
        if time.time() > until:
            return
        current.write_bytes(mutated)
        outcome = run_case(seed, mutated, export=export)
        counts["cases"] += 1
        counts[outcome.kind] += 1
        if outcome.kind in ("exception", "hang"):
            _record(out, name, outcome.kind, outcome.detail, outcome.where, mutated)

    while time.time() < until:
        case()
    (out / f"{name}.report.json").write_text(json.dumps(counts))
    return 0


def _generated() -> Path | None:
    prebuilt = os.environ.get("GRAPHSURGEON_TEST_FIXTURES")
    return Path(prebuilt) if prebuilt else None


if __name__ == "__main__":
    sys.exit(main())
