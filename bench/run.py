"""Run the benchmarks: `python bench/run.py --applications N [--json] [--record BENCHMARKS.md]`.

Every figure is measured beside a raw-Temporal baseline on the same embedded dev server in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/run.py` runs from the project, as `make bench` does

from bench import figures  # noqa: E402
from bench.deadline import deadline  # noqa: E402
from bench.harness import embedded  # noqa: E402
from bench.intake import intake  # noqa: E402
from bench.lifecycle import lifecycle  # noqa: E402
from bench.memory import memory  # noqa: E402
from bench.record import record  # noqa: E402
from bench.replay import replay  # noqa: E402

FIGURES = ("memory", "intake", "deadline", "replay", "lifecycle")
CALIBRATION = 100  # applications taken through the chain to measure each side's pace when intake is not a figure
REPLAY_SAMPLE = 2000
LOG = ROOT / "var" / "bench.log"  # workflow task failures and other warnings of the run
RUNS = ROOT / "var" / "bench-runs.jsonl"  # every run's figures, one JSON line each


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--applications", type=int, default=1000, help="N for every figure unless set below")
    p.add_argument("--intake", type=int, help="applications taken through the chain (default N)")
    p.add_argument("--deadline", type=int, help="open applications on the deadline (default N)")
    p.add_argument("--memory", type=int, help="open workflows measured, at most the worker cache (default N)")
    p.add_argument("--lifecycle", type=int, help="applications of the simulated call (default N)")
    p.add_argument("--replay", type=int, help=f"histories replayed (default min(deadline, {REPLAY_SAMPLE}))")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight from the driver")
    p.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated subset of {', '.join(FIGURES)}")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--record", type=Path, help="add the run to bench/results.json and rewrite this Markdown file")
    p.add_argument("--amend", action="store_true",
                   help="with --record: add these figures to the newest recorded run (figures it does not have yet)")
    p.add_argument("--profile", action="store_true",
                   help="sample every thread in the intake window and in both deadline windows (grantflow's "
                        "and the baseline's, with the CPU seconds of worker and server): var/profile-*.txt")
    return p.parse_args(argv)


def progress(out: dict[str, Any], figure: str) -> None:
    """The figures so far, on stderr as each one is done: a long run stopped halfway still leaves what it measured."""
    print(json.dumps({"done": figure} | out, ensure_ascii=False), file=sys.stderr, flush=True)


async def on_embedded_stack(args: argparse.Namespace, only: set[str]) -> dict[str, Any]:
    """Memory, intake, deadline and replay, on one dev server with its SQLite file and one records DB."""
    n = args.applications
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="grantflow-bench-") as tmp:
        async with embedded(Path(tmp), args.concurrency, LOG.parent if args.profile else None) as b:
            if "memory" in only:
                out |= figures.memory_figures(await memory(b, args.memory or n))
                progress(out, "memory")
            pace = baseline_pace = 0.0
            if "intake" in only or "deadline" in only:  # the deadline's set-up is paced by what intake measured
                x = await intake(b, (args.intake or n) if "intake" in only else min(n, CALIBRATION))
                pace = x.grantflow_s / (x.applications * x.steps)
                baseline_pace = x.baseline_s / (x.applications * x.steps)
            if "intake" in only:
                out |= figures.intake_figures(x)
                progress(out, "intake")
            if "deadline" in only:
                d = await deadline(b, args.deadline or n, pace, baseline_pace)
                out |= figures.deadline_figures(d)
                progress(out, "deadline")
                if "replay" in only:
                    k = args.replay or min(d.applications, REPLAY_SAMPLE)
                    out |= figures.replay_figures(await replay(b, d.application_ids[:k], d.baseline_ids[:k]))
                    progress(out, "replay")
            out["retried_requests"] = b.retried
    return out


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    if args.amend and not args.record:
        raise SystemExit("--amend adds to a recorded run: give --record as well")
    only = set(args.only.split(","))
    if unknown := only - set(FIGURES):
        raise SystemExit(f"unknown figures: {', '.join(sorted(unknown))} (figures: {', '.join(FIGURES)})")
    if "replay" in only and "deadline" not in only:
        raise SystemExit("replay replays the deadline's histories: run it with deadline")
    n = args.applications
    out: dict[str, Any] = {"applications": n}
    if only & {"memory", "intake", "deadline"}:  # the lifecycle runs on a time-skipping server of its own
        out |= await on_embedded_stack(args, only)
    if "lifecycle" in only:
        out |= figures.lifecycle_figures(await lifecycle(args.lifecycle or n))
    return out | {"machine": figures.machine()}


def table(values: dict[str, Any]) -> str:
    return "\n".join(f"{k:40} {v:.3f}" if isinstance(v, float) else f"{k:40} {v}" for k, v in values.items()
                     if k != "machine")


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    LOG.parent.mkdir(exist_ok=True)
    logging.basicConfig(filename=LOG, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    values = asyncio.run(measure(args))
    with RUNS.open("a", encoding="utf-8") as runs:  # kept even when another script drives the run and its output
        runs.write(json.dumps({"argv": sys.argv[1:]} | values, ensure_ascii=False) + "\n")
    print(json.dumps(values, ensure_ascii=False) if args.json else table(values), flush=True)
    if args.record:  # after printing: a run the record refuses (--amend over a figure it has) is still shown
        record(values, ROOT / "bench" / "results.json", args.record, args.amend)


if __name__ == "__main__":
    main()
