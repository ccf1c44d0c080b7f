#!/usr/bin/env python3
"""Normalizes the conformance programs' output and compares it with golden.jsonl.

Every program prints the lines of SCENARIO.md. Before comparing, each line is brought to
one form, the same for every language:

- the case rule backwards: event names, the top-level keys of event payloads and the
  top-level keys of results go to snake_case (Node camelCases them; the others print
  them in snake_case already, so this changes nothing there). A result that is itself an
  event (`{"event", "payload"}`, the verifier's) is treated as an event;
- whole numbers printed as floats (`0.0`) become integers;
- volatile values are masked: values under keys that are different on every run (thread
  and trace ids, session ids, nonces, ports, keys and tokens of the emulator, timestamps,
  `at_ns`, image ids, ...), and, in any string, loopback origins (so a URL keeps its
  path: `<origin:2>/webhook`), UUIDs, long hex runs and ISO timestamps. Each distinct value gets a numbered placeholder
  (`<thread_id:1>`) in order of first appearance, so the output still shows which values
  are the same (the session id of an event and of `info()`) and which differ.

Values that the scenario itself chooses (`conformance-thread`, `t-1`, `d-1`, ...) and
the ids of the emulator's built-in demo project stay as they are: they are the same in
every run and every language.

Usage:
  compare.py normalize OUTPUT                 print OUTPUT normalized
  compare.py check NAME OUTPUT GOLDEN         compare; prints "NAME: ok (N lines)" or a diff
  compare.py bless OUTPUT GOLDEN              write GOLDEN from OUTPUT
  compare.py self-test OUTPUT GOLDEN          prove that check fails on a real difference
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any

# Keys whose values change from run to run (after the case rule: snake_case).
VOLATILE_KEYS = {
    "thread_id",
    "trace_id",
    "session_id",
    "session",
    "nonce",
    "secret",
    "port",
    "messaging_key",
    "management_key",
    "client_id",
    "aida_bot",
    "aida_token",
    "image_id",
    "webhook_id",
    "organisation_id",
    "at_ns",
    "created_at",
    "updated_at",
    "timestamp",
    "time",
}

# Keys holding ids of the emulator's built-in demo project: the same in every run.
STABLE_KEYS = {"flow_id", "step_id", "intent_id", "action_id", "project_id", "brain_id"}

# Values the scenario chooses itself; never masked.
SCENARIO_VALUES = {"conformance-thread", "t-1", "d-1", "d-2", "conformance-key", "wrong-key"}

PATTERNS = [
    ("origin", re.compile(r"(?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):\d+")),
    ("uuid", re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")),
    ("time", re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")),
    ("hex", re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])")),
]


def to_snake(name: str) -> str:
    """`agentTyping` -> `agent_typing`; snake_case is returned unchanged (as flowai_core::event::to_snake)."""
    return "".join("_" + c.lower() if "A" <= c <= "Z" else c for c in name)


def snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_snake(k): v for k, v in value.items()}
    return value


def normalize_event(event: Any) -> Any:
    if not isinstance(event, dict):
        return event
    event = dict(event)
    if isinstance(event.get("event"), str):
        event["event"] = to_snake(event["event"])
    if "payload" in event:
        event["payload"] = snake_keys(event["payload"])
    return event


def is_event(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"event", "payload"}


def whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def apply_case_rule(line: Any) -> Any:
    if not isinstance(line, dict):
        return line
    line = dict(line)
    if isinstance(line.get("events"), list):
        line["events"] = [normalize_event(e) for e in line["events"]]
    if "result" in line:
        result = line["result"]
        line["result"] = normalize_event(result) if is_event(result) else snake_keys(result)
    return line


class Masker:
    """Replaces volatile values with numbered placeholders, the same value with the same one."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def placeholder(self, kind: str, value: Any) -> str:
        # Keyed by the value's JSON text, so the number 7 and the string "7" stay distinct.
        known = self.seen.get(json.dumps(value))
        if known is not None:
            return known
        self.counts[kind] = self.counts.get(kind, 0) + 1
        name = f"<{kind}:{self.counts[kind]}>"
        self.seen[json.dumps(value)] = name
        return name

    def text(self, value: str) -> str:
        known = self.seen.get(json.dumps(value))
        if known is not None:
            return known
        for kind, pattern in PATTERNS:
            value = pattern.sub(lambda m, kind=kind: self.placeholder(kind, m.group(0)), value)
        return value

    def mask(self, value: Any, key: str | None = None) -> Any:
        # Sorted keys: the numbering follows one order whatever order a language printed.
        if isinstance(value, dict):
            return {k: self.mask(value[k], to_snake(k)) for k in sorted(value)}
        if isinstance(value, list):
            return [self.mask(v, key) for v in value]
        if key in STABLE_KEYS or value in SCENARIO_VALUES:
            return value
        if key in VOLATILE_KEYS and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return self.placeholder(key, value)
        if isinstance(value, str):
            return self.text(value)
        return value


