"""One frozen settings object, built from the environment in one place (``Settings.from_env``).

Only the CLI reads ``os.environ``; everything else receives a ``Settings`` (or the values it needs)
through its constructor. Every variable is listed in ``ENV`` with its default, and the compose file
and the README are checked against that list by the tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import ConfigError

SUPPORTED_LANGUAGES = ("nl", "en", "de", "fr", "es", "ru", "it", "pt", "pl")

# Standard Webhooks' suggested schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(name, f"expected an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(name, f"must be positive, got {value}")
    return value


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(name, f"expected a number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(name, f"must be positive, got {value}")
    return value


def _csv(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _floats(name: str, raw: str) -> tuple[float, ...]:
    values = tuple(_positive_float(name, part) for part in _csv(name, raw))
    if not values:
        raise ConfigError(name, "needs at least one delay")
    return values


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(name, f"expected true/false, got {raw!r}")


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in choices:
            raise ConfigError(name, f"expected one of {', '.join(choices)}, got {raw!r}")
        return raw

    return parse


def _str(_name: str, raw: str) -> str:
    return raw


def _path(_name: str, raw: str) -> Path:
    return Path(raw)


def _optional_path(_name: str, raw: str) -> Path | None:
    return Path(raw) if raw else None


def _env(var: str, default: str, parse: Callable[[str, str], object]) -> dict[str, object]:
    """Field metadata: read from ``var``; ``parse`` validates and names the variable on error."""
    return {"env": var, "default": default, "parse": parse}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the worker and the CLI can be told, with its environment variable."""

    kafka_bootstrap_servers: str = field(
        metadata=_env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", _str)
    )
    app_id: str = field(metadata=_env("MONITOR_APP_ID", "monitor", _str))
    topic_articles: str = field(metadata=_env("MONITOR_TOPIC_ARTICLES", "articles", _str))
    topic_articles_dlq: str = field(
        metadata=_env("MONITOR_TOPIC_ARTICLES_DLQ", "articles.dlq", _str)
    )
    topic_alerts: str = field(metadata=_env("MONITOR_TOPIC_ALERTS", "alerts", _str))
    topic_webhook_dlq: str = field(
        metadata=_env("MONITOR_TOPIC_WEBHOOK_DLQ", "alerts.webhook-dlq", _str)
    )
    topic_partitions: int = field(metadata=_env("MONITOR_TOPIC_PARTITIONS", "4", _positive_int))
    topic_replication: int = field(metadata=_env("MONITOR_TOPIC_REPLICATION", "1", _positive_int))
    kafka_session_timeout: float = field(
        metadata=_env("MONITOR_KAFKA_SESSION_TIMEOUT", "30", _positive_float)
    )
    rules_path: Path = field(metadata=_env("MONITOR_RULES", "rules", _path))
    rules_poll_interval: float = field(
        metadata=_env("MONITOR_RULES_POLL_INTERVAL", "10", _positive_float)
    )
    subscriptions_path: Path | None = field(
        metadata=_env("MONITOR_SUBSCRIPTIONS", "", _optional_path)
    )
    max_article_bytes: int = field(
        metadata=_env("MONITOR_MAX_ARTICLE_BYTES", str(2 * 1024 * 1024), _positive_int)
    )
    languages: tuple[str, ...] = field(
        metadata=_env("MONITOR_LANGUAGES", ",".join(SUPPORTED_LANGUAGES), _csv)
    )
    web_host: str = field(metadata=_env("MONITOR_WEB_HOST", "127.0.0.1", _str))
    web_port: int = field(metadata=_env("MONITOR_WEB_PORT", "6066", _positive_int))
    log_level: str = field(
        metadata=_env("MONITOR_LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR"))
    )
    log_format: str = field(
        metadata=_env("MONITOR_LOG_FORMAT", "auto", _choice("auto", "json", "console"))
    )
    shutdown_timeout: float = field(
        metadata=_env("MONITOR_SHUTDOWN_TIMEOUT", "20", _positive_float)
    )
    story_window_hours: float = field(
        metadata=_env("MONITOR_STORY_WINDOW_HOURS", "72", _positive_float)
    )
    webhook_timeout: float = field(metadata=_env("MONITOR_WEBHOOK_TIMEOUT", "10", _positive_float))
    webhook_connect_timeout: float = field(
        metadata=_env("MONITOR_WEBHOOK_CONNECT_TIMEOUT", "3", _positive_float)
    )
    webhook_retry_schedule: tuple[float, ...] = field(
        metadata=_env(
            "MONITOR_WEBHOOK_RETRY_SCHEDULE",
            ",".join(f"{d:g}" for d in DEFAULT_RETRY_SCHEDULE),
            _floats,
        )
    )
    webhook_allow_hosts: tuple[str, ...] = field(
        metadata=_env("MONITOR_WEBHOOK_ALLOW_HOSTS", "", _csv)
    )
    webhook_allow_http: bool = field(metadata=_env("MONITOR_WEBHOOK_ALLOW_HTTP", "false", _bool))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.languages) - set(SUPPORTED_LANGUAGES))
        if unknown:
            raise ConfigError(
                "MONITOR_LANGUAGES",
                f"unsupported {', '.join(unknown)}; supported: {', '.join(SUPPORTED_LANGUAGES)}",
            )
        if not self.languages:
            raise ConfigError("MONITOR_LANGUAGES", "needs at least one language")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build the settings from an environment mapping; unset variables take their defaults."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            meta = f.metadata
            raw = environ.get(meta["env"], meta["default"])
            values[f.name] = meta["parse"](meta["env"], raw)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def defaults(cls) -> Settings:
        """The settings of an empty environment."""
        return cls.from_env({})


ENV: dict[str, str] = {
    f.metadata["env"]: f.metadata["default"] for f in dataclasses.fields(Settings)
}
