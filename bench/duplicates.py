"""Duplicate detection, measured: precision and recall on the labelled pairs, then false candidates per check, the
rank of the true duplicate and the time per check against a synthetic corpus of N prior projects, beside the
baseline (models/duplicates.find_duplicates: rapidfuzz over every title and abstract, no index).

    .venv/bin/python bench/duplicates.py --corpus 100000 --queries 200 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.duplicate_data import corpus  # noqa: E402
from models.duplicate_index import DuplicateIndex  # noqa: E402
from models.duplicates import THRESHOLD, PriorWork, find_duplicates  # noqa: E402

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "duplicates.json"


def pairs() -> list[tuple[PriorWork, PriorWork, bool, str]]:
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    return [(PriorWork(**p["a"]), PriorWork(**p["b"]), p["duplicate"], p["kind"]) for p in data]


def labelled_scores(threshold: float) -> dict[str, float]:
    """Precision and recall over the labelled pairs: a pair is found when checking b lists a (the corpus: every
    text of the set), for the index and for the baseline at its default thresholds."""
    ps = pairs()
    works = [w for a, b, _, _ in ps for w in (a, b)]
    index = DuplicateIndex(works)
    out: dict[str, float] = {}
    for name, found in (("index", lambda a, b: any(m.work.ref == a.ref for m in index.check(b, threshold))),
                        ("baseline", lambda a, b: any(h.ref == a.ref for h in find_duplicates(
                            b.title, b.abstract, b.pi_id, b.unit_id, [w for w in works if w.ref != b.ref])))):
        tp = fp = fn = 0
        for a, b, dup, _ in ps:
            hit = found(a, b)
            tp, fp, fn = tp + (hit and dup), fp + (hit and not dup), fn + (dup and not hit)
        out[f"{name}_precision"] = round(tp / max(1, tp + fp), 4)
        out[f"{name}_recall"] = round(tp / max(1, tp + fn), 4)
    return out


def at_scale(n: int, queries: int, threshold: float, baseline_queries: int) -> dict[str, float]:
    """Against n synthetic prior projects plus the originals of the labelled pairs: per check of a labelled b, the
    candidates above the threshold that are not its true duplicate, and the true duplicate's rank."""
    ps = pairs()[:queries]
    works = corpus(n) + [a for a, _, _, _ in ps]
    started, cpu_started = time.perf_counter(), time.process_time()
    index = DuplicateIndex(works)
    build_s, build_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    false, ranks, times, cpu = [], [], [], []
    for a, b, dup, _ in ps:
        t0, c0 = time.perf_counter(), time.process_time()
        matches = index.check(b, threshold)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        refs = [m.work.ref for m in matches]
        false.append(sum(r != a.ref or not dup for r in refs))
        if dup:
            ranks.append(refs.index(a.ref) + 1 if a.ref in refs else 0)
    base_times = []
    for _, b, _, _ in ps[:baseline_queries]:
        t0 = time.perf_counter()
        find_duplicates(b.title, b.abstract, b.pi_id, b.unit_id, works)
        base_times.append(time.perf_counter() - t0)
    return {
        "corpus": len(works), "queries": len(ps), "index_build_s": round(build_s, 2),
        "index_build_cpu_s": round(build_cpu_s, 2),
        "check_ms_mean": round(1000 * statistics.mean(times), 2),
        "check_ms_p95": round(1000 * sorted(times)[int(0.95 * (len(times) - 1))], 2),
        "check_cpu_ms_mean": round(1000 * statistics.mean(cpu), 2),
        "baseline_check_ms_mean": round(1000 * statistics.mean(base_times), 1) if base_times else 0.0,
        "false_candidates_per_check": round(statistics.mean(false), 3),
        "max_false_candidates": max(false),
        "true_duplicate_rank_1": sum(r == 1 for r in ranks), "true_duplicate_missed": sum(r == 0 for r in ranks),
        "true_duplicates": len(ranks),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=420)
    parser.add_argument("--baseline-queries", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"threshold": args.threshold, **labelled_scores(args.threshold),
              **at_scale(args.corpus, args.queries, args.threshold, args.baseline_queries)}
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
