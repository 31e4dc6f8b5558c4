"""Structured logs: JSON lines, console lines, extra fields, and what must never be logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from monitor.logs import configure_logging, resolve_format


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_the_fixed_fields_and_extras() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    logging.getLogger("monitor.app").info(
        "alert %s", "published", extra={"article_id": "a-1", "rule_id": "protest"}
    )
    (entry,) = json_lines(out)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "monitor.app"
    assert entry["msg"] == "alert published"
    assert entry["article_id"] == "a-1"
    assert entry["rule_id"] == "protest"
    assert str(entry["ts"]).endswith("Z")
    assert list(entry)[:4] == ["ts", "level", "logger", "msg"]


def test_subscriber_and_numbers() -> None:
    out = io.StringIO()
    configure_logging("DEBUG", "json", stream=out)
    logging.getLogger("monitor.deliver").debug(
        "attempt", extra={"subscriber_id": "desk-nl", "attempt": 3, "partition": 0}
    )
    (entry,) = json_lines(out)
    assert entry["subscriber_id"] == "desk-nl"
    assert entry["attempt"] == 3


def test_level_filters() -> None:
    out = io.StringIO()
    configure_logging("WARNING", "json", stream=out)
    log = logging.getLogger("monitor.x")
    log.info("quiet")
    log.warning("loud")
    assert [e["msg"] for e in json_lines(out)] == ["loud"]


def test_exception_is_one_json_line() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("monitor.x").exception("failed")
    (entry,) = json_lines(out)
    assert "RuntimeError: boom" in str(entry["exc"])


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"secret": "whsec_abc"}, id="secret"),
        pytest.param({"webhook_secret": "x"}, id="webhook-secret"),
        pytest.param({"token": "t"}, id="token"),
        pytest.param({"authorization": "Bearer t"}, id="authorization"),
        pytest.param({"text": "the article body"}, id="article-text"),
        pytest.param({"body": "the request body"}, id="body"),
        pytest.param({"article": object()}, id="object"),
    ],
)
def test_unsafe_extras_are_dropped(extra: dict[str, object]) -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    logging.getLogger("monitor.x").info("m", extra=extra)
    (entry,) = json_lines(out)
    for key in extra:
        assert key not in entry


def test_secrets_in_messages_are_redacted() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    logging.getLogger("monitor.x").info(
        "posting to %s with %s",
        "https://user:hunter2@desk.example/hook",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        extra={"endpoint": "https://bot:pw@desk.example/h"},
    )
    line = out.getvalue()
    assert "hunter2" not in line
    assert "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" not in line
    assert ":pw@" not in line
    assert "desk.example/hook" in line


def test_long_values_are_cut() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    logging.getLogger("monitor.x").info("m", extra={"detail": "x" * 5000})
    (entry,) = json_lines(out)
    assert len(str(entry["detail"])) < 1100


def test_console_format() -> None:
    out = io.StringIO()
    configure_logging("INFO", "console", stream=out)
    logging.getLogger("monitor.app").info("alert published", extra={"rule_id": "protest"})
    line = out.getvalue().strip()
    assert "INFO" in line
    assert "monitor.app: alert published rule_id=protest" in line
    assert not line.startswith("{")


@pytest.mark.parametrize(
    ("fmt", "tty", "expected"),
    [
        pytest.param("auto", True, "console", id="auto-tty"),
        pytest.param("auto", False, "json", id="auto-pipe"),
        pytest.param("json", True, "json", id="json-on-tty"),
        pytest.param("console", False, "console", id="console-on-pipe"),
    ],
)
def test_resolve_format(fmt: str, tty: bool, expected: str) -> None:
    stream = Tty() if tty else io.StringIO()
    assert resolve_format(fmt, stream) == expected


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="log format"):
        resolve_format("xml", io.StringIO())


def test_configure_twice_replaces_its_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", "json", stream=first)
    configure_logging("INFO", "json", stream=second)
    logging.getLogger("monitor.x").info("once")
    assert first.getvalue() == ""
    assert len(json_lines(second)) == 1
