"""Logging with the standard library: one JSON object per line, or a readable line on a terminal.

``configure_logging(level, fmt)`` installs one handler on the root logger. ``fmt`` is
``MONITOR_LOG_FORMAT``: ``json``, ``console``, or ``auto`` (console when the stream is a TTY,
JSON otherwise, i.e. in containers and under systemd).

A JSON line carries ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, then the fields
passed with ``extra=`` (``article_id``, ``rule_id``, ``subscriber_id``, ``story_id``, ...), then
``exc`` when there is an exception::

    log.info("alert published", extra={"article_id": a.id, "rule_id": rule.id})

What never reaches the output: extra fields whose name says secret/token/password/key/auth/
signature or body/text/content (article bodies), non-scalar extra values (pass ids, not
objects), ``whsec_`` signing secrets and ``user:password@`` in URLs anywhere in a line.
Long strings are cut.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

FORMATS: Final = ("auto", "json", "console")
MAX_VALUE_CHARS: Final = 1000
REDACTED: Final = "***"

# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_SENSITIVE_KEY: Final = re.compile(
    r"secret|token|passw|api_?key|^key$|auth|signature|cookie|^body$|^text$|content|headers?$",
    re.IGNORECASE,
)
_SECRETS: Final = (
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), f"whsec_{REDACTED}"),
    (re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+@"), f"{REDACTED}@"),
)
_HANDLER_MARK: Final = "_monitor_handler"


def redact(text: str) -> str:
    """``text`` without signing secrets or URL credentials, cut to ``MAX_VALUE_CHARS``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + "..."
    return text


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The safe ``extra=`` fields of ``record``, in the order they were given."""
    fields: dict[str, Any] = {}
    for key, value in record.__dict__.items():
        if key in _RECORD_ATTRS or key.startswith("_") or _SENSITIVE_KEY.search(key):
            continue
        if isinstance(value, str):
            fields[key] = redact(value)
        elif value is None or isinstance(value, bool | int | float):
            fields[key] = value
    return fields


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = redact_traceback(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = redact_traceback(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 INFO    monitor.app: alert published rule_id=protest``."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        line = (
            f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d} "
            f"{record.levelname:<7} {record.name}: {redact(record.getMessage())}"
        )
        fields = " ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        if fields:
            line = f"{line} {fields}"
        if record.exc_info:
            line = f"{line}\n{redact_traceback(self.formatException(record.exc_info))}"
        return line


def redact_traceback(text: str) -> str:
    """Like ``redact`` but keeps the whole traceback (its end is the useful part)."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def resolve_format(fmt: str, stream: TextIO) -> str:
    """``json`` or ``console``: ``auto`` picks console on a TTY only."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


def configure_logging(level: str, fmt: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream`` (stderr) as ``fmt``.

    Calling it again replaces the handler it installed before; other handlers stay.
    """
    target = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(target)
    resolved = resolve_format(fmt, target)
    handler.setFormatter(JsonFormatter() if resolved == "json" else ConsoleFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_MARK, False):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
