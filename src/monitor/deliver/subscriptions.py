"""Who receives which alerts: the subscriptions file, validated as a whole, swapped when valid.

The file is YAML, checked against ``schemas/subscriptions.schema.json``; every problem is reported
with ``file:line`` (found by walking the composed YAML node tree along the JSON path), all of them
collected and raised once as ``SubscriptionsError``. Secrets are references, ``{env: NAME}`` or
``{file: PATH}`` (relative to the subscriptions file), resolved at load time::

    subscribers:
      - id: europe-desk
        url: https://desk.example/hooks/monitor
        secrets: [{env: EUROPE_DESK_SECRET}]
        filters: {min_severity: high, countries: [UA, PL], status: [new]}
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema
import yaml

from monitor.alert import SEVERITIES, Alert, Severity, Status
from monitor.deliver.signing import Secret
from monitor.errors import SubscriptionError, SubscriptionsError

log = logging.getLogger(__name__)

ReloadOutcome = Literal["reloaded", "unchanged", "invalid"]


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """One desk's endpoint, its secrets and its filters. Empty filters accept everything."""

    id: str
    url: str
    secrets: tuple[Secret, ...] = field(repr=False)
    allow_http: bool = False
    enabled: bool = True
    rules: frozenset[str] = frozenset()
    min_severity: Severity = "low"
    countries: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    status: frozenset[Status] = frozenset(("new", "update"))

    def accepts(self, alert: Alert) -> bool:
        """Whether this subscriber wants ``alert`` (pure: no I/O, no clock)."""
        if not self.enabled:
            return False
        if self.rules and alert.rule_id not in self.rules:
            return False
        if SEVERITIES.index(alert.severity) < SEVERITIES.index(self.min_severity):
            return False
        if self.countries and not any(c.code in self.countries for c in alert.entities.countries):
            return False
        if self.languages and alert.language.code not in self.languages:
            return False
        return alert.status in self.status


@dataclass(frozen=True)
class Subscriptions:
    """An immutable set of subscriptions, as loaded from one file."""

    subscribers: tuple[Subscription, ...] = ()
    source: str = ""

    def __iter__(self) -> Iterator[Subscription]:
        return iter(self.subscribers)

    def __len__(self) -> int:
        return len(self.subscribers)

    def get(self, subscriber_id: str) -> Subscription | None:
        return next((s for s in self.subscribers if s.id == subscriber_id), None)

    def enabled(self) -> tuple[Subscription, ...]:
        return tuple(s for s in self.subscribers if s.enabled)


def _schema() -> dict[str, Any]:
    text = resources.files("monitor").joinpath("schemas/subscriptions.schema.json").read_text()
    return cast(dict[str, Any], json.loads(text))


_VALIDATOR = jsonschema.Draft202012Validator(_schema())


def line_of(root: yaml.Node, path: Sequence[str | int], *, key: bool = False) -> int:
    """The 1-based line of the node at ``path`` (the deepest existing node along it).

    With ``key``, a last step naming a mapping key gives the key's line rather than its value's.
    """
    node = root
    for i, step in enumerate(path):
        if isinstance(node, yaml.MappingNode):
            pair = next(
                (kv for kv in node.value if getattr(kv[0], "value", None) == str(step)), None
            )
            last = i == len(path) - 1
            found = None if pair is None else (pair[0] if key and last else pair[1])
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            found = node.value[step] if 0 <= step < len(node.value) else None
        else:
            found = None
        if found is None:
            break
        node = found
    return int(node.start_mark.line) + 1


