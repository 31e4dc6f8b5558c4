"""Readiness reasons and the /healthz, /readyz answers."""

from __future__ import annotations

import json

import pytest

from monitor.health import Readiness, healthz, readyz


def ready_readiness() -> Readiness:
    readiness = Readiness()
    readiness.partitions_assigned(2)
    readiness.rules_loaded(True)
    readiness.producer_connected(True)
    return readiness


def test_new_readiness_lists_every_reason() -> None:
    ready, reasons = Readiness().ready()
    assert not ready
    assert reasons == [
        "consumer has no partitions assigned",
        "rules not loaded",
        "producer not connected",
    ]


def test_ready_when_everything_holds() -> None:
    assert ready_readiness().ready() == (True, [])


@pytest.mark.parametrize(
    ("undo", "reason"),
    [
        pytest.param(
            lambda r: r.partitions_assigned(0), "consumer has no partitions", id="revoked"
        ),
        pytest.param(lambda r: r.rules_loaded(False), "rules not loaded", id="rules"),
        pytest.param(
            lambda r: r.producer_connected(False), "producer not connected", id="producer"
        ),
        pytest.param(lambda r: r.stopping(), "shutting down", id="stopping"),
    ],
)
def test_one_missing_condition(undo: object, reason: str) -> None:
    readiness = ready_readiness()
    undo(readiness)  # type: ignore[operator]
    ready, reasons = readiness.ready()
    assert not ready
    assert len(reasons) == 1
    assert reasons[0].startswith(reason)


def test_healthz_always_ok() -> None:
    assert healthz() == (200, {"status": "ok"})


def test_readyz_503_with_reasons_as_json() -> None:
    readiness = ready_readiness()
    readiness.producer_connected(False)
    status, body = readyz(readiness)
    assert status == 503
    assert json.loads(json.dumps(body)) == {"ready": False, "reasons": ["producer not connected"]}


def test_readyz_200() -> None:
    assert readyz(ready_readiness()) == (200, {"ready": True, "reasons": []})


def test_repr() -> None:
    assert "ready=False" in repr(Readiness())
