"""Command-line start-up, measured: each case runs in a fresh interpreter N times, in turns with a raw baseline (the
interpreter importing typer alone) in the same run; `--before DIR` runs the same cases on another checkout (main).

    .venv/bin/python bench/cli_start.py --runs 10 --before /work/main --json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL_000 = next((ROOT / "calls").glob("000-*.yaml"))


def grantflow(*args: str) -> str:
    """`grantflow ARGS` as the console script runs it, but importing `cli` from the working directory's checkout."""
    return f"import sys; sys.argv = ['grantflow', *{list(args)!r}]; import cli; cli.main()"


CASES = {
    "baseline_import_typer": "import typer",
    "import_cli": "import cli",
    "help": grantflow("--help"),
    "calls_show_file": grantflow("calls", "show", str(CALL_000)),
    "service_layer_import": "import cli, commands.manage, client.service",  # `deadline explain` before it connects
}


def once(code: str, cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one fresh interpreter running `code` in `cwd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "120"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int, trees: dict[str, Path]) -> dict[str, float]:
    """Median wall and CPU seconds of every case on every tree; the cases take turns, so load hits them alike."""
    samples: dict[str, list[tuple[float, float]]] = {}
    for _ in range(runs):
        for tree, root in trees.items():
            for case, code in CASES.items():
                if case.startswith("baseline") and tree != "after":
                    continue
                samples.setdefault(case if tree == "after" else f"{tree}_{case}", []).append(once(code, root))
    out: dict[str, float] = {"runs": runs}
    for name, taken in samples.items():
        out[f"{name}_s"] = round(statistics.median(w for w, _ in taken), 3)
        out[f"{name}_cpu_s"] = round(statistics.median(c for _, c in taken), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--before", type=Path, help="another checkout (e.g. main) to measure in the same run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trees = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    figures = measure(args.runs, trees)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name:40} {value}")


if __name__ == "__main__":
    main()
