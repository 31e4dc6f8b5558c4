"""Text normalisation, done once per article and shared by every rule and every enricher.

``analyse(text, language)`` returns a ``Document``: the original text, a *folded* copy of the same
length (lower case, NFKC, diacritics removed where that is safe), the tokens and sentences with
their offsets, and lemmas on demand. Because folding maps every character to exactly one
character, an offset into the folded text is an offset into the original: evidence spans point at
what the reader sees.

Sentence splitting is a small rule-based splitter (newlines, terminal punctuation followed by an
upper-case start, minus known abbreviations and initials); pysbd is ~100x slower than the whole
match and is kept off the hot path on purpose.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import cached_property
from itertools import accumulate, repeat
from typing import NamedTuple

import simplemma

# Marks whose removal would merge distinct letters (Spanish ñ, Russian й) stay.
_KEEP = {("n", "\u0303"), ("и", "\u0306"), ("N", "\u0303"), ("И", "\u0306")}


class _FoldTable(dict[int, int]):
    """A ``str.translate`` table computed lazily, one code point at a time."""

    def __missing__(self, codepoint: int) -> int:
        char = chr(codepoint)
        folded = _fold_char(char)
        value = ord(folded)
        self[codepoint] = value
        return value


def _fold_char(char: str) -> str:
    compat = unicodedata.normalize("NFKC", char)
    if len(compat) != 1:
        compat = char
    decomposed = unicodedata.normalize("NFD", compat)
    base = decomposed[0]
    if len(decomposed) > 1 and all(unicodedata.combining(m) for m in decomposed[1:]):
        if any((base, m) in _KEEP for m in decomposed[1:]):
            base = compat
    else:
        base = compat
    lowered = base.lower()
    return lowered if len(lowered) == 1 else base


_FOLD = _FoldTable()
for _c in ("\u2019", "\u2018", "\u02bc"):  # typographic apostrophes fold to ASCII
    _FOLD[ord(_c)] = ord("'")


# str.translate with a mapping is fast for ASCII only until the first non-ASCII character, then
# it costs a dict lookup per character (~300 us per 4 KB of German); folding the non-ASCII runs
# on their own and lower-casing the ASCII ones between them is ~10x cheaper for Latin scripts.
_NON_ASCII_RUN = re.compile(r"([^\x00-\x7f]+)")


# Text made of the characters of one 8-bit code page folds through a byte table in C: ~3 us
# per 4 KB against ~150 us for a dict lookup per non-ASCII character. Latin-1 holds most West
# European articles; Windows-1252 the same with typographic quotes and dashes, Windows-1251
# Russian, Windows-1250 Polish (both with those quotes too). In each, every character folds to
# a character of the same code page except the micro sign (to a Greek mu): text with it takes
# the per-character path.
class _ByteFold(NamedTuple):
    codec: str
    table: bytes  # folded byte by byte (bytes the code page leaves undefined map to themselves)
    unfoldable: tuple[bytes, ...]  # bytes whose folded character is outside the code page


def _byte_fold(codec: str) -> _ByteFold:
    table = bytearray(range(256))
    unfoldable = []
    for byte in range(256):
        try:
            char = bytes([byte]).decode(codec)
        except UnicodeDecodeError:
            continue
        try:
            table[byte] = ord(chr(_FOLD[ord(char)]).encode(codec))
        except UnicodeEncodeError:
            unfoldable.append(bytes([byte]))
    return _ByteFold(codec, bytes(table), tuple(unfoldable))


_LATIN1_FOLD = _byte_fold("latin-1")
_CODE_PAGE_FOLDS = tuple(map(_byte_fold, ("cp1252", "cp1251", "cp1250")))
# Below this length a failed encoding (an exception, ~2 us) costs more than the per-character
# fold: short non-Latin-1 text (a name, a lemma) is folded character by character.
_SHORT_FOLD = 64


def fold(text: str) -> str:
    """Lower-case, NFKC and diacritics-free, with exactly one output character per input one."""
    if text.isascii():
        return text.lower()
    try:
        latin1 = text.encode("latin-1")
    except UnicodeEncodeError:
        if len(text) < _SHORT_FOLD:
            return _fold_per_character(text)
        return _fold_code_page(text)
    if any(byte in latin1 for byte in _LATIN1_FOLD.unfoldable):
        return _fold_per_character(text)
    return latin1.translate(_LATIN1_FOLD.table).decode("latin-1")


def _fold_code_page(text: str) -> str:
    """``fold`` of text beyond Latin-1, through the first code page that holds it."""
    for codec, table, unfoldable in _CODE_PAGE_FOLDS:
        try:
            encoded = text.encode(codec)
        except UnicodeEncodeError:
            continue
        if any(byte in encoded for byte in unfoldable):
            break
        return encoded.translate(table).decode(codec)
    return _fold_per_character(text)


def _fold_per_character(text: str) -> str:
    """``fold`` of any text, one code point at a time (the reference for the fast paths)."""
    # a script written mostly outside ASCII (Cyrillic) has a run per word: one translate is cheaper
    if len(text.encode("utf-8", "surrogatepass")) - len(text) > len(text) >> 3:
        return text.translate(_FOLD)
    parts = _NON_ASCII_RUN.split(text)  # ASCII, non-ASCII, ASCII, ..., ASCII
    parts[0::2] = [p.lower() for p in parts[0::2]]
    parts[1::2] = [p.translate(_FOLD) for p in parts[1::2]]
    return "".join(parts)


# split() with one capturing group gives [gap, token, gap, token, ..., gap] in C; the running
# sum of their lengths gives every offset without a match object per token
# Possessive quantifiers: the same tokens (a token's word characters run to a non-word one, so
# nothing is ever given back), ~15% cheaper without the backtracking bookkeeping.
_TOKEN = re.compile(r"(\w++(?:['\u2019]\w++)?+)")
# The same tokens in ASCII text (where ``\w`` means the same in both modes), 20-30% cheaper:
# English and Dutch articles are mostly plain ASCII.
_ASCII_TOKEN = re.compile(_TOKEN.pattern, re.ASCII)


def _lower_case_class() -> str:
    """The lower-case letters (category Ll) of the Basic Multilingual Plane as regex ranges, for
    a character class: ``a-z`` alone let "ok. żołnierzy" and "тыс. человек" end a sentence."""
    spans: list[list[int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)) == "Ll":
            if spans and spans[-1][1] == code - 1:
                spans[-1][1] = code
            else:
                spans.append([code, code])
    return "".join(
        re.escape(chr(lo)) + (f"-{re.escape(chr(hi))}" if hi > lo else "") for lo, hi in spans
    )


# A candidate end: terminal punctuation, closing quotes, blanks, and then what starts a sentence
# (a letter that is not lower case, in any script, or a digit, maybe after opening quotes or a
# dash); or a newline. Checking the start in the pattern leaves Python only the full stops that
# may follow an abbreviation. One leading character class lets the regex engine skip to
# candidates with a fast scan (half the cost of an alternation); after a newline the match ends
# at once.
_BOUNDARY = re.compile(
    r"[.!?\u2026\n](?:(?<=\n)|[.!?\u2026]*[\"'\u00bb\u201d\u2019)\]]*[ \t]+"
    r"(?=[\"'\u00ab\u201e\u201c\u2018(\[\-\u2013\u2014]*[^\W\d_" + _lower_case_class() + r"]|\d))"
)

# Abbreviations (folded, without the dot) after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st gen col lt sgt capt maj cmdr adm gov sen rep jr sr inc co corp ltd no nr
    vs etc e.g i.e approx dept est fig jan feb mar apr jun jul aug sep sept oct nov dec
    dhr mevr mw drs ir ing bijv bv nl zgn ca resp evt jl
    z.b bzw ggf hr fr usw vgl u.a d.h dt
    m mme mlle me mgr av env cf p.ex
    sr sra srta d dña ud uds pág
    г гг т.е т.д др им ул ген
    sig dott
    ok płk ppłk mjr kpt por prok m.in np wg aprox
    """.split()
)


