"""Stories: which alerts are the same event, decided per routing key (pure, no Faust, no clock).

The story stage keeps one ``StoryBook`` per routing key (rule + location country) in a
changelog-backed table; ``encode_book``/``decode_book`` are its bytes. ``decide`` takes the book,
a ``StoryCandidate`` (one rule matching one article) and the current time, and returns a
``Decision`` and the new book:

- ``duplicate``: the article id was seen in a story, or the same source sent near-identical text
  (a re-publication): nothing new to say;
- ``update``: a story of the same key within the window shares entities with the candidate
  (people, organisations, or countries beyond the location; keys are spelling- and
  language-independent, so a Russian and a Dutch article about Tokayev meet) or its text is a
  near-duplicate from another source (syndication): one more source;
- ``new``: otherwise, with a deterministic ``story_id`` (hash of routing key + first article id),
  so a replay on another worker gives the same id.

Fingerprints are 64-bit SimHashes of the folded text's token 3-shingles. A SimHash is 8 bytes
in the changelog and compares with one popcount; MinHash would need ~128 values per article to
estimate Jaccard well, which matters for partial overlap, and partial overlap across sources
and languages is what entities decide here. SimHash answers the question we ask of text, "is
this (nearly) the same article?"
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from operator import methodcaller
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from monitor.article import Article
    from monitor.enrich import Enrichment
    from monitor.text import Document

UNKNOWN_LOCATION = "??"
MAX_STORIES = 64
MAX_SOURCES = 32
MAX_ARTICLES = 64
MAX_FINGERPRINTS = 16
MAX_KEYS = 32
DUPLICATE_BITS = 3  # Hamming distance: same source, same text (a re-publication)
NEAR_DUPLICATE_BITS = 10  # another source, (nearly) the same text (syndication)
SHINGLE = 3


def routing_key(rule_id: str, location_country: str | None) -> str:
    """The key the matches topic is partitioned by: one story's matches meet in one partition."""
    return f"{rule_id}|{location_country or UNKNOWN_LOCATION}"


# The bits of every byte value, most significant first: a digest's bits are one join away.
_BYTE_BITS = tuple(format(b, "08b") for b in range(256))
_hash8 = partial(hashlib.blake2b, digest_size=8)
_digest = methodcaller("digest")


def simhash(tokens: Sequence[str], shingle: int = SHINGLE) -> int:
    """64-bit SimHash over the distinct ``shingle``-grams of folded tokens.

    Bit ``b`` is set when more than half of the distinct grams' 8-byte BLAKE2b hashes (read as
    big-endian integers) have it set. The hashes' bits are laid end to end in one string of
    '0'/'1', so the count of a bit over all grams is one strided slice and ``count`` in C, not a
    64-step Python loop per gram (same fingerprints as that loop, bit for bit: stories kept in
    the table compare with new ones).
    """
    if len(tokens) >= shingle:
        # the k-th shifted copies, zipped: the shortest ends the grams (strict=False on purpose)
        shifted = (tokens[k:] for k in range(shingle))
        grams = set(map(" ".join, zip(*shifted, strict=False)))
    else:
        grams = {" ".join(tokens)}
    grams.discard("")
    if not grams:
        return 0
    digests = b"".join(map(_digest, map(_hash8, map(str.encode, grams))))
    bits = "".join(map(_BYTE_BITS.__getitem__, digests))
    # position p of each 64-character row is bit 63 - p of the hash: the row reads as the integer
    half = len(grams)
    row = ["1" if 2 * bits[p::64].count("1") > half else "0" for p in range(64)]
    return int("".join(row), 2)


def fingerprint(doc: Document) -> int:
    """The SimHash of a document's folded tokens (once per article, whatever number of rules
    match it)."""
    return simhash(doc.token_norms)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class StoryCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """One rule matching one article, reduced to what story decisions need."""

    rule_id: str
    article_id: str
    source: str
    published_at: datetime
    location: str | None = None
    countries: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    fingerprint: int = 0

    @property
    def key(self) -> str:
        return routing_key(self.rule_id, self.location)


class Fingerprint(msgspec.Struct, frozen=True, array_like=True):
    source: str
    simhash: int


class Story(msgspec.Struct, kw_only=True):
    """One story in a book: bounded lists, newest last."""

    story_id: str
    first_seen: datetime
    last_seen: datetime
    sources: list[str] = msgspec.field(default_factory=list)
    source_count: int = 0
    article_ids: list[str] = msgspec.field(default_factory=list)
    fingerprints: list[Fingerprint] = msgspec.field(default_factory=list)
    people: list[str] = msgspec.field(default_factory=list)
    organisations: list[str] = msgspec.field(default_factory=list)
    countries: list[str] = msgspec.field(default_factory=list)


