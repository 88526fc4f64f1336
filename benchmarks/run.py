"""Benchmark the slot engine against the naive baseline, PyPI peers and in-run floors.

Usage::

    python benchmarks/run.py                    # full run, prints the table, writes JSON
    python benchmarks/run.py --quick --check    # under a minute; exit 1 if a ratio is missed
    python benchmarks/run.py --quick --gate-only  # correctness gate only (CI), no timing

Order of work: build every workload (seeded, deterministic), run the correctness gate (selfsched,
the baseline and every installed peer must return identical free slots; a mismatch stops the
run with exit status 2), then time every contender in one round-robin loop (each round calls
every contender once, in a rotated order, so machine load falls on all of them alike), and
report medians. The last line printed states the ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline
import dense_rule
import peers
import rrule_cost
from inputs import Interval
from workloads import Practice, Workload, describe, n200, w0, w1, w1x100, w365

import selfsched
from selfsched import Slot, _candidates
from selfsched.slots import NO_HORIZON_SEARCH

RESULTS = Path(__file__).resolve().parent / "results"


# -- the contenders -----------------------------------------------------------------------------


def client_view(w: Workload) -> tuple[Slot, ...]:
    """selfsched's client view (every grid slot, available or not)."""
    return selfsched.available_slots(
        w.calendar, w.policy, first_day=w.first_day, last_day=w.last_day, now=w.now
    )


def fresh_client_view(w: Workload) -> tuple[Slot, ...]:
    """The client view with selfsched's shared output instants started afresh.

    selfsched hands every view of a week the same (immutable) datetime objects; the benchmark
    repeats its views, so it measures that steady state. This variant gives the memo a new, empty
    dict first, so every datetime is built anew (and the last call's ones are freed here, as a
    view that shares nothing frees them with its result): the cost of a first view.
    """
    _candidates._SHARED = {}  # noqa: SLF001  (the memo's one global)
    return client_view(w)


def explain_view(w: Workload) -> tuple[selfsched.ExplainedSlot, ...]:
    """selfsched's staff view (every grid slot with its reasons)."""
    return selfsched.explain(
        w.calendar, w.policy, first_day=w.first_day, last_day=w.last_day, now=w.now
    )


def free_of(w: Workload) -> list[Interval]:
    """The free slots selfsched offers, as ``(start, end)``."""
    return [(s.start, s.end) for s in client_view(w) if s.available]


def first_available(p: Practice) -> tuple[str, datetime] | None:
    """selfsched's first available slot across the practice."""
    found = selfsched.first_available([w.calendar for w in p.workloads], p.policy, now=p.now)
    return None if found is None else (found[0].id, found[1].start)


def _fa_days(p: Practice) -> tuple[date, date]:
    z = p.workloads[0].calendar.clinician.tz
    return (
        (p.now + p.policy.min_notice).astimezone(z).date(),
        (p.now + (p.policy.horizon or NO_HORIZON_SEARCH)).astimezone(z).date(),
    )


def all_then_min(p: Practice) -> tuple[str, datetime] | None:
    """Naive first available: every clinician's whole horizon with selfsched, then the minimum."""
    first_day, last_day = _fa_days(p)
    best: tuple[str, datetime] | None = None
    for w in p.workloads:
        slots = selfsched.available_slots(
            w.calendar, p.policy, first_day=first_day, last_day=last_day, now=p.now
        )
        found = next((s.start for s in slots if s.available), None)
        if found is not None and (best is None or found < best[1]):
            best = (w.calendar.clinician.id, found)
    return best


def all_slots(p: Practice) -> list[tuple[Slot, ...]]:
    """Every clinician's client view over its window."""
    return [client_view(w) for w in p.workloads]