def normalize_lines(text: str) -> list[str]:
    """The program's stdout as normalized JSON lines; a line that is not JSON stays, marked."""
    masker = Masker()
    out = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            out.append("NOT JSON: " + raw)
            continue
        line = masker.mask(apply_case_rule(whole_numbers(line)))
        out.append(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return out


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def golden_lines(path: str) -> list[str]:
    return [line for line in read(path).splitlines() if line.strip()]


def step_of(line: str) -> str | None:
    try:
        return json.loads(line).get("step")
    except (json.JSONDecodeError, AttributeError):
        return None


def detail(expected: list[str], actual: list[str]) -> list[str]:
    """For each step whose line differs, an indented diff of that step's JSON (long lines are unreadable)."""
    want = {step_of(line): line for line in expected}
    out = []
    for line in actual:
        step = step_of(line)
        if step is None or step not in want or want[step] == line:
            continue
        a = json.dumps(json.loads(want[step]), indent=1, sort_keys=True, ensure_ascii=False).splitlines()
        b = json.dumps(json.loads(line), indent=1, sort_keys=True, ensure_ascii=False).splitlines()
        out.extend(difflib.unified_diff(a, b, f"golden {step}", f"actual {step}", lineterm="", n=2))
    return out


def check(name: str, output: str, golden: str) -> int:
    expected = golden_lines(golden)
    actual = normalize_lines(read(output))
    if actual == expected:
        print(f"{name}: ok ({len(actual)} lines)")
        return 0
    diff = list(difflib.unified_diff(expected, actual, golden, f"{name} (normalized)", lineterm=""))
    print("\n".join(diff))
    more = detail(expected, actual)
    if more:
        print(f"--- {name}: the differing steps in detail")
        print("\n".join(more))
    print(f"{name}: MISMATCH ({len(actual)} lines, golden has {len(expected)})")
    return 1


def bless(output: str, golden: str) -> int:
    lines = normalize_lines(read(output))
    with open(golden, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {golden} ({len(lines)} lines)")
    return 0


def run_check(output: str, golden: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "check", "self-test", output, golden],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def as_node(raw: str) -> str:
    """A line as the Node program prints it: the case rule applied (for the self-test)."""
    line = json.loads(raw)

    def camel_event(e: Any) -> Any:
        return {"event": to_camel(e["event"]), "payload": {to_camel(k): v for k, v in e["payload"].items()}}

    if isinstance(line.get("events"), list):
        line["events"] = [camel_event(e) for e in line["events"]]
    result = line.get("result")
    if is_event(result):
        line["result"] = camel_event(result)
    elif isinstance(result, dict):
        line["result"] = {to_camel(k): v for k, v in result.items()}
    return json.dumps(line)


def has_diff(text: str) -> bool:
    """Whether `text` holds a unified diff with a hunk and a changed line."""
    lines = text.splitlines()
    headers = any(a.startswith("--- ") and b.startswith("+++ ") for a, b in zip(lines, lines[1:]))
    hunk = any(line.startswith("@@ ") for line in lines)
    changed = any(line[:1] in "+-" and line[:4] not in ("--- ", "+++ ") for line in lines if line)
    return headers and hunk and changed


def self_test(output: str, golden: str) -> int:
    """The comparer passes the real output, and fails, with a diff, on each kind of corruption."""
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        code, text = run_check(output, golden)
        if code != 0:
            print(text)
            print("self-test: FAILED (the real output must match the golden file first)")
            return 1
        lines = golden_lines(golden)
        raw = read(output).splitlines()

        def write(name: str, content: list[str]) -> str:
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(content) + "\n")
            return path

        def expect(what: str, out_lines: list[str], gold_lines: list[str], fails: bool, marker: str = "") -> None:
            code, text = run_check(write("out.jsonl", out_lines), write("golden.jsonl", gold_lines))
            if fails and code == 0:
                failures.append(f"{what}: the comparer passed")
            elif fails and not has_diff(text):
                failures.append(f"{what}: no unified diff in\n{text}")
            elif fails and marker and marker not in text:
                failures.append(f"{what}: the diff does not show {marker!r}")
            elif not fails and code != 0:
                failures.append(f"{what}: the comparer failed\n{text}")
            else:
                print(f"self-test: {what}: {'reported' if fails else 'passed'} as it should")

        # One golden line corrupted: the webhook status of the wrong key.
        i = next(n for n, line in enumerate(lines) if '"step":"receiver.bad_key"' in line)
        corrupt = list(lines)
        corrupt[i] = corrupt[i].replace('"status":401', '"status":200')
        assert corrupt[i] != lines[i], "the golden line has no 401 to corrupt"
        expect("a corrupted golden line", raw, corrupt, True, '-{"result":{"status":200}')
        # A golden line missing, and one more in the output than in the golden file.
        expect("a line missing from the golden file", raw, lines[:-1], True)
        expect("a line missing from the output", raw[:-1], lines, True)
        # A value that must be the same everywhere (the bot's reply) changed in the output.
        j = next(n for n, line in enumerate(raw) if '"aida.s1.events"' in line)
        changed = list(raw)
        changed[j] = changed[j].replace("customer service", "customer servize")
        assert changed[j] != raw[j], "the aida reply text was not found"
        expect("a changed reply text", changed, lines, True, "customer servize")
        # Output that is not JSON.
        expect("a line that is not JSON", raw + ["hello"], lines, True, "NOT JSON: hello")
        # Node's form of the same lines (camelCase names and top-level keys): still equal.
        expect("the same lines in Node's case", [as_node(line) for line in raw], lines, False)
        # Volatile values changed consistently (another run's ids): still equal.
        k = next(n for n, line in enumerate(raw) if '"step":"session.connected"' in line)
        thread = json.loads(raw[k])["events"][0]["payload"]
        thread = thread.get("thread_id") or thread.get("threadId")
        other = [line.replace(thread, "0" * 32 + "|" + "1" * 32) for line in raw]
        expect("another thread id everywhere", other, lines, False)
        # ... but one occurrence of a volatile value changed alone breaks its identity.
        m = next(n for n, line in enumerate(raw) if '"step":"session.send_text.events"' in line)
        alone = list(raw)
        alone[m] = alone[m].replace(thread, "0" * 32 + "|" + "1" * 32, 1)
        expect("one thread id different from the others", alone, lines, True)
    if failures:
        print("\n".join(failures))
        print("self-test: FAILED")
        return 1
    print("self-test: ok")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "normalize":
        print("\n".join(normalize_lines(read(argv[1]))))
        return 0
    if len(argv) == 4 and argv[0] == "check":
        return check(argv[1], argv[2], argv[3])
    if len(argv) == 3 and argv[0] == "bless":
        return bless(argv[1], argv[2])
    if len(argv) == 3 and argv[0] == "self-test":
        return self_test(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
