"""Python binding benchmark: events of the `bench` kind through a Python listener, each
figure next to a baseline taken in the same run.

    target/pyvenv/py/bin/python tests/bench/bench.py [--json] [--events N] [--samples N] [--rounds R]

Install a release build first (``FLOWAI_PY_PROFILE=release tests/python/run.sh`` or
``pip install ./python``); a debug build is reported as such.

events   an ``EventBench`` emits N ``progress`` events as fast as its queue takes them,
         from a thread of its own (as a socket's reader would); a callback registered
         with ``on("progress", ...)`` counts them. Events per second from ``run`` to the
         ``closed`` callback. Baseline: the same N events taken without a listener by
         ``for event in bench`` on the main thread (the native queue, the JSON batch and
         the Event objects, without the dispatch thread and the callbacks).
latency  N events 1 ms apart (``interval_us=1000``: an idle pipeline, no queueing). Each
         carries ``at_ns``, CLOCK_MONOTONIC just before it goes into the queue; the
         callback reads ``time.monotonic_ns()`` (the same clock) on entry. p50 / p99 in
         microseconds. Baseline: the same through ``for event in bench``.

Each figure is the best of R rounds (the machine is shared; the best round is the one
least disturbed). The bar: >= 150,000 events/s through the listener and p50 <= 50 us.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
from typing import Any

import flowai
from flowai import _flowai

BAR_EVENTS_PER_S = 150_000
BAR_P50_US = 50.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def listener_rate(n: int) -> float:
    bench = flowai.EventBench()
    count = 0
    done = threading.Event()

    def on_progress(event: flowai.Event) -> None:
        nonlocal count
        count += 1

    bench.on("progress", on_progress)
    bench.on("closed", lambda event: done.set())
    start = time.perf_counter()
    bench.run(n)
    if not done.wait(300):
        raise SystemExit("the bench object never closed")
    elapsed = time.perf_counter() - start
    assert count == n, (count, n)
    return n / elapsed


def direct_rate(n: int) -> float:
    bench = flowai.EventBench()
    start = time.perf_counter()
    bench.run(n)
    count = sum(1 for event in bench if event.name == "progress")
    elapsed = time.perf_counter() - start
    assert count == n, (count, n)
    return n / elapsed


def listener_latency(samples: int) -> list[float]:
    bench = flowai.EventBench()
    clock = time.monotonic_ns
    waits: list[int] = []
    done = threading.Event()

    def on_progress(event: flowai.Event) -> None:
        now = clock()
        waits.append(now - event.payload["at_ns"])

    bench.on("progress", on_progress)
    bench.on("closed", lambda event: done.set())
    bench.run(samples, interval_us=1000)
    done.wait(300)
    return [ns / 1000 for ns in waits]


def direct_latency(samples: int) -> list[float]:
    bench = flowai.EventBench()
    clock = time.monotonic_ns
    waits: list[int] = []
    bench.run(samples, interval_us=1000)
    for event in bench:
        now = clock()
        if event.name == "progress":
            waits.append(now - event.payload["at_ns"])
    return [ns / 1000 for ns in waits]


def events(n: int, rounds: int) -> dict[str, Any]:
    listener_rate(min(n, 20_000))  # warm-up: threads, allocator, code paths
    listener = max(listener_rate(n) for _ in range(rounds))
    direct = max(direct_rate(n) for _ in range(rounds))
    return {
        "n": n,
        "listener_events_per_s": round(listener),
        "direct_events_per_s": round(direct),
        "listener_over_direct": round(listener / direct, 3),
    }


def latency(samples: int, rounds: int) -> dict[str, Any]:
    def best(measure: Any) -> list[float]:
        runs = [measure(samples) for _ in range(rounds)]
        return min(runs, key=lambda us: percentile(us, 50))

    listener = best(listener_latency)
    direct = best(direct_latency)
    return {
        "definition": "at_ns stamped before the event enters the queue -> callback entry, 1 event/ms",
        "samples": samples,
        "listener_p50_us": round(percentile(listener, 50), 1),
        "listener_p99_us": round(percentile(listener, 99), 1),
        "direct_p50_us": round(percentile(direct, 50), 1),
        "direct_p99_us": round(percentile(direct, 99), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--events", type=int, default=300_000, help="events of a throughput round")
    parser.add_argument("--samples", type=int, default=2_000, help="events of a latency round (1 per ms)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measurement; the best counts")
    args = parser.parse_args()

    ev = events(args.events, args.rounds)
    lat = latency(args.samples, args.rounds)
    met = ev["listener_events_per_s"] >= BAR_EVENTS_PER_S and lat["listener_p50_us"] <= BAR_P50_US
    result = {
        "binding": "python",
        "python": platform.python_version(),
        "build": "debug" if _flowai.DEBUG_BUILD else "release",
        "events": ev,
        "latency": lat,
        "bar": {"events_per_s_min": BAR_EVENTS_PER_S, "p50_us_max": BAR_P50_US, "met": met},
    }
    if args.json:
        print(json.dumps(result))
        return 0
    if _flowai.DEBUG_BUILD:
        print("note: flowai is a debug build; install a release build for real figures")
    print(
        f"events to a Python callback: {ev['listener_events_per_s']:,}/s"
        f" (baseline, for event in bench: {ev['direct_events_per_s']:,}/s; {ev['listener_over_direct']:.2f}x)"
    )
    print(
        f"latency at_ns -> callback: p50 {lat['listener_p50_us']} us, p99 {lat['listener_p99_us']} us"
        f" (baseline, for event in bench: p50 {lat['direct_p50_us']} us, p99 {lat['direct_p99_us']} us)"
    )
    print(
        f"bar (>= {BAR_EVENTS_PER_S:,} events/s, p50 <= {BAR_P50_US:.0f} us): {'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
