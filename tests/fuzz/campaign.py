"""A long fuzz campaign: Hypothesis-generated mutations of every seed until the time is up.

    python -m tests.fuzz.campaign --minutes 10 --out /tmp/gs-fuzz

The parent runs one worker process, which imports TensorFlow once and takes the
seeds in turns (a batch of cases each) until the deadline; each case is written
to OUT/current.bin (with its seed in OUT/current.seed) before it runs. The parent
counts a worker killed by a signal as a crash and one silent for longer than a
case may take as a hang, keeps that input, and starts a new worker for the time
left. Distinct findings (seed, kind, exception type, innermost graphsurgeon
frame) are saved as OUT/<signature>.bin and listed in OUT/findings.tsv; the
closing JSON line gives cases, refusals, exceptions, hangs and crashes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

SILENCE = 180  # seconds without a finished case (after start-up) that count as a hang
STARTUP = 300  # seconds a worker may take to import TensorFlow on a loaded machine
KINDS = ("ok", "refused", "exception", "hang")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--out", type=Path, default=Path("/tmp/gs-fuzz"))
    parser.add_argument("--export", action="store_true", help="also export every cut as a SavedModel (slower)")
    parser.add_argument("--worker-until", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker_until:
        return _worker(args.worker_until, args.out, args.export)
    return _parent(args)


def _parent(args: argparse.Namespace) -> int:
    until = time.time() + args.minutes * 60
    crashes = hangs = 0
    while time.time() < until - 5:
        started = time.time()
        command = [sys.executable, "-m", "tests.fuzz.campaign", "--worker-until", str(until), "--out", str(args.out)]
        worker = subprocess.Popen(command + (["--export"] if args.export else []),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while worker.poll() is None:
            time.sleep(2)
            progress = args.out / "progress"
            last = progress.stat().st_mtime if progress.exists() else started
            if time.time() - max(last, started + STARTUP) > SILENCE:
                worker.kill()
                worker.wait()
                hangs += 1
                _record(args.out, "hang", "no case finished", "?")
                break
        if worker.returncode is not None and worker.returncode < 0 and worker.returncode != -9:
            crashes += 1
            _record(args.out, "crash", f"signal {-worker.returncode}", "?")
    totals = _totals(args.out)
    totals["hang"] += hangs
    totals["crash"] = crashes
    findings = (args.out / "findings.tsv").read_text().splitlines() if (args.out / "findings.tsv").exists() else []
    print(json.dumps({**totals, "distinct_findings": len(findings), "minutes": args.minutes}))
    return 0 if totals["exception"] + totals["hang"] + totals["crash"] == 0 else 1


def _totals(out: Path) -> dict[str, int]:
    totals = {"cases": 0, **{k: 0 for k in KINDS}}
    for report in sorted(out.glob("counts-*.json")):
        for key, value in json.loads(report.read_text()).items():
            totals[key] = totals.get(key, 0) + value
    return totals


def _record(out: Path, kind: str, detail: str, where: str, data: bytes | None = None,
            seed: str | None = None) -> None:
    if data is None:  # the parent's view: what the worker was running when it died or went silent
        seed = (out / "current.seed").read_text() if (out / "current.seed").exists() else "?"
        data = (out / "current.bin").read_bytes() if (out / "current.bin").exists() else b""
    signature = re.sub(r"[^A-Za-z0-9]+", "_", f"{seed}_{kind}_{detail.split(':', 1)[0]}_{where}").strip("_")
    target = out / f"{signature}.bin"
    if target.exists():
        return
    target.write_bytes(data)
    with open(out / "findings.tsv", "a") as f:
        f.write(f"{signature}\t{seed}\t{kind}\t{where}\t{detail[:200]!r}\n")


def _worker(until: float, out: Path, export: bool) -> int:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from graphsurgeon.tf import runtime
    from tests.fuzz.harness import apply_bytes, apply_proto, byte_mutations, proto_mutations, run_case, seeds

    runtime.tf()
    counts_file = out / f"counts-{os.getpid()}.json"
    counts = {"cases": 0, **{k: 0 for k in KINDS}}
    for seed in _forever(seeds(_generated())):
        if time.time() > until:
            break
        original = seed.files[seed.mutated].read_bytes()

        @settings(max_examples=50, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def case(data):
            if seed.proto is not None and data.draw(st.booleans()):
                mutated = apply_proto(original, seed.proto, data.draw(proto_mutations()))
            else:
                mutated = apply_bytes(original, data.draw(byte_mutations(len(original))))
            if time.time() > until:
                return
            (out / "current.seed").write_text(seed.name)
            (out / "current.bin").write_bytes(mutated)
            outcome = run_case(seed, mutated, export=export)
            counts["cases"] += 1
            counts[outcome.kind] += 1
            (out / "progress").write_text(str(counts["cases"]))
            if outcome.kind in ("exception", "hang"):
                _record(out, outcome.kind, outcome.detail, outcome.where, mutated, seed.name)

        case()
        counts_file.write_text(json.dumps(counts))
    counts_file.write_text(json.dumps(counts))
    return 0


def _forever(items):
    while True:
        yield from items


def _generated() -> Path | None:
    """The fixtures the Keras, TF2 and partitioned seeds come from: $GRAPHSURGEON_TEST_FIXTURES, else fixtures/generated."""
    prebuilt = os.environ.get("GRAPHSURGEON_TEST_FIXTURES")
    built = Path(prebuilt) if prebuilt else Path(__file__).resolve().parents[2] / "fixtures" / "generated"
    return built if built.is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
