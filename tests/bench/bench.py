"""Python binding benchmark, each figure next to the same scenario without Python, in one run.

    python tests/bench/bench.py [--json] [--events N] [--seconds S]

Run it with a Python that has a release build of ``flowai`` installed (a debug build is
reported as such), e.g. ``pip install ./python`` in a venv. Uses FLOWAI_API_URL /
FLOWAI_CLIENT_ID when set, else starts ``target/release/flowai emulator`` (or
target/debug/flowai, or $FLOWAI_BIN) and stops it at the end.

Scenarios:

events     N synthetic ``delivered`` events made on a runtime thread go through the session
           dispatch (the channel, batching and event thread every session uses) to a Python
           callback that counts them; the Rust figure sends them through the same loop to a
           no-op Rust closure. Events per second, creation of the first to ``closed`` handled.
latency    the same path paced at one event per millisecond (an idle pipeline, so no queueing):
           time from the event's creation on the runtime thread to the entry of the Python
           callback (``time.perf_counter_ns()``, the clock the creation stamp is taken on), and
           to the entry of the Rust closure. p50 / p99 in microseconds.
pipelined  one session against the emulator with 64 sends in flight: Python runs 64 asyncio
           tasks awaiting ``send_text_async`` (events to an ``on_event`` counter); Rust runs 64
           tokio tasks awaiting ``Session::send_text``. Acked messages per second.

The bar: Python callbacks >= 150,000 events/s and latency p50 <= 50 us.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import flowai
from flowai import _flowai

ROOT = Path(__file__).resolve().parents[2]
BAR_EVENTS_PER_S = 150_000
BAR_P50_US = 50.0
WINDOW = 64


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def start_emulator() -> tuple[dict[str, str], subprocess.Popen[str] | None]:
    if os.environ.get("FLOWAI_API_URL") and os.environ.get("FLOWAI_CLIENT_ID"):
        return dict(os.environ), None
    candidates = [os.environ.get("FLOWAI_BIN"), ROOT / "target/release/flowai", ROOT / "target/debug/flowai"]
    binary = next(str(c) for c in candidates if c and Path(c).is_file())
    child = subprocess.Popen([binary, "emulator", "--port", "0"], stdout=subprocess.PIPE, text=True)
    env: dict[str, str] = {}
    assert child.stdout is not None
    for line in child.stdout:
        name, sep, value = line.strip().partition("=")
        if sep and name.startswith("FLOWAI_"):
            env[name] = value
        if "FLOWAI_AIDA_TOKEN" in env:
            break
    else:
        child.kill()
        raise SystemExit("the emulator exited before printing its settings")
    return env, child


def events(n: int) -> dict[str, Any]:
    count = 0

    def on_event(event: flowai.Event) -> None:
        nonlocal count
        count += 1

    _flowai._bench_events(min(n, 20_000), on_event)  # warm-up
    _flowai._bench_events(min(n, 20_000))
    count = 0
    py = _flowai._bench_events(n, on_event)
    assert count == n + 1, count  # n events, then closed
    rust = _flowai._bench_events(n)
    py_rate = n / py["seconds"]
    rust_rate = n / rust["seconds"]
    return {
        "n": n,
        "python_events_per_s": round(py_rate),
        "rust_events_per_s": round(rust_rate),
        "python_over_rust": round(py_rate / rust_rate, 3),
    }


def latency(samples: int) -> dict[str, Any]:
    entries: list[int] = []
    clock = time.perf_counter_ns

    def on_event(event: flowai.Event) -> None:
        entries.append(clock())

    py = _flowai._bench_events(samples, on_event, interval_ms=1)
    py_us = [(entered - made) / 1000 for entered, made in zip(entries, py["created_ns"])]
    rust = _flowai._bench_events(samples, interval_ms=1)
    rust_us = [ns / 1000 for ns in rust["latencies_ns"]]
    return {
        "definition": "event created on a runtime thread -> callback entry, 1 event/ms",
        "samples": samples,
        "python_p50_us": round(percentile(py_us, 50), 1),
        "python_p99_us": round(percentile(py_us, 99), 1),
        "rust_p50_us": round(percentile(rust_us, 50), 1),
        "rust_p99_us": round(percentile(rust_us, 99), 1),
    }


async def python_pipelined(env: dict[str, str], warmup: float, seconds: float) -> tuple[float, float]:
    events = 0
    ended = asyncio.Event()

    def on_event(event: flowai.Event) -> None:
        nonlocal events
        events += 1
        if event.type == "closed":
            ended.set()

    session = await flowai.Session.connect_async(
        api_url=env["FLOWAI_API_URL"], client_id=env["FLOWAI_CLIENT_ID"], on_event=on_event
    )
    acked = 0
    elapsed = 0.0
    try:
        for span in (warmup, seconds):
            acked = events = 0
            start = time.perf_counter()
            end = start + span

            async def worker() -> int:
                n = 0
                while time.perf_counter() < end:
                    await session.send_text_async("hello")
                    n += 1
                return n

            acked = sum(await asyncio.gather(*(worker() for _ in range(WINDOW))))
            elapsed = time.perf_counter() - start
            seen = events
    finally:
        await session.close_async()
        await ended.wait()  # the last callbacks run on this loop before it closes
    return acked / elapsed, seen / elapsed


def pipelined(env: dict[str, str], seconds: float) -> dict[str, Any]:
    warmup = min(0.5, seconds / 2)
    rust = _flowai._bench_pipelined(
        window=WINDOW, seconds=seconds, warmup=warmup, api_url=env["FLOWAI_API_URL"], client_id=env["FLOWAI_CLIENT_ID"]
    )
    py, py_events = asyncio.run(python_pipelined(env, warmup, seconds))
    return {
        "window": WINDOW,
        "seconds": seconds,
        "python_acked_msgs_per_s": round(py),
        "rust_acked_msgs_per_s": round(rust),
        "python_over_rust": round(py / rust, 3),
        "python_events_per_s": round(py_events),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--events", type=int, default=300_000, help="events of the throughput run")
    parser.add_argument("--samples", type=int, default=2_000, help="events of the latency run (1 per ms)")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds of the pipelined run")
    args = parser.parse_args()

    env, child = start_emulator()
    try:
        ev = events(args.events)
        lat = latency(args.samples)
        pipe = pipelined(env, args.seconds)
    finally:
        if child is not None:
            child.kill()
            child.wait()
    result = {
        "binding": "python",
        "python": platform.python_version(),
        "build": "debug" if _flowai._debug_build else "release",
        "events": ev,
        "latency": lat,
        "pipelined": pipe,
        "bar": {
            "events_per_s_min": BAR_EVENTS_PER_S,
            "p50_us_max": BAR_P50_US,
            "met": ev["python_events_per_s"] >= BAR_EVENTS_PER_S and lat["python_p50_us"] <= BAR_P50_US,
        },
    }
    if args.json:
        print(json.dumps(result))
    else:
        if _flowai._debug_build:
            print("note: flowai is a debug build; install a release build for real figures")
        print(
            f"events to a callback: python {ev['python_events_per_s']:,}/s, rust {ev['rust_events_per_s']:,}/s"
            f" ({ev['python_over_rust']:.2f}x)"
        )
        print(
            f"latency creation->callback: python p50 {lat['python_p50_us']} us p99 {lat['python_p99_us']} us,"
            f" rust p50 {lat['rust_p50_us']} us p99 {lat['rust_p99_us']} us"
        )
        print(
            f"pipelined x{WINDOW}: python {pipe['python_acked_msgs_per_s']:,} acked msg/s,"
            f" rust {pipe['rust_acked_msgs_per_s']:,} ({pipe['python_over_rust']:.2f}x)"
        )
        print(f"bar (>= {BAR_EVENTS_PER_S:,} events/s, p50 <= {BAR_P50_US:.0f} us): {'met' if result['bar']['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
