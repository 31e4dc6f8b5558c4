"""A minimal faust app run as a worker by test_kafka_compat.py: one agent, one table.

Configured from the environment (the test sets it): KAFKA_BOOTSTRAP_SERVERS, COMPAT_APP_ID,
COMPAT_TOPIC. Prints ``PROCESSED <n>`` for every message so the test can follow it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import faust

app = faust.App(
    os.environ["COMPAT_APP_ID"],
    broker=f"kafka://{os.environ['KAFKA_BOOTSTRAP_SERVERS']}",
    store="memory://",
    topic_partitions=2,
    web_enabled=False,
)
source = app.topic(os.environ["COMPAT_TOPIC"], value_serializer="raw", partitions=2)
counts = app.Table("counts", default=int, partitions=2)


@app.agent(source)
async def count(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    async for _value in stream:
        counts["seen"] += 1
        print(f"PROCESSED {counts['seen']}", flush=True)
        yield None


if __name__ == "__main__":
    app.main()
