"""Faust's aiokafka transport with an idempotent, acks=all producer.

Faust turns idempotence on only in exactly-once mode; at-least-once delivery of alerts still wants
a producer whose retries cannot duplicate or reorder a partition. Registered through faust's own
extension point (the ``faust.transports`` entry-point namespace, see pyproject.toml) as the URL
scheme ``kafka-idempotent://``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from faust.transport.drivers import aiokafka as driver

SCHEME = "kafka-idempotent"


class Producer(driver.Producer):
    def _settings_extra(self) -> Mapping[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class Transport(driver.Transport):
    Producer: ClassVar[type[driver.Producer]] = Producer


def broker_url(bootstrap_servers: str) -> str:
    """``host1:9092,host2:9092`` -> faust's broker URL list with our scheme."""
    hosts = [h.strip() for h in bootstrap_servers.split(",") if h.strip()]
    return ";".join(f"{SCHEME}://{h}" for h in hosts)