def emission_floor(w: Workload) -> Callable[[], tuple[Slot, ...]]:
    """The cost of only emitting selfsched's answer: Slot objects from precomputed UTC instants.

    The instants are fresh copies of selfsched's output (built before timing); the timed part
    builds the same number of ``selfsched.Slot`` objects, the same class the engine returns,
    with the fastest construction we know (``map`` over the attrs ``__init__``).
    """
    out = client_view(w)
    starts = [s.start.replace() for s in out]
    ends = [s.end.replace() for s in out]
    flags = [s.available for s in out]

    def floor() -> tuple[Slot, ...]:
        return tuple(map(Slot, starts, ends, flags))

    return floor


# -- the correctness gate -----------------------------------------------------------------------


class GateError(Exception):
    """Two comparators disagree."""


def _compare(label: str, results: dict[str, object]) -> None:
    names = list(results)
    reference = results[names[0]]
    for name in names[1:]:
        if results[name] != reference:
            msg = f"gate: {label}: {name} differs from {names[0]}"
            ours = reference if isinstance(reference, list) else [reference]
            theirs = results[name]
            theirs = theirs if isinstance(theirs, list) else [theirs]
            only_ours = sorted(set(ours) - set(theirs))[:3]
            only_theirs = sorted(set(theirs) - set(ours))[:3]
            raise GateError(
                f"{msg}; only in {names[0]}: {only_ours}; only in {name}: {only_theirs}"
            )
    print(f"gate: {label}: {', '.join(names)} agree ({_size(reference)})")


def _size(value: object) -> str:
    return f"{len(value)} free slots" if isinstance(value, list) else f"result {value}"


def gate(
    singles: list[Workload],
    practice: Practice,
    *,
    quick: bool,
) -> None:
    """selfsched, the baseline and every installed peer must agree on every workload."""
    others = peers.installed()
    slow = {"slotify"}  # quadratic with a large constant: sampled in quick mode
    for w in singles:
        results: dict[str, object] = {"selfsched": free_of(w)}
        results["baseline"] = baseline.free_slots(
            w.calendar, w.policy, w.first_day, w.last_day, w.now
        )
        for name, fn in others.items():
            if quick and name in slow and w.name not in {"W1", "W0"}:
                continue
            results[name] = fn(w.calendar, w.policy, w.first_day, w.last_day, w.now)
        _compare(w.name, results)
    sample = practice.workloads[:10] if quick else practice.workloads
    for w in sample:
        results = {"selfsched": free_of(w)}
        results["baseline"] = baseline.free_slots(
            w.calendar, w.policy, w.first_day, w.last_day, w.now
        )
        for name, fn in others.items():
            if quick and name in slow and w is not sample[0]:
                continue
            results[name] = fn(w.calendar, w.policy, w.first_day, w.last_day, w.now)
        _compare(w.name, results)
    first_day, last_day = _fa_days(practice)
    fa: dict[str, object] = {
        "first_available": first_available(practice),
        "all_then_min": all_then_min(practice),
    }
    if not quick:
        fa["baseline"] = baseline.first_available(
            [w.calendar for w in practice.workloads],
            practice.policy,
            first_day,
            last_day,
            practice.now,
        )
    _compare(f"{practice.name} first available", fa)
    head = Practice(practice.name, practice.workloads[:10], practice.policy, practice.now)
    _compare(
        f"{practice.name}[:10] first available",
        {
            "first_available": first_available(head),
            "baseline": baseline.first_available(
                [w.calendar for w in head.workloads], head.policy, first_day, last_day, head.now
            ),
        },
    )
    # The densest rule a calendar event may have, begun six years before the week.
    dense = dense_rule.gate_workload(next(w for w in singles if w.name == "W1"))
    _compare(
        dense.name,
        {
            "selfsched": free_of(dense),
            "baseline": baseline.free_slots(
                dense.calendar, dense.policy, dense.first_day, dense.last_day, dense.now
            ),
        },
    )


# -- timing -------------------------------------------------------------------------------------


