"""The ``monitor`` command. The only module that reads ``os.environ`` (through ``Settings``).

monitor worker                      run the stream processor (Faust worker)
monitor match [FILE|-]              offline: articles in, one JSON alert per line out
monitor produce FILE...             send articles (JSON lines or text files) to Kafka
monitor rules check|test [PATH]     validate rules / run their embedded examples
monitor webhooks replay ...         re-drive webhook dead letters
monitor receiver                    a local webhook receiver that prints alerts (demo)
monitor schema article|alert        print a wire format's JSON Schema
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import msgspec

from monitor import __version__
from monitor.alert import Alert, encode_alert
from monitor.article import Article, article_from_file, is_json_lines, parse_article
from monitor.errors import (
    ConfigError,
    InvalidArticle,
    MonitorError,
    RuleSetError,
    SubscriptionsError,
)
from monitor.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        settings = Settings.from_env(os.environ)
        code: int = args.func(args, settings)
    except (RuleSetError, SubscriptionsError) as exc:
        for error in exc.errors:
            sys.stderr.write(f"{error}\n")
        what = "rules" if isinstance(exc, RuleSetError) else "subscriptions"
        sys.stderr.write(f"monitor: {len(exc.errors)} error(s) in the {what}\n")
        return 1
    except (ConfigError, MonitorError) as exc:
        sys.stderr.write(f"monitor: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND")

    worker = sub.add_parser("worker", help="run the stream processor")
    worker.set_defaults(func=_cmd_worker)

    match = sub.add_parser("match", help="match articles offline and print alerts")
    match.add_argument("file", nargs="?", default="-", help="JSON-lines articles or a text file")
    match.add_argument("--rules", type=Path, help="rules folder or file (default: MONITOR_RULES)")
    match.add_argument(
        "--explain",
        metavar="RULE_ID",
        help="print why this rule fires or not (its hits, sentences, the lead) instead of alerts",
    )
    match.set_defaults(func=_cmd_match)

    produce = sub.add_parser("produce", help="send articles to the articles topic")
    produce.add_argument("files", nargs="+", type=Path)
    produce.add_argument("--topic", help="default: MONITOR_TOPIC_ARTICLES")
    produce.add_argument(
        "--raw", action="store_true", help="send each line as it is, unparsed (tests, replays)"
    )
    produce.set_defaults(func=_cmd_produce)

    schema = sub.add_parser("schema", help="print the JSON Schema of a wire format")
    schema.add_argument("which", choices=["article", "alert"])
    schema.set_defaults(func=_cmd_schema)

    from monitor.cli_rules import add_commands as add_rule_commands
    from monitor.deliver.cli import add_commands as add_delivery_commands

    add_rule_commands(sub)
    add_delivery_commands(sub)
    return parser


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.worker import run_worker

    return run_worker(settings, os.environ)


def _cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline import Pipeline

    pipeline = Pipeline.from_paths(args.rules or settings.rules_path, languages=settings.languages)
    if args.explain and pipeline.ruleset.get(args.explain) is None:
        raise ConfigError("--explain", f"no rule {args.explain!r} in {pipeline.ruleset.source}")
    now = datetime.now(UTC)
    out = sys.stdout.buffer
    failed = 0
    for article in _read_articles(args.file, settings):
        if isinstance(article, InvalidArticle):
            sys.stderr.write(f"monitor: skipped invalid article: {article}\n")
            failed += 1
            continue
        if args.explain:
            explanation = pipeline.explain(article, args.explain)
            out.write(f"{article.id}: {explanation.render()}\n".encode())
            continue
        for alert in pipeline.process(article, now):
            out.write(encode_alert(alert) + b"\n")
    out.flush()
    return 1 if failed else 0


def _read_articles(name: str, settings: Settings) -> Iterator[Article | InvalidArticle]:
    """JSON lines when the input starts with ``{``; otherwise the whole input is one article."""
    if name == "-":
        data = sys.stdin.buffer.read()
        stem = "stdin"
    else:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError("FILE", f"cannot read {name}: {exc.strerror}") from exc
        stem = path.stem
    if is_json_lines(data):
        for line in data.splitlines():
            if line.strip():
                try:
                    yield parse_article(line, max_bytes=settings.max_article_bytes)
                except InvalidArticle as exc:
                    yield exc
        return
    yield article_from_file(data, stem)


def _cmd_produce(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.producer import produce_files

    topic = args.topic or settings.topic_articles
    sent = asyncio.run(produce_files(settings, topic, args.files, raw=args.raw))
    sys.stderr.write(f"monitor: sent {sent} message(s) to {topic}\n")
    return 0


def _cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    struct = Article if args.which == "article" else Alert
    _write_json(sys.stdout, msgspec.json.schema(struct))
    return 0


def _write_json(stream: TextIO, value: object) -> None:
    stream.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
