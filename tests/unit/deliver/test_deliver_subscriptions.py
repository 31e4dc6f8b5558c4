from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.alert import Alert
from monitor.deliver.signing import Secret
from monitor.deliver.subscriptions import (
    Subscription,
    Subscriptions,
    load_subscriptions,
    parse_subscriptions,
    reload_subscriptions,
)
from monitor.errors import SubscriptionsError
from tests.deliver_support import OTHER_SECRET, SECRET, make_alert

FILES = Path(__file__).parents[2] / "files"
ENV = {"EUROPE_SECRET": SECRET, "EUROPE_SECRET_NEXT": OTHER_SECRET}
ERROR_ENV = {"DESK_SECRET": SECRET, "BAD_SECRET": "whsec_!!not-base64"}


def test_valid_file_loads_with_secrets_resolved() -> None:
    subs = load_subscriptions(FILES / "subscriptions_valid" / "subscriptions.yaml", ENV)
    assert [s.id for s in subs] == ["europe-desk", "local-dev"]
    europe, local = subs.subscribers
    assert europe.secrets == (Secret(SECRET), Secret(OTHER_SECRET))
    assert europe.min_severity == "high" and europe.countries == {"UA", "PL"}
    assert europe.status == {"new"} and europe.languages == {"en", "nl"}
    assert local.secrets == (Secret(SECRET),) and local.allow_http and not local.enabled
    assert local.rules == {"conflict.airstrike"}
    assert subs.enabled() == (europe,)
    assert subs.get("local-dev") is local and subs.get("nobody") is None


def test_secrets_never_in_repr() -> None:
    subs = load_subscriptions(FILES / "subscriptions_valid" / "subscriptions.yaml", ENV)
    text = repr(subs) + str(subs.subscribers[0]) + repr(subs.subscribers[0].secrets)
    assert "MfKQ" not in text and SECRET not in text and OTHER_SECRET[6:] not in text


def _expected(path: Path) -> list[tuple[int, str]]:
    found = re.findall(r"^# expect: (\d+): (.*)$", path.read_text(), flags=re.M)
    return [(int(line), text.strip()) for line, text in found]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.stem)
        for p in sorted((FILES / "subscriptions_with_errors").glob("*.yaml"))
    ],
)
def test_invalid_files_list_every_error_with_its_line(path: Path) -> None:
    expected = _expected(path)
    assert expected, f"{path} lists no '# expect: LINE: text' comments"
    with pytest.raises(SubscriptionsError) as info:
        load_subscriptions(path, ERROR_ENV)
    errors = info.value.errors
    assert len(errors) == len(expected), str(info.value)
    for error, (line, text) in zip(errors, expected, strict=True):
        assert error.path == str(path)
        assert (error.line, text in error.message) == (line, True), str(error)
    assert "MfKQ" not in str(info.value)


def test_http_allowed_globally() -> None:
    text = "subscribers:\n  - {id: a, url: 'http://x.example/', secrets: [{env: S}]}\n"
    with pytest.raises(SubscriptionsError):
        parse_subscriptions(text, "s.yaml", {"S": SECRET})
    assert len(parse_subscriptions(text, "s.yaml", {"S": SECRET}, allow_http=True)) == 1


def test_reload_keeps_the_current_set_when_invalid(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text("subscribers:\n  - {id: a, url: 'https://x.example/', secrets: [{env: S}]}\n")
    current = load_subscriptions(path, {"S": SECRET})
    assert reload_subscriptions(current, path, {"S": SECRET}) == (current, "unchanged")
    path.write_text("subscribers:\n  - {id: a, url: 'https://x.example/'}\n")
    assert reload_subscriptions(current, path, {"S": SECRET}) == (current, "invalid")
    path.write_text("subscribers: []\n")
    fresh, outcome = reload_subscriptions(current, path, {"S": SECRET})
    assert outcome == "reloaded" and fresh == Subscriptions((), str(path))


def _sub(**filters: object) -> Subscription:
    return Subscription(id="s", url="https://x.example/", secrets=(Secret(SECRET),), **filters)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("subscription", "alert", "accepted"),
    [
        pytest.param(_sub(), make_alert(), True, id="no-filters"),
        pytest.param(_sub(enabled=False), make_alert(), False, id="disabled"),
        pytest.param(_sub(rules=frozenset({"x"})), make_alert(), False, id="other-rule"),
        pytest.param(
            _sub(rules=frozenset({"conflict.airstrike"})), make_alert(), True, id="same-rule"
        ),
        pytest.param(_sub(min_severity="high"), make_alert(severity="high"), True, id="sev-eq"),
        pytest.param(_sub(min_severity="high"), make_alert(severity="critical"), True, id="sev-gt"),
        pytest.param(_sub(min_severity="high"), make_alert(severity="medium"), False, id="sev-lt"),
        pytest.param(
            _sub(countries=frozenset({"PL", "UA"})),
            make_alert(countries=("RU", "UA")),
            True,
            id="country-overlap",
        ),
        pytest.param(
            _sub(countries=frozenset({"PL"})), make_alert(countries=("UA",)), False, id="country-no"
        ),
        pytest.param(
            _sub(countries=frozenset({"PL"})), make_alert(countries=()), False, id="no-countries"
        ),
        pytest.param(_sub(languages=frozenset({"nl"})), make_alert(), False, id="language-no"),
        pytest.param(
            _sub(languages=frozenset({"nl", "en"})), make_alert(), True, id="language-yes"
        ),
        pytest.param(
            _sub(status=frozenset({"new"})), make_alert(status="update"), False, id="status-no"
        ),
        pytest.param(
            _sub(status=frozenset({"update"})), make_alert(status="update"), True, id="status-yes"
        ),
    ],
)
def test_accepts(subscription: Subscription, alert: Alert, accepted: bool) -> None:
    assert subscription.accepts(alert) is accepted