CLOCKS = ("cpu", "wall")
"""Each sample is read on two clocks: ``cpu`` is this thread's CPU time (``time.thread_time``),
``wall`` the elapsed time (``time.perf_counter``). On a shared machine the wall clock also counts
the time the OS gave other processes, at random; the CPU clock counts the work done, so the
ratios are checked on it. Both are reported."""


def _sample(fn: Callable[[], object], inner: int, *, warm: bool) -> tuple[float, float]:
    gc.collect()
    if warm:
        fn()  # untimed: the other contenders ran in between and left the caches cold
    gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(inner):
            fn()
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        return cpu / inner, wall / inner
    finally:
        gc.enable()


WARM_BELOW = 0.05


def measure(
    contenders: dict[str, Callable[[], object]], rounds: int, min_sample: float
) -> dict[str, dict[str, Any]]:
    """Median, min and max seconds per call of each contender, on both clocks, round-robin.

    Each contender first runs once (warm-up) and is timed once to choose how many calls make
    one sample (at least *min_sample* seconds). Then every round samples every contender once,
    starting one further along the list each round. A contender faster than ``WARM_BELOW`` gets
    one untimed call before each sample: the slow contenders that ran in between evicted its
    data from the CPU caches, which would otherwise weigh on it alone (a slow one warms itself).
    """
    inner: dict[str, int] = {}
    warm: dict[str, bool] = {}
    for name, fn in contenders.items():
        fn()  # warm up: imports, zone and rule caches
        once = _sample(fn, 1, warm=False)[1]
        inner[name] = max(1, math.ceil(min_sample / max(once, 1e-9)))
        warm[name] = once < WARM_BELOW
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        turn = names[r % len(names) :] + names[: r % len(names)]
        for name in turn:
            samples[name].append(_sample(contenders[name], inner[name], warm=warm[name]))
    result: dict[str, dict[str, Any]] = {}
    for name, pairs in samples.items():
        entry: dict[str, Any] = {"runs": len(pairs), "calls_per_run": inner[name]}
        for k, clock in enumerate(CLOCKS):
            values = [pair[k] for pair in pairs]
            entry[clock] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
        result[name] = entry
    return result


def _peak_memory(practice: Practice) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        kept = all_slots(practice)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del kept
    return peak


# -- ratios ---------------------------------------------------------------------------------------

# id -> (description, numerator, denominator, ">=" or "<=", threshold)
FRESH: dict[str, tuple[str, str, str, str, float]] = {
    "G1": ("W1 slotify / selfsched, fresh instants", "W1 slotify", "W1 fresh instants", ">=", 150),
    "G2": ("W1 portion / selfsched, fresh instants", "W1 portion", "W1 fresh instants", ">=", 8),
    "G3a": ("W1 naive / selfsched, fresh instants", "W1 baseline", "W1 fresh instants", ">=", 8),
    "G4": ("W0 fresh instants / emission floor", "W0 fresh instants", "W0 floor", "<=", 1.6),
}
"""The same goals for a first view (no shared instants): reported, not checked."""

GOALS: dict[str, tuple[str, str, str, str, float]] = {
    "G1": ("W1 slotify / selfsched", "W1 slotify", "W1 selfsched", ">=", 150),
    "G2": ("W1 portion / selfsched", "W1 portion", "W1 selfsched", ">=", 8),
    "G3a": ("W1 naive / selfsched", "W1 baseline", "W1 selfsched", ">=", 8),
    "G3b": ("W365 naive / selfsched", "W365 baseline", "W365 selfsched", ">=", 30),
    "G4": ("W0 selfsched / emission floor, per slot", "W0 selfsched", "W0 floor", "<=", 1.6),
    "G5": ("W1 explain / client view", "W1 explain", "W1 selfsched", "<=", 4),
    "G6": ("W365 / W1 (days x4)", "W365 selfsched", "W1 selfsched", "<=", 5),
    "G7": ("W1x100 / W1", "W1x100 selfsched", "W1 selfsched", "<=", 50),
    "G8": ("N200 all-then-min / first available", "N200 all-then-min", "N200 first", ">=", 25),
}


