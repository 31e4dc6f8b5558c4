"""What the running worker holds beside the Faust app: the active pipeline, metrics, readiness.

Rules are reloaded when the rules folder changes (polled) or on SIGHUP. A new rule set replaces
the active one only when it is valid as a whole; otherwise every error is logged, counted, and the
working set stays.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from pathlib import Path
from typing import Any

import faust
import mode
from prometheus_client import CollectorRegistry

from monitor.deliver.dispatcher import Dispatcher
from monitor.deliver.subscriptions import Subscriptions
from monitor.errors import RuleSetError
from monitor.health import Readiness
from monitor.metrics import Metrics, consumer_lag, install_faust_sensors
from monitor.pipeline import Pipeline
from monitor.ruleset import load_ruleset
from monitor.settings import Settings

log = logging.getLogger(__name__)


def rules_fingerprint(path: Path) -> str:
    """Changes whenever a rule file is added, removed or modified."""
    files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for f in files:
        try:
            stat = f.stat()
        except FileNotFoundError:
            continue
        digest.update(f"{f}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()


class Runtime:
    """The worker's mutable state: one place, swapped atomically, never shared across workers."""

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        *,
        registry: CollectorRegistry | None = None,
        subscriptions: Subscriptions | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.readiness = Readiness()
        self._fingerprint = rules_fingerprint(settings.rules_path)
        self._reloading = asyncio.Lock()
        self._signalled: set[asyncio.Task[bool]] = set()
        self.metrics.rules_loaded(r.id for r in pipeline.ruleset.rules)
        self.readiness.rules_loaded(True)
        self.dispatcher = (
            Dispatcher(settings, subscriptions, observer=self.metrics)
            if subscriptions is not None
            else None
        )

    async def reload_rules(self) -> bool:
        """Load the rules folder again; swap it in only if it is valid as a whole.

        The load (seconds for a large set) runs in a thread: the event loop that heartbeats to
        Kafka, serves ``/metrics`` and runs the agents is never held up by it. The swap itself
        happens on the loop, so an article is matched against one rule set or the other.
        """
        async with self._reloading:
            return await self._reload()

    async def _reload(self) -> bool:
        self._fingerprint = rules_fingerprint(self.settings.rules_path)
        try:
            ruleset = await asyncio.to_thread(load_ruleset, self.settings.rules_path)
        except RuleSetError as exc:
            for error in exc.errors:
                log.error("rule reload rejected: %s", error, extra={"path": error.path})
            log.error(
                "rule reload rejected: %d error(s); keeping the %d active rules",
                len(exc.errors),
                len(self.pipeline.ruleset.rules),
            )
            self.metrics.rule_reload("invalid")
            return False
        self.pipeline = self.pipeline.with_rules(ruleset)
        self.metrics.rule_reload("ok")
        self.metrics.rules_loaded(r.id for r in ruleset.rules)
        log.info("rules reloaded: %d active", len(ruleset.rules))
        return True

    def attach(self, app: faust.App) -> None:
        """Timers, signal handlers and rebalance hooks of a running worker."""
        install_faust_sensors(app, self.registry)

        async def poll_rules() -> None:
            if rules_fingerprint(self.settings.rules_path) != self._fingerprint:
                await self.reload_rules()

        async def measure_lag() -> None:
            # A crashed timer stops the whole app: a gauge that cannot be read now is not worth it.
            try:
                await self._measure_lag(app)
            except Exception:
                log.warning("consumer lag not measured", exc_info=True)

        async def on_started() -> None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._reload_on_signal)
            self.readiness.producer_connected(True)

        app.timer(interval=self.settings.rules_poll_interval)(poll_rules)
        app.timer(interval=5.0)(measure_lag)
        app.task(on_started)

        def assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            self.readiness.partitions_assigned(len(args[0]) if args else 0)

        def revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            self.readiness.partitions_assigned(0)

        app.on_partitions_assigned.connect(assigned)
        app.on_partitions_revoked.connect(revoked)

        app.service(_lifecycle_service(self.readiness))
        if self.dispatcher is not None:
            app.service(_delivery_service(self.dispatcher))

    def _reload_on_signal(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload_rules())
        self._signalled.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._signalled.discard)

    async def _measure_lag(self, app: faust.App) -> None:
        consumer = app.consumer
        topic = self.settings.topic_articles
        assignment = [tp for tp in consumer.assignment() if tp.topic == topic]
        if not assignment:
            self.metrics.set_consumer_lag({})
            return
        # Lag behind the fetch position (public API); the committed offset trails it by at most
        # the commit interval's worth of processed events.
        highwaters = {(tp.topic, tp.partition): consumer.highwater(tp) for tp in assignment}
        positions = {(tp.topic, tp.partition): await consumer.position(tp) for tp in assignment}
        self.metrics.set_consumer_lag(consumer_lag(highwaters, positions))


def _lifecycle_service(readiness: Readiness) -> type[mode.Service]:
    """Marks the worker not ready as soon as it starts stopping, so traffic drains away."""

    class Lifecycle(mode.Service):
        async def on_stop(self) -> None:
            readiness.stopping()

    return Lifecycle


def _delivery_service(dispatcher: Dispatcher) -> type[mode.Service]:
    """Webhook delivery as a service of the app: it starts with the worker and drains with it."""

    class Delivery(mode.Service):
        async def on_start(self) -> None:
            await dispatcher.start()

        async def on_stop(self) -> None:
            await dispatcher.stop()

    return Delivery
