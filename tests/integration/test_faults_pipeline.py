"""A bug in the pipeline costs one article, kept on the dead-letter topic, not the stream.

The fault is injected into a real ``monitor worker`` process from outside the product: a
``sitecustomize`` module on the worker's ``PYTHONPATH`` makes ``Pipeline.findings`` raise for
articles whose id starts with ``boom-``. Nothing in ``src/`` knows about it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

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
"""


async def test_an_article_the_pipeline_raises_on_is_dead_lettered_and_the_stream_goes_on(
    kafka_bootstrap: str, tmp_path: Path, unique_name: str
) -> None:
    """The article the pipeline raised on lands on ``articles.dlq`` with reason
    ``processing_failed`` and the exception in its detail; the articles around it still become
    alerts, the worker stays up, and ``/metrics`` counts the dead letter under that reason."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(INJECTOR)
    sample = json.loads((REPO / "examples" / "articles.jsonl").read_text().splitlines()[1])
    ids = ["good-1", "boom-1", "good-2"]
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

        dead = await read_topic(kafka_bootstrap, topics.dlq, count=1, within=60)
        assert [r.key for r in dead] == [b"boom-1"], worker.tail()
        headers = dead[0].headers
        assert headers["monitor-error-reason"] == b"processing_failed"
        assert b"RuntimeError: injected fault for boom-1" in headers["monitor-error-detail"]
        assert json.loads(dead[0].value)["id"] == "boom-1", "the article is kept as it came"

        status, body = worker.get("/metrics")
        assert status == 200
        line = 'monitor_articles_dead_lettered_total{reason="processing_failed"} 1.0'
        assert line in body.splitlines(), body
        assert worker.get("/healthz")[0] == 200
        assert worker.terminate(within=60) == 0, worker.tail()