def ratios(
    timings: dict[str, dict[str, Any]],
    counts: dict[str, int],
    clock: str,
    goals: dict[str, tuple[str, str, str, str, float]] = GOALS,
) -> dict[str, dict[str, Any]]:
    """Each goal's ratio of medians on *clock* and whether it holds."""
    result: dict[str, dict[str, Any]] = {}
    for goal, (text, top, bottom, op, threshold) in goals.items():
        entry: dict[str, Any] = {"text": text, "threshold": threshold, "op": op}
        if top not in timings or bottom not in timings:
            result[goal] = entry | {"value": None, "ok": None}
            continue
        value = timings[top][clock]["median"] / timings[bottom][clock]["median"]
        if goal == "G4":  # per emitted slot: normalise by each side's output size
            value *= counts[bottom] / counts[top]
        ok = value >= threshold if op == ">=" else value <= threshold
        result[goal] = entry | {"value": value, "ok": ok}
    return result


# -- reporting ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What this ran on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:8.3f} s "
    if seconds >= 1e-3:
        return f"{seconds * 1e3:8.3f} ms"
    return f"{seconds * 1e6:8.1f} us"


def print_table(timings: dict[str, dict[str, Any]]) -> None:
    """contender, median, min, max (CPU clock), runs, and the wall-clock median."""
    print(
        f"{'contender':28} {'median':>11} {'min':>11} {'max':>11} {'runs':>5} {'calls/run':>9}"
        f" {'wall median':>12}"
    )
    for name, t in timings.items():
        cpu = t["cpu"]
        print(
            f"{name:28} {_fmt(cpu['median'])} {_fmt(cpu['min'])} {_fmt(cpu['max'])} "
            f"{int(t['runs']):5d} {int(t['calls_per_run']):9d} {_fmt(t['wall']['median']):>12}"
        )


