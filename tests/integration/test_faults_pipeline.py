"""A bug in either stage costs one article or one match, kept on the dead-letter topic, not the
stream.

The faults are injected into a real ``monitor worker`` process from outside the product: a
``sitecustomize`` module on the worker's ``PYTHONPATH`` makes ``Pipeline.findings`` (the
articles stage) raise for articles whose id starts with ``boom-``, and the story stage's
``_finalise`` raise for matches of articles whose id starts with ``late-boom-``. Nothing in
``src/`` knows about it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.article import parse_article
from monitor.pipeline import Pipeline
from monitor.producer import produce_files
from monitor.settings import Settings
from tests.worker_support import REPO, Record, Topics, WorkerProcess, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]

INJECTOR = """
import monitor.pipeline as _pipeline

_findings = _pipeline.Pipeline.findings


def findings(self, article, now):
    if article.id.startswith("boom-"):
        raise RuntimeError(f"injected fault for {article.id}")
    return _findings(self, article, now)


_pipeline.Pipeline.findings = findings

import monitor.app as _app

_finalise = _app._finalise


def finalise(runtime, draft, decision):
    if draft.article_id.startswith("late-boom-"):
        raise RuntimeError(f"injected story fault for {draft.article_id}")
    return _finalise(runtime, draft, decision)


_app._finalise = finalise
"""


async def test_an_article_or_match_a_stage_raises_on_is_dead_lettered_and_the_stream_goes_on(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """The article the pipeline raised on lands on ``articles.dlq`` with reason
    ``processing_failed`` and the exception in its detail, and so does each match the story stage
    raised on, named by its source topic (the matches topic) and kept as it was; the articles
    around them still become alerts, those after them too, the worker stays up, and
    ``/metrics`` counts the dead letters under that reason."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(INJECTOR)
    sample = json.loads((REPO / "examples" / "articles.jsonl").read_text().splitlines()[1])
    ids = ["good-1", "boom-1", "late-boom-1", "good-2"]
    # the matches of late-boom-1 that reach the story stage, each dead-lettered there
    pipeline = Pipeline.from_paths(REPO / "rules")
    findings = len(pipeline.findings(parse_article(json.dumps(sample).encode()), datetime.now(UTC)))
    assert findings >= 1, "precondition: the sample article matches a rule"
    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        "".join(json.dumps({**sample, "id": i, "source": f"wire-{i}"}) + "\n" for i in ids)
    )
    topics = Topics(unique_name)
    worker = WorkerProcess(
        kafka_bootstrap, topics, tmp_path / "worker.log", extra_env={"PYTHONPATH": str(inject)}
    )
    with worker:
        await worker.wait_ready()
        settings = dataclasses.replace(
            Settings.from_env(worker.environ()), kafka_bootstrap_servers=kafka_bootstrap
        )
        await produce_files(settings, topics.articles, [articles], raw=False)

        def both_good(records: list[Record]) -> bool:
            return {"good-1", "good-2"} <= {json.loads(r.value)["article_id"] for r in records}

        alerts = await read_topic(kafka_bootstrap, topics.alerts, until=both_good, within=90)
        fired = {json.loads(r.value)["article_id"] for r in alerts}
        assert {"good-1", "good-2"} <= fired, f"the stream stopped: {fired}\n{worker.tail()}"
        assert "boom-1" not in fired

        assert "late-boom-1" not in fired

        dead = await read_topic(kafka_bootstrap, topics.dlq, count=1 + findings, within=60)
        article = [r for r in dead if r.key == b"boom-1"]
        assert len(article) == 1, worker.tail()
        headers = article[0].headers
        assert headers["monitor-error-reason"] == b"processing_failed"
        assert b"RuntimeError: injected fault for boom-1" in headers["monitor-error-detail"]
        assert headers["monitor-source-topic"] == topics.articles.encode()
        assert json.loads(article[0].value)["id"] == "boom-1", "the article is kept as it came"

        matches = [r for r in dead if r.key != b"boom-1"]
        assert len(matches) == findings, f"{dead}\n{worker.tail()}"
        matches_topic = f"{topics.environ()['MONITOR_APP_ID']}-matches".encode()
        for record in matches:
            assert record.headers["monitor-error-reason"] == b"processing_failed"
            assert b"injected story fault for late-boom-1" in record.headers["monitor-error-detail"]
            assert record.headers["monitor-source-topic"] == matches_topic
            assert json.loads(record.value)["alert"]["article_id"] == "late-boom-1"
        dead_letters = 1 + findings

        status, body = worker.get("/metrics")
        assert status == 200
        line = (
            f'monitor_articles_dead_lettered_total{{reason="processing_failed"}} {dead_letters}.0'
        )
        assert line in body.splitlines(), body
        assert worker.get("/healthz")[0] == 200
        assert worker.terminate(within=60) == 0, worker.tail()