class StoryBook(msgspec.Struct, kw_only=True):
    """The table value of one routing key: its recent stories."""

    key: str
    stories: list[Story] = msgspec.field(default_factory=list)


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # "new" | "update" | "duplicate"
    story_id: str
    sources: int


_book_encoder = msgspec.msgpack.Encoder()
_book_decoder = msgspec.msgpack.Decoder(StoryBook)


def encode_book(book: StoryBook) -> bytes:
    return _book_encoder.encode(book)


def decode_book(raw: bytes) -> StoryBook:
    return _book_decoder.decode(raw)


def story_id_for(key: str, article_id: str) -> str:
    return "st_" + hashlib.sha256(f"{key}\x1f{article_id}".encode()).hexdigest()[:24]


def decide(
    book: StoryBook | None, candidate: StoryCandidate, now: datetime, window: timedelta
) -> tuple[Decision, StoryBook]:
    """New, update or duplicate; returns the decision and the book to store (a new object)."""
    key = candidate.key
    old = decode_book(encode_book(book)) if book is not None else StoryBook(key=key)
    stories = [s for s in old.stories if s.last_seen >= now - window]
    for story in stories:
        if _is_duplicate(story, candidate):
            _remember(story.article_ids, [candidate.article_id], MAX_ARTICLES)
            decision = Decision(
                status="duplicate", story_id=story.story_id, sources=story.source_count
            )
            return decision, StoryBook(key=key, stories=stories)
    best: tuple[int, datetime, Story] | None = None
    for story in stories:
        score = _overlap(story, candidate)
        if score > 0 and (best is None or (score, story.last_seen) > best[:2]):
            best = (score, story.last_seen, story)
    if best is not None:
        story = best[2]
        status = "update"
    else:
        story = Story(
            story_id=story_id_for(key, candidate.article_id),
            first_seen=candidate.published_at,
            last_seen=now,
        )
        stories.append(story)
        status = "new"
    _absorb(story, candidate, now)
    stories.sort(key=lambda s: s.last_seen)
    del stories[:-MAX_STORIES]
    decision = Decision(status=status, story_id=story.story_id, sources=story.source_count)
    return decision, StoryBook(key=key, stories=stories)


def _is_duplicate(story: Story, candidate: StoryCandidate) -> bool:
    if candidate.article_id in story.article_ids:
        return True
    return any(
        fp.source == candidate.source
        and hamming(fp.simhash, candidate.fingerprint) <= DUPLICATE_BITS
        for fp in story.fingerprints
    )


def _overlap(story: Story, candidate: StoryCandidate) -> int:
    """How strongly the candidate belongs to the story (0: not at all)."""
    beyond_location = candidate.countries - {candidate.location}
    score = 2 * len(candidate.people & set(story.people))
    score += 2 * len(candidate.organisations & set(story.organisations))
    score += len(beyond_location & set(story.countries))
    if any(
        hamming(fp.simhash, candidate.fingerprint) <= NEAR_DUPLICATE_BITS
        for fp in story.fingerprints
    ):
        score += 3
    return score


def _absorb(story: Story, candidate: StoryCandidate, now: datetime) -> None:
    story.last_seen = max(story.last_seen, now)
    story.first_seen = min(story.first_seen, candidate.published_at)
    if candidate.source not in story.sources:
        story.source_count += 1
    _remember(story.sources, [candidate.source], MAX_SOURCES)
    _remember(story.article_ids, [candidate.article_id], MAX_ARTICLES)
    story.fingerprints.append(Fingerprint(candidate.source, candidate.fingerprint))
    del story.fingerprints[:-MAX_FINGERPRINTS]
    _remember(story.people, sorted(candidate.people), MAX_KEYS)
    _remember(story.organisations, sorted(candidate.organisations), MAX_KEYS)
    _remember(story.countries, sorted(candidate.countries - {candidate.location}), MAX_KEYS)


def _remember(items: list[str], new: Iterable[str], limit: int) -> None:
    """Append unseen items, keep the newest ``limit``."""
    for item in new:
        if item in items:
            items.remove(item)
        items.append(item)
    del items[:-limit]


def candidate_for(
    rule_id: str, article: Article, enrichment: Enrichment, fingerprint: int
) -> StoryCandidate:
    """The story stage's view of one match: entities as keys, the text as a fingerprint (the
    article's ``fingerprint(doc)``, computed once for all its matches)."""
    return StoryCandidate(
        rule_id=rule_id,
        article_id=article.id,
        source=article.source,
        published_at=article.published_at,
        location=enrichment.location,
        countries=enrichment.countries,
        people=enrichment.people_keys,
        organisations=enrichment.organisation_keys,
        fingerprint=fingerprint,
    )
