"""Figure 5, lifecycle: one call simulated end to end on the time-skipping server (`grantflow simulate`).

It runs in a process of its own so that the peak RSS measured is the simulation's alone:
`python -m bench.lifecycle N [CALL [CACHE]]` prints one JSON object (CACHE: the worker's workflow cache, by default
the simulation's 10,000).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from infra.settings import SIMULATION_CACHE
from models.call import load_call
from models.lifecycle import TERMINAL
from simulation.launch import simulate

ROOT = Path(__file__).resolve().parent.parent
CALL = ROOT / "calls" / "000-sx-2025-basic-research-geology.yaml"
SEED = 1


@dataclass
class Lifecycle:
    call: str
    applications: int
    wall_s: float
    peak_rss_mb: float
    violations: int
    terminal: int


async def lifecycle(n: int, call: Path = CALL, cache: int = SIMULATION_CACHE) -> Lifecycle:
    """Run `main` in a child process and read its figures."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.lifecycle", str(n), str(call), str(cache), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await child.communicate()
    printed = [line for line in out.decode().splitlines() if line.startswith("{")]
    if child.returncode != 0 or not printed:
        raise RuntimeError(f"the lifecycle simulation failed (exit {child.returncode}): {out.decode()[-2000:]!r}")
    return Lifecycle(**json.loads(printed[-1]))


def main() -> None:
    n, path = int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else CALL
    cache = int(sys.argv[3]) if len(sys.argv) > 3 else SIMULATION_CACHE
    call = load_call(path)
    started = time.perf_counter()
    report = asyncio.run(simulate(call, n, SEED, cache=cache))
    wall_s = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    terminal = sum(count for state, count in report.final_states.items() if state in TERMINAL)
    print(json.dumps(Lifecycle(call.id, n, wall_s, peak_kib / 1024, len(report.violations), terminal).__dict__))


if __name__ == "__main__":
    main()
