"""``story.simhash`` gives the fingerprints of the original 64-step loop, bit for bit.

Stories already in the Faust table keep the fingerprints the old code computed; a new article
must land at the same Hamming distance from them as before, so the fast version is compared with
a copy of the old one on random and real token lists.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from monitor.story import fingerprint, simhash
from monitor.text import analyse

REPO = Path(__file__).resolve().parents[2]
SEED = Path("/work/shared/seeds/000_3f0d7a8a7abd1322.txt")


def reference_simhash(tokens: Sequence[str], shingle: int = 3) -> int:
    """The implementation the stored fingerprints were computed with (kept verbatim)."""
    grams = {" ".join(tokens[i : i + shingle]) for i in range(max(1, len(tokens) - shingle + 1))}
    counts = [0] * 64
    for gram in grams:
        if not gram:
            continue
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            counts[bit] += 1 if (h >> bit) & 1 else -1
    return sum(1 << bit for bit in range(64) if counts[bit] > 0)


def _real_texts() -> list[str]:
    texts = []
    files = [REPO / "examples" / "articles.jsonl", *sorted((REPO / "eval").glob("**/*.jsonl"))]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                texts.append(f"{item.get('title', '')}\n{item['text']}")
    if SEED.exists():
        texts.append(SEED.read_text(encoding="utf-8"))
    return texts


def test_same_fingerprints_as_the_loop_on_real_articles() -> None:
    """Every article of ``examples/`` and ``eval/`` (and the seed) fingerprints as before."""
    texts = _real_texts()
    assert len(texts) > 200
    for text in texts:
        doc = analyse(text, "en")
        assert fingerprint(doc) == reference_simhash(doc.token_norms), text[:80]


def _random_tokens(rng: random.Random) -> list[str]:
    # a small vocabulary repeats grams (distinct grams are what counts), and the odd empty
    # token, non-ASCII word and very short list take the edge paths
    vocab = ["de", "troepen", "kazachstan", "тока́ев", "ñandú", "164", "", "l'otsc", "x"]
    vocab += [f"w{i}" for i in range(rng.choice([3, 30, 3000]))]
    return [rng.choice(vocab) for _ in range(rng.choice([0, 1, 2, 3, 4, rng.randrange(900)]))]


@pytest.mark.parametrize("shingle", [1, 2, 3, 5])
def test_same_fingerprints_as_the_loop_on_random_tokens(shingle: int) -> None:
    """Random token lists of every length from empty to ~900 give the same 64 bits."""
    rng = random.Random(shingle)
    for _ in range(400):
        tokens = _random_tokens(rng)
        assert simhash(tokens, shingle) == reference_simhash(tokens, shingle), tokens[:10]


@pytest.mark.parametrize(
    "tokens",
    [
        pytest.param([], id="no-tokens"),
        pytest.param([""], id="one-empty-token"),
        pytest.param(["a", "b"], id="shorter-than-a-shingle"),
        pytest.param(("a", "b", "c", "a", "b", "c"), id="tuple-with-repeated-grams"),
    ],
)
def test_edge_cases_match_the_loop(tokens: Sequence[str]) -> None:
    """Lists shorter than a shingle, empty grams and tuples fingerprint as before."""
    assert simhash(tokens) == reference_simhash(tokens)
