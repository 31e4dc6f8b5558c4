from __future__ import annotations

import pytest

from monitor.deliver.signing import Secret, sign, signed_headers, verify
from monitor.errors import SignatureError
from tests.deliver_support import OTHER_SECRET, SECRET, spec_signatures, spec_verify

# The Standard Webhooks specification's published test vector.
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sign_reproduces_the_spec_vector() -> None:
    assert sign(VECTOR_ID, VECTOR_TS, VECTOR_BODY, [Secret(SECRET)]) == VECTOR_SIGNATURE


def test_independent_implementation_agrees_with_the_vector() -> None:
    assert spec_signatures(SECRET, VECTOR_ID, str(VECTOR_TS), VECTOR_BODY) == VECTOR_SIGNATURE


def test_rotation_sends_one_signature_per_secret_each_verifiable() -> None:
    headers = signed_headers("msg_1", 1700000000, b"{}", [Secret(SECRET), Secret(OTHER_SECRET)])
    parts = headers["webhook-signature"].split(" ")
    assert len(parts) == 2 and all(p.startswith("v1,") for p in parts)
    assert spec_verify(SECRET, headers, b"{}")
    assert spec_verify(OTHER_SECRET, headers, b"{}")


def test_verify_accepts_any_matching_secret_within_tolerance() -> None:
    headers = signed_headers("msg_1", 1000, b"{}", [Secret(OTHER_SECRET)])
    assert verify(headers, b"{}", [Secret(SECRET), Secret(OTHER_SECRET)], now=1200) == "msg_1"


@pytest.mark.parametrize(
    ("change", "now"),
    [
        pytest.param({"body": b"{ }"}, 1000, id="tampered-body"),
        pytest.param({"webhook-id": "msg_2"}, 1000, id="other-id"),
        pytest.param({"webhook-timestamp": "1001"}, 1000, id="other-timestamp"),
        pytest.param({"webhook-signature": "v2,AAAA"}, 1000, id="unknown-version"),
        pytest.param({"webhook-signature": ""}, 1000, id="missing-signature"),
        pytest.param({"webhook-timestamp": "soon"}, 1000, id="bad-timestamp"),
        pytest.param({}, 1000 + 301, id="too-old"),
        pytest.param({}, 1000 - 301, id="from-the-future"),
    ],
)
def test_verify_refuses(change: dict[str, object], now: float) -> None:
    headers: dict[str, str] = signed_headers("msg_1", 1000, b"{}", [Secret(SECRET)])
    body = change.pop("body", b"{}")
    headers.update({k: str(v) for k, v in change.items()})
    assert isinstance(body, bytes)
    with pytest.raises(SignatureError):
        verify(headers, body, [Secret(SECRET)], now=now)


def test_secret_never_shows_its_value() -> None:
    secret = Secret(SECRET)
    assert repr(secret) == str(secret) == "Secret('***')"
    assert "MfKQ" not in f"{secret!r} {secret} {[secret]}"
    assert secret == Secret(SECRET.removeprefix("whsec_")) and secret != Secret(OTHER_SECRET)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("whsec_not base64!", id="not-base64"),
        pytest.param("whsec_c2hvcnQ=", id="too-short"),
        pytest.param("", id="empty"),
    ],
)
def test_secret_refuses_bad_values(value: str) -> None:
    with pytest.raises(ValueError):
        Secret(value)
