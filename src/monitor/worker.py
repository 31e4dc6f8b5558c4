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

from monitor.app import build_app, matches_topic
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
    # The repartition topic too: left to faust, it is created while the consumer joins its group,
    # the assignor may not see it yet ("Ignoring missing topic") and the story stage then gets no
    # partitions until the next metadata refresh (minutes): articles are consumed, no alert comes.
    plan = {**topic_plan(settings), matches_topic(settings): settings.topic_partitions}
    asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap_servers,
            plan,
            settings.topic_replication,
            configs=topic_configs(settings),
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