class Token(NamedTuple):
    """A word: ``text[start:end]`` in the original, ``norm`` its folded form."""

    start: int
    end: int
    norm: str


class Document:
    """An article body analysed once: folded text now; tokens, sentences and lemmas on first use.

    Most articles match nothing, so only folding (what the automaton scans) is paid up front.
    """

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = language
        self.folded = fold(text)

    @cached_property
    def _token_columns(self) -> tuple[list[str], list[int], list[int]]:
        """Folded tokens, their starts and their ends, as parallel lists."""
        folded = self.folded
        parts = (_ASCII_TOKEN if folded.isascii() else _TOKEN).split(folded)
        offsets = list(accumulate(map(len, parts), initial=0))
        return parts[1::2], offsets[1:-1:2], offsets[2:-1:2]

    @cached_property
    def tokens(self) -> tuple[Token, ...]:
        norms, starts, ends = self._token_columns
        # tuple.__new__ builds each Token in C: no Python-level __new__ call per token
        return tuple(map(tuple.__new__, repeat(Token), zip(starts, ends, norms, strict=True)))

    @cached_property
    def token_starts(self) -> list[int]:
        return self._token_columns[1]

    @cached_property
    def token_ends(self) -> list[int]:
        return self._token_columns[2]

    @cached_property
    def token_norms(self) -> list[str]:
        """``token.norm`` of every token, without building the tokens."""
        return self._token_columns[0]

    def token_index(self, offset: int) -> int:
        """Index of the token that starts at or before ``offset``."""
        return max(0, bisect.bisect_right(self.token_starts, offset) - 1)

    @cached_property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        return split_sentences(self.text, self.folded)

    @cached_property
    def sentence_starts(self) -> list[int]:
        """The start of every sentence, in order (``sentence_index`` bisects them)."""
        return [s for s, _ in self.sentences]

    @cached_property
    def lemmas(self) -> tuple[str, ...]:
        """One lemma (folded) per token, from simplemma for the document's language."""
        cache = _LEMMAS.setdefault(self.language, {})
        if len(cache) > _LEMMA_CACHE_SIZE:
            cache.clear()
        out = []
        for token in self.tokens:
            found = cache.get(token.norm)
            if found is None:
                found = cache[token.norm] = lemma(token.norm, self.language)
            out.append(found)
        return tuple(out)

    def sentence_index(self, offset: int) -> int:
        """Index of the sentence containing ``offset`` (or the nearest one before it)."""
        return max(0, bisect.bisect_right(self.sentence_starts, offset) - 1)

    def sentence_span(self, offset: int) -> tuple[int, int]:
        return self.sentences[self.sentence_index(offset)]

    def sentence_text(self, offset: int) -> str:
        start, end = self.sentence_span(offset)
        return self.text[start:end]


