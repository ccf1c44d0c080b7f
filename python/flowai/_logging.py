"""The SDK's log records (REST requests, retries, receiver warnings) through ``logging.getLogger("flowai")``.

Records come from the native core with their level; a handler configured the usual way
(``logging.basicConfig(level=logging.DEBUG)``, or a level on the ``flowai`` logger) shows
them. Each record's ``flowai_target`` attribute names the core module that logged. No
record carries a key: the core never logs one.
"""

from __future__ import annotations

import logging

from . import _flowai

LOGGER = logging.getLogger("flowai")


def _log(level: int, target: str, message: str) -> None:
    if LOGGER.isEnabledFor(level):
        LOGGER.log(level, "%s", message, extra={"flowai_target": target})


_flowai.set_log_handler(_log)
