"""Stories end to end on real parts: articles through Kafka, the real worker, alerts read back.

What the story stage decides (``monitor.story``) is unit-tested as pure functions; these tests
prove that the worker wires it right: matches of one story meet in one partition, the story
table is read and written per event, and the table survives a restart through its changelog.

The articles are short reports written for these tests (an English and a Dutch one of the same
dismissal of a government; they share the location and the people, not the text).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.producer import produce_files
from monitor.settings import Settings
from tests.worker_support import Record, Topics, WorkerProcess, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

RULE = "government_dismissal"


def _article(article_id: str, source: str, language: str, title: str, text: str) -> dict[str, str]:
    return {
        "id": article_id,
        "url": f"https://example.test/{source}/{article_id}",
        "source": source,
        "published_at": "2026-03-02T09:00:00Z",
        "language": language,
        "title": title,
        "text": text,
    }


def _moldova_en(article_id: str) -> dict[str, str]:
    return _article(
        article_id,
        "wire-en",
        "en",
        "Moldovan president dismisses the government after fuel protests",
        "President Maia Sandu dismissed the government of Moldova on Monday after a week of "
        "protests over fuel prices in Chisinau. Prime Minister Dorin Recean and his cabinet will "
        "stay on until a new government is formed, the presidency said.",
    )


def _moldova_nl(article_id: str) -> dict[str, str]:
    return _article(
        article_id,
        "krant-nl",
        "nl",
        "Moldavische president stuurt regering naar huis",
        "In Moldavië heeft president Maia Sandu maandag de regering ontslagen na een week van "
        "protesten tegen de hoge brandstofprijzen. Premier Dorin Recean blijft met zijn kabinet "
        "aan tot er een nieuwe regering is, meldt het presidentiële bureau in Chisinau.",
    )


def _peru_en(article_id: str) -> dict[str, str]:
    return _article(
        article_id,
        "wire-en",
        "en",
        "Peru's president sacks the cabinet",
        "President Ana Quispe of Peru dismissed the cabinet on Friday after a corruption "
        "inquiry reached Prime Minister Luis Huaman, officials in Lima said.",
    )


async def _produce(worker: WorkerProcess, tmp_path: Path, *articles: dict[str, str]) -> None:
    path = tmp_path / f"batch-{uuid.uuid4().hex[:8]}.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
    settings = dataclasses.replace(
        Settings.from_env(worker.environ()), kafka_bootstrap_servers=worker.bootstrap
    )
    assert await produce_files(settings, worker.topics.articles, [path], raw=False) == len(articles)


async def _alerts_for(
    worker: WorkerProcess, article_ids: set[str], *, count: int, settle: float = 0.0
) -> list[dict[str, Any]]:
    """The alerts of ``article_ids``, once ``count`` of them arrived (within 90 s).

    Other tests' articles may share the topic, hence the filter; ``settle`` s more then show
    any alert that should not have come.
    """

    def ours(records: list[Record]) -> list[dict[str, Any]]:
        alerts = (json.loads(r.value or b"null") for r in records)
        return [a for a in alerts if a["article_id"] in article_ids]

    records = await read_topic(
        worker.bootstrap,
        worker.topics.alerts,
        within=90,
        settle=settle,
        until=lambda records: len(ours(records)) >= count,
    )
    found = ours(records)
    if len(found) < count:
        raise AssertionError(f"{len(found)} of {count} alerts for {article_ids}:\n{worker.tail()}")
    return found


@pytest.fixture(scope="module")
def story_worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """One worker shared by the tests that need no restart (each uses its own articles)."""
    topics = Topics(f"t.stories.{uuid.uuid4().hex[:8]}")
    log = tmp_path_factory.mktemp("stories") / "worker.log"
    with WorkerProcess(kafka_bootstrap, topics, log) as worker:
        worker.wait_until_ready()
        yield worker
        assert worker.terminate(within=60) == 0, worker.tail()


async def test_two_sources_of_one_event_are_one_story(
    story_worker: WorkerProcess, tmp_path: Path
) -> None:
    """An English and a Dutch report of one dismissal (same country, same people, other words)
    give a ``new`` alert and an ``update`` of the same story, counting two sources."""
    first, second = _moldova_en("st-a-en"), _moldova_nl("st-a-nl")
    await _produce(story_worker, tmp_path, first)
    (opened,) = await _alerts_for(story_worker, {first["id"]}, count=1)
    await _produce(story_worker, tmp_path, second)
    alerts = await _alerts_for(story_worker, {first["id"], second["id"]}, count=2, settle=2.0)

    by_article = {a["article_id"]: a for a in alerts}
    assert len(alerts) == 2, alerts
    assert {a["rule_id"] for a in alerts} == {RULE}
    assert by_article[first["id"]] == opened
    assert (opened["status"], opened["story_sources"]) == ("new", 1)
    update = by_article[second["id"]]
    assert (update["status"], update["story_sources"]) == ("update", 2)
    assert update["story_id"] == opened["story_id"]


async def test_the_same_article_twice_is_one_alert(
    story_worker: WorkerProcess, tmp_path: Path
) -> None:
    """An article sent twice (same id), and again under a new id from the same source (a
    re-publication), yields exactly one alert: the story stage calls both duplicates."""
    article = _peru_en("st-b-en")
    republished = {**article, "id": "st-b-en-again"}
    await _produce(story_worker, tmp_path, article, article)
    await _alerts_for(story_worker, {article["id"]}, count=1)
    await _produce(story_worker, tmp_path, republished)
    # The settle covers the processing time of the later sends (a new match takes well under 1 s).
    alerts = await _alerts_for(
        story_worker, {article["id"], republished["id"]}, count=1, settle=5.0
    )
    assert [(a["article_id"], a["status"]) for a in alerts] == [(article["id"], "new")]


async def test_story_survives_a_worker_restart(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """The worker is SIGTERMed between two reports of one story and a new worker (same app id,
    same topics, in-memory store) takes over: the second report is still an ``update`` of the
    same story, so the story table came back from its changelog topic. The first report gives
    no second alert (its offset was committed before the worker stopped)."""
    topics = Topics(unique_name)
    first, second = _moldova_en("st-c-en"), _moldova_nl("st-c-nl")
    with WorkerProcess(kafka_bootstrap, topics, tmp_path / "worker1.log") as worker:
        await worker.wait_ready()
        await _produce(worker, tmp_path, first)
        (opened,) = await _alerts_for(worker, {first["id"]}, count=1)
        assert worker.terminate(within=60) == 0, worker.tail()
    # a stage that crashed on the story table's write (once: PartitionsMismatch on a changelog
    # faust had created while joining) lost the story, though its alert went out
    assert "Crashed" not in (tmp_path / "worker1.log").read_text(), worker.tail()

    with WorkerProcess(kafka_bootstrap, topics, tmp_path / "worker2.log") as worker:
        await worker.wait_ready()
        await _produce(worker, tmp_path, second)
        alerts = await _alerts_for(worker, {first["id"], second["id"]}, count=2, settle=2.0)
        assert worker.terminate(within=60) == 0, worker.tail()

    assert [a["article_id"] for a in alerts] == [first["id"], second["id"]], alerts
    update = alerts[1]
    assert (opened["status"], update["status"]) == ("new", "update")
    assert update["story_id"] == opened["story_id"]
    assert update["story_sources"] == 2
