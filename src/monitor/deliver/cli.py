"""The delivery commands of ``monitor``: ``webhooks replay`` and ``receiver`` (the demo desk).

Part of the CLI, so it may read ``os.environ`` (for the subscriptions' secret references).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from typing import Any

from monitor.deliver.receiver import add_arguments as add_receiver_arguments
from monitor.deliver.receiver import run as run_receiver
from monitor.deliver.replay import REPLAY_DEADLINE, REPLAY_RETRY_SCHEDULE, replay
from monitor.deliver.subscriptions import load_subscriptions
from monitor.errors import ConfigError, SubscriptionsError
from monitor.settings import Settings


def _since(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {raw!r}") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _schedule(raw: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not comma-separated seconds: {raw!r}") from exc
    if not all(delay > 0 for delay in delays):
        raise argparse.ArgumentTypeError(f"every delay must be positive: {raw!r}")
    return delays


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {raw!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {raw!r}")
    return value


def add_commands(sub: Any) -> None:
    """Add ``webhooks replay`` and ``receiver`` to the ``monitor`` subparsers."""
    webhooks = sub.add_parser("webhooks", help="webhook delivery tools")
    webhooks_sub = webhooks.add_subparsers(metavar="ACTION")
    replay_cmd = webhooks_sub.add_parser(
        "replay", help="re-deliver a subscriber's dead letters (same webhook-id)"
    )
    replay_cmd.add_argument("--subscriber", required=True, help="subscriber id")
    replay_cmd.add_argument("--since", type=_since, help="ISO 8601; default: all dead letters")
    replay_cmd.add_argument(
        "--retry-schedule",
        type=_schedule,
        default=REPLAY_RETRY_SCHEDULE,
        help="seconds between a letter's attempts, comma-separated; default: "
        + ",".join(f"{d:g}" for d in REPLAY_RETRY_SCHEDULE),
    )
    replay_cmd.add_argument(
        "--deadline",
        type=_seconds,
        default=REPLAY_DEADLINE,
        help=f"give up what is not delivered after this many seconds; default: {REPLAY_DEADLINE:g}"
        " (what fails stays in the dead-letter topic, listed; exit code 1)",
    )
    replay_cmd.set_defaults(func=_cmd_replay)

    receiver = sub.add_parser(
        "receiver", help="a local webhook receiver that verifies and prints alerts (demo)"
    )
    add_receiver_arguments(receiver)
    receiver.set_defaults(func=_cmd_receiver)


def _cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    if settings.subscriptions_path is None:
        raise ConfigError("MONITOR_SUBSCRIPTIONS", "is not set: no subscriptions file to replay to")
    try:
        subscriptions = load_subscriptions(
            settings.subscriptions_path, os.environ, allow_http=settings.webhook_allow_http
        )
    except SubscriptionsError as exc:
        for error in exc.errors:
            sys.stderr.write(f"{error}\n")
        sys.stderr.write(f"monitor: {len(exc.errors)} error(s) in the subscriptions\n")
        return 1
    report = asyncio.run(
        replay(
            settings,
            subscriptions,
            args.subscriber,
            args.since,
            schedule=args.retry_schedule,
            deadline=args.deadline,
        )
    )
    sys.stdout.write(report.summary() + "\n")
    return 0 if report.ok else 1


def _cmd_receiver(args: argparse.Namespace, settings: Settings) -> int:
    return run_receiver(args)