def _json_path(path: Sequence[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


class _Collector:
    def __init__(self, source: str, root: yaml.Node) -> None:
        self.source = source
        self.root = root
        self.errors: list[SubscriptionError] = []

    def add(self, path: Sequence[str | int], message: str, *, key: bool = False) -> None:
        line = line_of(self.root, path, key=key)
        self.errors.append(SubscriptionError(self.source, line, f"{_json_path(path)}: {message}"))


def _resolve_secret(
    ref: Mapping[str, str],
    path: list[str | int],
    environ: Mapping[str, str],
    base: Path,
    errors: _Collector,
) -> Secret | None:
    if "env" in ref:
        name = ref["env"]
        raw = environ.get(name, "")
        if not raw:
            errors.add([*path, "env"], f"environment variable {name} is not set")
            return None
        where = f"environment variable {name}"
    else:
        file = base / ref["file"]
        try:
            raw = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.add([*path, "file"], f"cannot read secret file {file}: {exc.__class__.__name__}")
            return None
        where = f"secret file {file}"
    try:
        return Secret(raw)
    except ValueError as exc:
        # The message says what is wrong with the value, never the value itself.
        errors.add(path, f"{where}: {exc}")
        return None


def _subscription(
    item: Mapping[str, Any],
    index: int,
    environ: Mapping[str, str],
    base: Path,
    allow_http: bool,
    errors: _Collector,
) -> Subscription | None:
    here: list[str | int] = ["subscribers", index]
    before = len(errors.errors)
    secrets = [
        _resolve_secret(ref, [*here, "secrets", i], environ, base, errors)
        for i, ref in enumerate(item["secrets"])
    ]
    sub_allow_http = bool(item.get("allow_http", False))
    if item["url"].startswith("http://") and not (sub_allow_http or allow_http):
        errors.add([*here, "url"], "plain http:// needs allow_http: true")
    if len(errors.errors) > before:
        return None
    filters: Mapping[str, Any] = item.get("filters", {})
    return Subscription(
        id=item["id"],
        url=item["url"],
        secrets=tuple(s for s in secrets if s is not None),
        allow_http=sub_allow_http,
        enabled=bool(item.get("enabled", True)),
        rules=frozenset(filters.get("rules", ())),
        min_severity=filters.get("min_severity", "low"),
        countries=frozenset(filters.get("countries", ())),
        languages=frozenset(filters.get("languages", ())),
        status=frozenset(filters.get("status", ("new", "update"))),
    )


def parse_subscriptions(
    text: str,
    source: str,
    environ: Mapping[str, str],
    *,
    base: Path = Path("."),
    allow_http: bool = False,
) -> Subscriptions:
    """Validate and build; raise ``SubscriptionsError`` listing every problem with source:line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise SubscriptionsError(
            [SubscriptionError(source, line, f"invalid YAML: {problem}")]
        ) from exc
    if root is None:
        raise SubscriptionsError([SubscriptionError(source, 1, "empty file")])
    errors = _Collector(source, root)
    invalid: set[int] = set()
    malformed = False
    for err in sorted(
        _VALIDATOR.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            # point at the first unexpected key, not at the start of its mapping
            known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            extras = [k for k in err.instance if k not in known]
            errors.add([*path, *extras[:1]], err.message, key=True)
        else:
            errors.add(path, err.message)
        if len(path) >= 2 and path[0] == "subscribers" and isinstance(path[1], int):
            invalid.add(path[1])
        elif path in ([], ["subscribers"]):
            malformed = True
    if malformed:
        # the document's shape is wrong: looking further into it would only add noise
        raise SubscriptionsError(sorted(errors.errors, key=lambda e: e.line))
    subscribers: list[Subscription] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data["subscribers"]):
        if index in invalid:
            continue
        if item["id"] in seen:
            errors.add(
                ["subscribers", index, "id"],
                f"duplicate id {item['id']!r} (first at line "
                f"{line_of(root, ['subscribers', seen[item['id']], 'id'])})",
            )
            continue
        seen[item["id"]] = index
        sub = _subscription(item, index, environ, base, allow_http, errors)
        if sub is not None:
            subscribers.append(sub)
    if errors.errors:
        raise SubscriptionsError(sorted(errors.errors, key=lambda e: e.line))
    return Subscriptions(tuple(subscribers), source)


def load_subscriptions(
    path: Path, environ: Mapping[str, str], *, allow_http: bool = False
) -> Subscriptions:
    """Load ``path``: secrets from ``environ`` or files beside it. Raises ``SubscriptionsError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubscriptionsError([SubscriptionError(str(path), 0, f"cannot read: {exc}")]) from exc
    return parse_subscriptions(text, str(path), environ, base=path.parent, allow_http=allow_http)


def reload_subscriptions(
    current: Subscriptions, path: Path, environ: Mapping[str, str], *, allow_http: bool = False
) -> tuple[Subscriptions, ReloadOutcome]:
    """Load again; keep ``current`` when the file is invalid. The outcome labels a metric."""
    try:
        fresh = load_subscriptions(path, environ, allow_http=allow_http)
    except SubscriptionsError as exc:
        log.error("subscriptions not reloaded, keeping the current %d: %s", len(current), exc)
        return current, "invalid"
    if fresh == current:
        return current, "unchanged"
    log.info("subscriptions reloaded: %d subscriber(s)", len(fresh))
    return fresh, "reloaded"


def digest(subscriptions: Subscriptions) -> str:
    """A short fingerprint of the ids and urls (no secrets), for logs."""
    text = "\n".join(f"{s.id} {s.url} {s.enabled}" for s in subscriptions)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
