"""Record the golden histories: a short simulated run of each seed call, exported gzipped to tests/golden/<call>/.

`.venv/bin/python -m tests.golden.record` rewrites them. Do it only after a deliberate workflow change made safe
with `workflow.patched` (README, "Changing workflow code safely"), never to make a failing replay pass; histories
that runs of the previous code may still need go under tests/golden/legacy/ first.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from models.call import load_call
from audit.export import write_export
from audit.source import read_export
from commands.running import export_to
from simulation.launch import simulate

GOLDEN = Path(__file__).resolve().parent
CALLS = GOLDEN.parents[1] / "calls"
APPLICATIONS = 4
SEED = 3


async def record(path: Path) -> Path:
    call = load_call(path)
    target = GOLDEN / call.id
    with tempfile.TemporaryDirectory() as tmp:
        report = await simulate(call, APPLICATIONS, SEED, finished=export_to(call.id, Path(tmp) / "export"))
        if report.violations:
            raise SystemExit(f"{call.id}: the simulation broke invariants: {report.violations}")
        bundle = read_export(Path(tmp) / "export")
        shutil.rmtree(target, ignore_errors=True)
        write_export(target, call.id, bundle.executions, bundle.records, extra=bundle.extras, compress=True)
    return target


async def main() -> None:
    for path in sorted(CALLS.glob("*.yaml")):
        print(await record(path))


if __name__ == "__main__":
    asyncio.run(main())
