"""``monitor produce``: put articles on the articles topic (demos, replays, tests).

JSON-lines files are sent line by line (validated unless ``raw``); any other file is one article.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from monitor.article import article_from_file, encode_article, is_json_lines, parse_article
from monitor.errors import InvalidArticle, PublishError
from monitor.settings import Settings
from monitor.topics import record_limit


def messages(files: Iterable[Path], *, raw: bool, max_bytes: int) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) pairs, in file order. Raises ``InvalidArticle`` naming file and line."""
    for path in files:
        data = path.read_bytes()
        if path.suffix in (".jsonl", ".ndjson") or is_json_lines(data):
            for number, line in enumerate(data.splitlines(), start=1):
                if not line.strip():
                    continue
                if raw:
                    yield hashlib.sha256(line).hexdigest()[:16].encode(), line
                    continue
                try:
                    article = parse_article(line, max_bytes=max_bytes)
                except InvalidArticle as exc:
                    raise InvalidArticle(exc.reason, f"{path}:{number}: {exc.detail}") from exc
                yield article.id.encode(), line
        else:
            article = article_from_file(data, path.stem)
            yield article.id.encode(), encode_article(article)


async def produce_files(settings: Settings, topic: str, files: Iterable[Path], *, raw: bool) -> int:
    """Send every message and wait until the broker acknowledged all of them.

    A message larger than the topics take (``record_limit``, or a lower ``max.message.bytes`` on
    an existing topic) raises ``PublishError`` naming its size; it is never dropped quietly.
    """
    limit = record_limit(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        # Refused here, before sending, if over the limit monitor creates its topics with.
        max_request_size=limit,
    )
    pending: list[tuple[int, Any]] = []
    size = 0
    try:
        await producer.start()
        for key, value in messages(files, raw=raw, max_bytes=settings.max_article_bytes):
            size = len(value)
            pending.append((size, await producer.send(topic, value=value, key=key)))
        for sent_size, future in pending:
            size = sent_size  # names the message if the broker refuses it
            await future
    except MessageSizeTooLargeError as exc:
        raise PublishError(
            f"producing to {topic}: a message of {size} bytes is larger than the topic accepts "
            f"(monitor's record limit is {limit} bytes; an existing topic's max.message.bytes "
            "may be lower)",
            retriable=False,
        ) from exc
    except KafkaError as exc:
        raise PublishError(f"producing to {topic}: {exc}", retriable=exc.retriable) from exc
    finally:
        await producer.stop()
    return len(pending)
