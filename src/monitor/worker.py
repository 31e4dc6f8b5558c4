"""``monitor worker``: check everything that can be checked, then run the Faust worker.

Startup fails fast, with one clear line and a non-zero exit code: invalid rules (every error
listed), a bad setting, topics with mismatched partition counts. SIGTERM/SIGINT stop the worker
gracefully: in-flight events finish, offsets of finished work are committed, exit code 0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import faust

from monitor.app import build_app, matches_topic, stories_changelog
from monitor.deliver.subscriptions import Subscriptions, load_subscriptions
from monitor.logs import configure_logging
from monitor.metrics import configure_exposition
from monitor.pipeline import Pipeline
from monitor.runtime import Runtime
from monitor.settings import Settings
from monitor.topics import ensure_topics, topic_configs, topic_plan

log = logging.getLogger(__name__)


def run_worker(settings: Settings, environ: Mapping[str, str]) -> int:
    """Run until stopped by a signal. Raises ``MonitorError`` subclasses on startup problems.

    ``environ`` resolves the secrets that the subscriptions file references by name.
    """
    configure_logging(settings.log_level, settings.log_format)
    configure_exposition()
    pipeline = Pipeline.from_paths(settings.rules_path, languages=settings.languages)
    log.info("rules loaded: %d", len(pipeline.ruleset.rules))
    subscriptions: Subscriptions | None = None
    if settings.subscriptions_path is not None:
        subscriptions = load_subscriptions(
            settings.subscriptions_path, environ, allow_http=settings.webhook_allow_http
        )
        log.info("subscriptions loaded: %d", len(subscriptions))
    plan, configs = startup_topics(settings)
    asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap_servers,
            plan,
            settings.topic_replication,
            configs=configs,
        )
    )
    runtime = Runtime(settings, pipeline, subscriptions=subscriptions)
    app = build_app(settings, runtime)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    worker = faust.Worker(
        app,
        loop=loop,
        loglevel=settings.log_level,
        redirect_stdouts=False,
        override_logging=False,
    )
    worker.execute_from_commandline()  # exits the process via SystemExit
    return 0


def startup_topics(settings: Settings) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """The topics the worker creates before faust starts (name -> partitions), and the configs
    of those it creates.

    Ours, and the two internal topics the story stage needs from its first event. Left to faust,
    the repartition topic and the story table's changelog are created while the consumer joins
    its group, and the assignor may not see them yet ("Ignoring missing topic"): the story stage
    then gets no partitions until the next metadata refresh (minutes), or the table's first
    write fails (PartitionsMismatch: the changelog has no partitions yet), and the story it
    decided is missing from the changelog when the worker restarts.
    """
    changelog = stories_changelog(settings)
    internal = (matches_topic(settings), changelog)
    plan = {**topic_plan(settings), **dict.fromkeys(internal, settings.topic_partitions)}
    # compacted, as faust creates a table's changelog: the latest book per story key is the state
    configs = {**topic_configs(settings), changelog: {"cleanup.policy": "compact"}}
    return plan, configs