def analyse(text: str, language: str) -> Document:
    """Normalise ``text`` once; every rule and enricher reads the result."""
    return Document(text, language)


# Per-language lemma caches: a dict lookup is ~20x cheaper than an lru_cache call, and news
# vocabulary repeats, so after warm-up almost every token is a hit.
_LEMMAS: dict[str, dict[str, str]] = {}
_LEMMA_CACHE_SIZE = 500_000


def lemma(token: str, language: str) -> str:
    """The folded lemma of a folded token."""
    try:
        return fold(simplemma.lemmatize(token, lang=language))
    except ValueError:  # a language simplemma does not know: the token is its own lemma
        return token


# The end of a sentence of prose: terminal punctuation, maybe inside closing quotes, brackets or
# markdown emphasis (a colon introduces a quote or a list: prose too). A line without it is a
# byline, a timestamp, a caption credit, a section label or a subheading.
_PROSE_END = re.compile(r"[.!?\u2026:;][\"'\u00bb\u201d\u2019)\]*_]*\s*$")


def is_prose(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (a sentence) ends as prose does, not as page furniture."""
    return _PROSE_END.search(text, start, end) is not None


def story_start(doc: Document, first: int) -> int:
    """Index of the first sentence of prose from sentence ``first`` on (``len(doc.sentences)``
    when none is): what comes before it is page furniture (``is_prose``)."""
    spans = doc.sentences
    for index in range(first, len(spans)):
        if is_prose(doc.text, *spans[index]):
            return index
    return len(spans)


def split_sentences(text: str, folded: str | None = None) -> tuple[tuple[int, int], ...]:
    """Sentence spans ``(start, end)`` over ``text``, stripped of surrounding white space."""
    folded = fold(text) if folded is None else folded
    # full stops after an abbreviation or an initial: one search in C over the reversed text
    # instead of a look at the word before every candidate end
    size = len(folded) - 1
    inside = {
        size - m.start()
        for m in _NOT_AN_END.finditer(folded[::-1])
        if m.group(1) is not None or m.group(2).isalpha()
    }
    # the candidates that stay (only full stops fold to a full stop)
    bounds = [m.end() for m in _BOUNDARY.finditer(text) if m.start() not in inside]
    bounds.append(len(text))
    spans: list[tuple[int, int]] = []
    start = 0
    for end in bounds:
        piece = text[start:end]
        kept = piece.rstrip()
        if kept:  # most pieces start at a sentence start: nothing to strip on the left
            lead = len(piece) - len(piece.lstrip()) if piece[0].isspace() else 0
            spans.append((start + lead, start + len(kept)))
        start = end
    return tuple(spans) if spans else ((0, len(text)),)


# A full stop does not end a sentence when the letters, digits and dots right before it (all of
# them: ``[^\W_]`` is exactly ``str.isalnum``) are an abbreviation (group 1) or one letter, an
# initial as in "J. Smith" (group 2: one letter or digit, ``isalpha`` tells). Python's
# look-behinds have a fixed width, so the pattern reads the reversed text: the dot, then the
# reversed word, then no letter, digit or dot.
def _alternation(words: list[str]) -> str:
    """A regex matching exactly ``words``, as a trie: the regex engine tries one branch per
    distinct first character instead of one per word."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[:1], []).append(word[1:])
    branches = []
    for first, rests in by_first.items():
        if not first:
            continue
        longer = [r for r in rests if r]
        tail = _alternation(longer) if longer else ""
        if longer and "" in rests:
            tail = f"(?:{tail})?"
        branches.append(re.escape(first) + tail)
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


_NOT_AN_END = re.compile(
    r"\.(?=(?:("
    + _alternation(sorted(a[::-1] for a in _ABBREVIATIONS))
    + r")|([^\W_]))(?![^\W_]|\.))"
)
