"""``python -m flowai emulator``: a Flow.ai + AIDA emulator in the foreground.

It prints ``listening on URL`` and one ``FLOWAI_NAME=value`` line per setting a client
needs (as ``flowai emulator`` of the CLI does), then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .testing import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flowai")
    commands = parser.add_subparsers(dest="command", required=True)
    emulator = commands.add_parser("emulator", help="run a local Flow.ai + AIDA emulator")
    emulator.add_argument("--project", help="a project file (the Management API's JSON)")
    emulator.add_argument("--time-scale", type=float, help="factor on the emulator's delays")
    emulator.add_argument("--replay", help="serve a recording made with --record")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: dict[str, Any] = {
        name: value
        for name, value in (
            ("project", args.project),
            ("time_scale", args.time_scale),
            ("replay", args.replay),
        )
        if value is not None
    }
    stop = threading.Event()
    # Ctrl-C and SIGTERM end the wait the same way, so the emulator always shuts down.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with Emulator(**settings) as emulator:
        lines = [f"listening on {emulator.settings['api_url']}"]
        lines += [f"{name}={value}" for name, value in emulator.env.items()]
        print("\n".join(lines), flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