def print_ratios(result: dict[str, dict[str, Any]]) -> str:
    """The ratio table; returns the one-line summary."""
    print(f"{'goal':5} {'ratio':>9}  {'must be':>9}  ok   {'what'}")
    parts = []
    for goal, r in result.items():
        if r["value"] is None:
            print(f"{goal:5} {'n/a':>9}  {r['op']} {r['threshold']:<6}  --   {r['text']}")
            parts.append(f"{goal}=n/a")
            continue
        mark = "yes" if r["ok"] else "NO"
        print(f"{goal:5} {r['value']:9.2f}  {r['op']} {r['threshold']:<6}  {mark:4} {r['text']}")
        parts.append(f"{goal}={r['value']:.2f}{'' if r['ok'] else '(MISSED)'}")
    return " ".join(parts)


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Build, gate, time, report; the exit status says whether the ratios hold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds; sampled slow peers")
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio is missed")
    parser.add_argument("--gate-only", action="store_true", help="correctness gate only")
    parser.add_argument("--rounds", type=int, help="timing rounds (default 9 quick, 21 full)")
    parser.add_argument("--json", type=Path, help="where to write results (default results/)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    mode = "quick" if args.quick else "full"

    built = time.perf_counter()
    singles = [w1(), w0(), w365(), w1x100()]
    practice = n200()
    print(f"built workloads in {time.perf_counter() - built:.1f} s ({mode})")
    for w in singles:
        print(f"  {w.name}: {describe(w)}")
    print(f"  {practice.name}: {len(practice.workloads)} clinicians like W1, seeds 1000..")

    try:
        gate(singles, practice, quick=args.quick)
    except GateError as exc:
        print(exc, file=sys.stderr)
        print("GATE FAILED: selfsched and a comparator disagree; no timing was done.")
        return 2
    print(f"gate passed in {time.perf_counter() - began:.1f} s")
    if args.gate_only:
        return 0
    # Everything built so far lives to the end: keep it out of the collector's way.
    gc.collect()
    gc.freeze()

    by_name = {w.name: w for w in singles}
    one, zero, year, heavy = by_name["W1"], by_name["W0"], by_name["W365"], by_name["W1x100"]
    others = peers.installed()
    contenders: dict[str, Callable[[], object]] = {
        "W1 selfsched": lambda: client_view(one),
        "W1 explain": lambda: explain_view(one),
        "W1 fresh instants": lambda: fresh_client_view(one),
        "W1 baseline": lambda: baseline.free_slots(
            one.calendar, one.policy, one.first_day, one.last_day, one.now
        ),
    }
    for name, fn in others.items():
        contenders[f"W1 {name}"] = (
            lambda fn=fn: fn(one.calendar, one.policy, one.first_day, one.last_day, one.now)  # type: ignore[misc]
        )
    contenders |= {
        "W0 selfsched": lambda: client_view(zero),
        "W0 floor": emission_floor(zero),
        "W0 fresh instants": lambda: fresh_client_view(zero),
        "W365 selfsched": lambda: client_view(year),
        "W365 baseline": lambda: baseline.free_slots(
            year.calendar, year.policy, year.first_day, year.last_day, year.now
        ),
        "W1x100 selfsched": lambda: client_view(heavy),
        "N200 first": lambda: first_available(practice),
        "N200 all-then-min": lambda: all_then_min(practice),
        "N200 all slots": lambda: all_slots(practice),
    }
    contenders |= rrule_cost.contenders(practice)
    contenders |= dense_rule.contenders(one)
    counts = {
        "W0 selfsched": len(client_view(zero)),
        "W0 fresh instants": len(client_view(zero)),
        "W0 floor": len(emission_floor(zero)()),
    }
    rounds = args.rounds or (9 if args.quick else 21)
    timed = time.perf_counter()
    timings = measure(contenders, rounds, 0.04 if args.quick else 0.08)
    took = time.perf_counter() - timed
    print(f"timed {len(contenders)} contenders x {rounds} rounds in {took:.1f} s")
    peak = _peak_memory(practice)
    print()
    print_table(timings)
    print()
    print(f"N200 all slots: peak traced memory {peak / 2**20:.1f} MiB")
    rr = rrule_cost.report(timings, practice)
    print(rr["text"])
    dr = dense_rule.report(timings)
    print(dr["text"])
    print()
    wall = ratios(timings, counts, "wall")
    print("wall clock (not checked):")
    print_ratios(wall)
    print()
    fresh = ratios(timings, counts, "cpu", FRESH)
    print("CPU clock, a first view with no shared instants (not checked):")
    print_ratios(fresh)
    print()
    result = ratios(timings, counts, "cpu")
    print("CPU clock (checked):")
    summary = print_ratios(result)
    info = machine()
    out = {
        "mode": mode,
        "machine": info,
        "workloads": {w.name: describe(w) for w in singles},
        "timings": timings,
        "ratios": result,
        "ratios_wall_clock": wall,
        "ratios_fresh_instants": fresh,
        "n200_all_slots_peak_bytes": peak,
        "rrule": {k: v for k, v in rr.items() if k != "text"},
        "dense_rule": {k: v for k, v in dr.items() if k != "text"},
        "seconds": time.perf_counter() - began,
    }
    path = args.json or RESULTS / f"{mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(
        f"\nwrote {path}; {info['nproc']} x {info['cpu']}, Python {info['python']}; "
        f"{time.perf_counter() - began:.1f} s in all"
    )
    missed = [g for g, r in result.items() if r["ok"] is False]
    verdict = "all ratios met" if not missed else f"MISSED {', '.join(missed)}"
    print(f"ratios ({mode}, CPU-time medians): {summary} -> {verdict}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
