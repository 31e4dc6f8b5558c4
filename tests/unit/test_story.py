# ruff: noqa: E501 - test tables keep one case per line
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.story import (
    MAX_STORIES,
    StoryBook,
    StoryCandidate,
    decide,
    decode_book,
    encode_book,
    routing_key,
    simhash,
    story_id_for,
)

T0 = datetime(2024, 1, 11, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)
TEXT = "de eerste soldaten van de internationale troepenmacht verlaten het land deze week".split()
OTHER = "in the capital protesters gathered against fuel prices on the main square again".split()


def cand(article_id: str, source: str = "a", **kw: object) -> StoryCandidate:
    fields: dict[str, object] = {
        "rule_id": "r1",
        "article_id": article_id,
        "source": source,
        "published_at": T0,
        "location": "KZ",
        "countries": frozenset({"KZ"}),
        "fingerprint": simhash(TEXT),
    }
    fields.update(kw)
    return StoryCandidate(**fields)  # type: ignore[arg-type]


def test_routing_key() -> None:
    assert routing_key("r1", "KZ") == "r1|KZ"
    assert routing_key("r1", None) == "r1|??"


def test_simhash_near_and_far() -> None:
    edited = [*TEXT[:-1], "maand"]
    assert (simhash(TEXT) ^ simhash(edited)).bit_count() <= 16
    assert (simhash(TEXT) ^ simhash(OTHER)).bit_count() > 16
    assert simhash(TEXT) == simhash(list(TEXT))


# Each case: the candidates that came before (decided in order), then the one under test.
PUTIN = frozenset({"putin"})
CSTO = frozenset({"CSTO"})


@pytest.mark.parametrize(
    ("before", "candidate", "status", "sources", "same_story_as"),
    [
        pytest.param([], cand("a1"), "new", 1, None, id="first-is-new"),
        pytest.param([cand("a1")], cand("a1", source="b"), "duplicate", 1, 0, id="same-article-id"),
        pytest.param([cand("a1")], cand("a2"), "duplicate", 1, 0, id="same-source-same-text"),
        pytest.param([cand("a1")], cand("b1", source="b"), "update", 2, 0, id="other-source-same-text"),
        pytest.param([cand("a1", people=PUTIN, fingerprint=simhash(TEXT))], cand("b1", source="b", people=PUTIN, fingerprint=simhash(OTHER)), "update", 2, 0, id="shared-person"),
        pytest.param([cand("a1", organisations=CSTO)], cand("b1", source="b", organisations=CSTO, fingerprint=simhash(OTHER)), "update", 2, 0, id="shared-organisation-cross-language"),
        pytest.param([cand("a1", countries=frozenset({"KZ", "RU"}))], cand("b1", source="b", countries=frozenset({"KZ", "RU"}), fingerprint=simhash(OTHER)), "update", 2, 0, id="shared-country-beyond-location"),
        pytest.param([cand("a1")], cand("b1", source="b", fingerprint=simhash(OTHER)), "new", 1, None, id="only-location-shared"),
        pytest.param([cand("a1", people=PUTIN)], cand("b1", source="a", people=PUTIN, fingerprint=simhash(OTHER)), "update", 1, 0, id="same-source-new-article-counts-once"),
    ],
)  # fmt: skip
def test_decide(
    before: list[StoryCandidate],
    candidate: StoryCandidate,
    status: str,
    sources: int,
    same_story_as: int | None,
) -> None:
    book: StoryBook | None = None
    ids = []
    for i, earlier in enumerate(before):
        decision, book = decide(book, earlier, T0 + timedelta(minutes=i), WINDOW)
        ids.append(decision.story_id)
    decision, book = decide(book, candidate, T0 + timedelta(hours=1), WINDOW)
    assert (decision.status, decision.sources) == (status, sources)
    if same_story_as is not None:
        assert decision.story_id == ids[same_story_as]
    else:
        assert decision.story_id not in ids
    assert decode_book(encode_book(book)) == book


def test_window_expires_stories() -> None:
    _, book = decide(None, cand("a1", people=PUTIN), T0, WINDOW)
    late = cand("b1", source="b", people=PUTIN, fingerprint=simhash(OTHER))
    later, book = decide(book, late, T0 + WINDOW + timedelta(minutes=1), WINDOW)
    assert later.status == "new"
    assert [s.story_id for s in book.stories] == [later.story_id]


def test_story_id_is_deterministic() -> None:
    first, _ = decide(None, cand("a1"), T0, WINDOW)
    again, _ = decide(None, cand("a1"), T0 + timedelta(days=1), WINDOW)
    assert first.story_id == again.story_id == story_id_for("r1|KZ", "a1")


def test_decide_does_not_mutate_the_stored_book() -> None:
    _, book = decide(None, cand("a1"), T0, WINDOW)
    raw = encode_book(book)
    decide(book, cand("b1", source="b"), T0, WINDOW)
    assert encode_book(book) == raw


def test_book_is_bounded() -> None:
    book: StoryBook | None = None
    for i in range(MAX_STORIES + 10):
        words = [f"w{i}x{k}" for k in range(12)]
        c = cand(f"x{i}", source=f"s{i}", fingerprint=simhash(words))
        _, book = decide(book, c, T0 + timedelta(seconds=i), WINDOW)
    assert book is not None and len(book.stories) == MAX_STORIES
