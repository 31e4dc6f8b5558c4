"""People introduced by a role: *president Tokajev*, *Smailov als nieuwe premier*.

A role phrase (``data/people.yaml``, per role and language) is found with the surface matcher;
the name is either the 1-3 capitalised words right after it (a country in between, as in
*президент России Владимир Путин*, sets the person's country) or the capitalised words before
it, linked by a connector (*X, the prime minister*, *X als premier*). An adjective of a country
right before the role (*de Russische president*) sets the country too.

Spelling variants are grouped under one ``key``: the surname transliterated from Cyrillic,
folded and reduced to a phonetic skeleton (``name_key``), so *Tokajev*, *Tokayev*, *Tokaïev*,
*Tokajew* and *Токаев* are one person, in one article and across languages (story matching).

A status marker (``statuses`` in the data) next to the role says whether the person is ``new``,
``former`` or ``dismissed`` in it (*Smailov als nieuwe premier*; *de vorige regering onder leiding
van Askar Mamin* ... *de laan uitgestuurd*); see the data file for where a marker counts.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from pathlib import Path
from typing import Any, NamedTuple

from simplemma.strategies import DictionaryLookupStrategy
from simplemma.utils import normalize_token

from monitor import lexicon
from monitor.alert import Mention, Person, PersonStatus, Span
from monitor.enrich import data
from monitor.enrich.countries import CountryHit
from monitor.enrich.surface import Hit, SurfaceMatcher
from monitor.errors import ConfigError
from monitor.text import Document, fold

DATA_FILE = "people.yaml"
MAX_NAME_TOKENS = 3
_WINDOW = 120  # characters looked at before a role for "Name, the role"
_NEAR = 50  # characters read first (``_name_before``): enough for most names and their links

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i",
    "ї": "yi", "є": "ye", "ґ": "g", "ł": "l", "ß": "ss",
}  # fmt: skip
_TRANSLIT = str.maketrans(_CYRILLIC)
# Sibilants and affricates are written a dozen ways across the nine languages (ш: sh, sj, sch,
# ch, sz; ч: ch, tsj, tch, tsch, cz; ж: zh, zj, j); they all reduce to "s".
_PHONETIC = (
    (re.compile(r"shch|tsch|sch|tsj|tch|sh|sj|sz|zh|zj|cz|ch|ts|tz"), "s"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"[cq]"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"w"), "v"),
    (re.compile(r"z"), "s"),
    (re.compile(r"oe|ou"), "u"),
    (re.compile(r"[jy]"), "i"),
    (re.compile(r"(?<=[aeiou])i(?=[aeou])"), ""),  # Tokaiev -> Tokaev (Токаев)
    (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"(?<=[^aeiou])e$"), ""),  # French mute e: Poutine -> Putin
)
_NON_LETTER = re.compile(r"[^a-z]")
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*|[^\w\s]")
_NEXT_WORD = r"[ \t\u00a0]+([^\W\d_][\w'\u2019-]*)"
# Between a status marker and the role: spaces and at most one word ("the new Kazakh premier").
_MARKER_GAP = re.compile(r"[ \t\u00a0]+(?:[^\W\d_][\w'\u2019]*[ \t\u00a0]+)?")
_CLAUSE_END = ",;:"
# The words after a role, up to MAX_NAME_TOKENS + 2 of them, in one match, each in its own group
# so the match's ``regs`` give their spans. Nested optional groups are the same as the repetition
# {1,5}: a word cannot give back letters to let one more word match.
_NEXT_WORDS = re.compile(
    "(?:"
    + _NEXT_WORD
    + ("(?:" + _NEXT_WORD) * (MAX_NAME_TOKENS + 1)
    + ")?" * (MAX_NAME_TOKENS + 1)
    + ")"
)
# Blanks, word characters, blanks: the stretch before a role that a marker's gap (blanks and at
# most one word) can span. Any end of such a stretch is one too, so once a marker ends where it
# fails, no marker before it can qualify.
_GAP_STRETCH = re.compile(r"[ \t\u00a0]*[\w'\u2019]*[ \t\u00a0]*")
_BLANK_RUN = re.compile(r"[ \t\u00a0]*")
STATUSES: tuple[PersonStatus, ...] = ("new", "former", "dismissed")
# One mention with several markers: the successor named in a sentence about a dismissal is
# new; a dismissed predecessor is also former, and dismissed says more.
_PRECEDENCE: tuple[PersonStatus, ...] = ("new", "dismissed", "former")
_KEYS: dict[str, str] = {}
_KEYS_SIZE = 100_000
# simplemma's answer by (word, language): names and role words repeat from article to article
_KNOWN: dict[tuple[str, str], bool] = {}
_KNOWN_SIZE = 100_000


class _KnownWords:
    """Which words one language's simplemma dictionary has, without its lemmas: the sorted
    64-bit hashes of its keys. ``get`` answers as the dictionary's mapping would, with a
    stand-in value for a key it has, which is all ``is_known`` asks (the lemma is not used).

    Held whole, the nine dictionaries took about 970 MB of a worker (measured with every
    language read); their key hashes take 8 bytes a word, about 60 MB. Two keys whose hashes
    are equal would make a word known that is not: with 2^64 values and a million keys, a
    chance of about 1 in 10^7 per article word."""

    __slots__ = ("_hashes",)

    def __init__(self, keys: Iterable[bytes]) -> None:
        self._hashes = array("q", sorted(map(hash, keys)))  # builtin hash: a C loop

    def get(self, key: str) -> str | None:
        hashed = hash(key.encode())
        i = bisect_left(self._hashes, hashed)
        return "" if i < len(self._hashes) and self._hashes[i] == hashed else None


class _Dictionaries:
    """simplemma's dictionaries as ``_KnownWords``, each read once per process (a simplemma
    ``DictionaryFactory``).

    simplemma's own factory keeps the last eight languages read: with nine configured, a worker
    cycling through them read a dictionary again (0.3-5 s, pl the slowest) each time a language
    had dropped out. Kept here as key hashes, a dictionary costs its reading once, on the first
    word asked in its language, and little memory after."""

    def __init__(self) -> None:
        self._loaded: dict[str, _KnownWords] = {}

    def get_dictionary(self, lang: str) -> Any:
        found = self._loaded.get(lang)
        if found is None:  # ValueError for a language simplemma does not know
            # the dictionary is dropped once its keys are hashed
            found = self._loaded[lang] = _KnownWords(lexicon.dictionary(lang).keys())
        return found


# ``simplemma.is_known(word, lang)``, its lookup answered from the dictionaries kept above
_LOOKUP = DictionaryLookupStrategy(_Dictionaries())


def name_key(name: str) -> str:
    """A spelling-independent key for a surname (or a whole name: its last word is used)."""
    found = _KEYS.get(name)
    if found is not None:
        return found
    if len(_KEYS) > _KEYS_SIZE:
        _KEYS.clear()
    words = name.split()
    word = words[-1] if words else name
    skeleton = _NON_LETTER.sub("", fold(word).translate(_TRANSLIT))
    for pattern, replacement in _PHONETIC:
        skeleton = pattern.sub(replacement, skeleton)
    key = _KEYS[name] = skeleton or fold(word)
    return key


class _Markers:
    """Status markers of one article in text order, with their starts and ends for bisecting
    (the hits do not overlap, so both are sorted)."""

    def __init__(self, hits: list[Hit[PersonStatus]]) -> None:
        self.hits = hits
        self.starts = [h.start for h in hits]
        self.ends = [h.end for h in hits]
        self.dismissed = [h for h in hits if h.value == "dismissed"]
        self.dismissed_starts = [h.start for h in self.dismissed]


class _Found(NamedTuple):
    start: int
    end: int
    role: str
    country: str | None


_PARTIAL = _Found(-1, -1, "", None)  # ``_walk_back``: the words read do not settle it
_new = tuple.__new__  # builds a named tuple in C (no Python-level __new__ call)


@dataclass(frozen=True)
class _Language:
    roles: SurfaceMatcher[str]
    after_comma: frozenset[str]
    links: frozenset[str]
    statuses: SurfaceMatcher[PersonStatus] = field(default_factory=SurfaceMatcher)
    prefixes: tuple[tuple[str, PersonStatus], ...] = ()  # ("ex-", "former"): glued to the role

    @cached_property
    def links_and_comma(self) -> tuple[str, ...]:
        """What ends the walk back from a role to a name before it (``_name_before``)."""
        return (",", *sorted(self.links))


@dataclass
class _Group:
    name: str
    role: str
    country: str | None
    status: PersonStatus | None = None
    mentions: list[Mention] = field(default_factory=list)


class PeopleFinder:
    """People with roles (built once at startup)."""

    def __init__(
        self,
        languages: dict[str, _Language],
        particles: frozenset[str],
        stop: frozenset[str],
        dismissable: frozenset[str] = frozenset(),
    ) -> None:
        self._languages = languages
        self._particles = particles
        self._stop = stop
        self._dismissable = dismissable

    @classmethod
    def load(cls, languages: list[str], extra_data_dir: Path | None = None) -> PeopleFinder:
        raw = data.load(DATA_FILE, extra_data_dir)
        roles: dict[str, Any] = raw.get("roles") or {}
        connectors: dict[str, Any] = raw.get("connectors") or {}
        statuses: dict[str, Any] = raw.get("statuses") or {}
        unknown = set(statuses) - set(STATUSES)
        if unknown:
            raise ConfigError(DATA_FILE, f"statuses: unknown {sorted(unknown)}, known {STATUSES}")
        built: dict[str, _Language] = {}
        for lang in languages:
            matcher: SurfaceMatcher[str] = SurfaceMatcher()
            for role, per_lang in roles.items():
                if not isinstance(per_lang, dict):
                    raise ConfigError(DATA_FILE, f"roles.{role}: expected a mapping by language")
                where = f"{DATA_FILE}: roles.{role}.{lang}"
                matcher.add_all(data.strings(per_lang.get(lang), where), str(role), origin=where)
            matcher.build()
            conn: dict[str, Any] = connectors.get(lang) or {}
            where = f"{DATA_FILE}: connectors.{lang}"
            markers: SurfaceMatcher[PersonStatus] = SurfaceMatcher()
            prefixes: list[tuple[str, PersonStatus]] = []
            for status in STATUSES:
                per_lang = statuses.get(status) or {}
                if not isinstance(per_lang, dict):
                    raise ConfigError(
                        DATA_FILE, f"statuses.{status}: expected a mapping by language"
                    )
                where = f"{DATA_FILE}: statuses.{status}.{lang}"
                for form in data.strings(per_lang.get(lang), where):
                    if form.endswith("-"):
                        prefixes.append((fold(form), status))
                    else:
                        markers.add(form, status, origin=where)
            markers.build()
            built[lang] = _Language(
                matcher,
                frozenset(fold(w) for w in data.strings(conn.get("after_comma"), where)),
                frozenset(fold(w) for w in data.strings(conn.get("links"), where)),
                markers,
                tuple(prefixes),
            )
        particles = frozenset(data.strings(raw.get("particles"), f"{DATA_FILE}: particles"))
        stop = frozenset(fold(w) for w in data.strings(raw.get("not_names"), DATA_FILE))
        dismissable = frozenset(data.strings(raw.get("dismissable"), f"{DATA_FILE}: dismissable"))
        undefined = dismissable - set(roles)
        if undefined:
            raise ConfigError(DATA_FILE, f"dismissable: no such role {sorted(undefined)}")
        return cls(built, particles, stop, dismissable)

    def _language(self, language: str) -> _Language | None:
        return self._languages.get(language) or self._languages.get("en")

    def matchers(
        self, language: str
    ) -> tuple[SurfaceMatcher[str], SurfaceMatcher[PersonStatus]] | None:
        """The role phrases and the status markers ``people`` looks for in ``language``."""
        lang = self._language(language)
        return (lang.roles, lang.statuses) if lang is not None else None

    def people(
        self,
        doc: Document,
        countries: list[CountryHit],
        scanned: tuple[list[Hit[str]], list[Hit[PersonStatus]]] | None = None,
    ) -> tuple[Person, ...]:
        """People in order of first mention; later bare mentions of a surname are added.

        ``scanned``: the hits of the role and status matchers, if scanned already."""
        lang = self._language(doc.language)
        if lang is None:
            return ()
        roles = lang.roles.find(doc.text, doc.folded) if scanned is None else scanned[0]
        country_at = {h.start: h for h in countries}
        country_ending = {h.end: h for h in countries}
        groups: dict[str, _Group] = {}
        markers: _Markers | None = None
        for role_hit in roles:
            country = self._country_before(doc.text, role_hit.start, country_ending)
            found = self._name_after(doc, role_hit.end, role_hit.value, country_at, country)
            if found is None:
                found = self._name_before(doc, lang, role_hit.start, role_hit.value, country)
            if found is None:
                continue
            name = doc.text[found.start : found.end]
            key = name_key(name)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(name, found.role, found.country)
            elif len(name) > len(group.name):
                group.name = name
            group.country = group.country or found.country
            if markers is None:
                markers = _Markers(
                    lang.statuses.find(doc.text, doc.folded) if scanned is None else scanned[1]
                )
            status = self._status(doc, lang, role_hit, found, markers)
            if status is not None and (
                group.status is None or _PRECEDENCE.index(status) < _PRECEDENCE.index(group.status)
            ):
                group.status = status
            group.mentions.append(Mention(name, Span(found.start, found.end)))
        if not groups:
            return ()
        self._bare_mentions(doc, groups)
        ordered = sorted(groups.items(), key=lambda kv: min(m.span.start for m in kv[1].mentions))
        return tuple(
            Person(
                key=key,
                name=g.name,
                role=g.role,
                status=g.status,
                country=g.country,
                mentions=tuple(sorted(set(g.mentions), key=lambda m: m.span.start)),
            )
            for key, g in ordered
        )

    def _status(
        self,
        doc: Document,
        lang: _Language,
        role: Hit[str],
        person: _Found,
        markers: _Markers,
    ) -> PersonStatus | None:
        """``new``/``former``/``dismissed`` from the markers next to the role or in its clause."""
        text = doc.text
        start, end = role.start, role.end
        hits = markers.hits
        # every prefix ends with a hyphen ("ex-", "oud-"): glued to the role
        glued = start > 0 and doc.folded[start - 1] == "-"
        if not glued and not hits:  # most articles name no status at all
            return None
        found: set[PersonStatus] = set()
        if glued:
            folded = doc.folded
            for prefix, status in lang.prefixes:
                at = start - len(prefix)
                if at >= 0 and folded[at:start] == prefix:
                    if at == 0 or not folded[at - 1].isalnum():
                        found.add(status)
        # Right before the role, with blanks and at most one word between (``_MARKER_GAP``): only
        # markers ending in the stretch of blanks, word characters and blanks before the role can
        # qualify. Ends of the markers are sorted, so walk back from the nearest until one ends
        # outside the stretch (most roles stop at the first: their nearest marker is far).
        ends = markers.ends
        k = bisect_right(ends, start) - 1
        while k >= 0 and _GAP_STRETCH.fullmatch(text, ends[k], start):
            if _MARKER_GAP.fullmatch(text, ends[k], start):
                found.add(hits[k].value)
            k -= 1
        # Right after the role, blanks only between (no marker after it: nothing to look at).
        k = bisect_left(markers.starts, end)
        if k < len(hits):
            blanks = _BLANK_RUN.match(text, end)  # always matches, maybe empty
            reach = blanks.end() if blanks is not None else end
            while k < len(hits) and hits[k].start <= reach:
                found.add(hits[k].value)
                k += 1
        # A dismissal anywhere in the clause, for roles that can be dismissed.
        if markers.dismissed and role.value in self._dismissable:
            lo, hi = self._clause(doc, min(role.start, person.start), max(role.end, person.end))
            dismissed = markers.dismissed
            for k in range(bisect_left(markers.dismissed_starts, lo), len(dismissed)):
                hit = dismissed[k]
                if hit.start >= hi:
                    break
                if hit.end <= hi:
                    found.add(hit.value)
        if not found:  # most roles
            return None
        for status in _PRECEDENCE:
            if status in found:
                return status
        return None

    @staticmethod
    def _clause(doc: Document, start: int, end: int) -> tuple[int, int]:
        """The stretch of the sentence around ``[start, end)`` between clause punctuation."""
        lo, hi = doc.sentence_span(start)
        text = doc.text
        left = max(text.rfind(c, lo, start) for c in _CLAUSE_END)
        rights = [i for c in _CLAUSE_END if (i := text.find(c, end, hi)) >= 0]
        return (left + 1 if left >= lo else lo), (min(rights) if rights else hi)

    @staticmethod
    def _country_before(text: str, start: int, ending: dict[int, CountryHit]) -> str | None:
        """A country adjective right before the role: "de Russische president"."""
        i = start
        while i > 0 and text[i - 1] in " \u00a0":
            i -= 1
        hit = ending.get(i)
        return hit.code if hit else None

    def _name_after(
        self,
        doc: Document,
        pos: int,
        role: str,
        country_at: dict[int, CountryHit],
        country: str | None,
    ) -> _Found | None:
        text = doc.text
        words = self._words_after(text, pos)
        if words and words[0][0] in country_at:  # "президент России Владимир Путин"
            country = country_at[words[0][0]].code
            hit_end = country_at[words[0][0]].end
            words = self._words_after(text, hit_end)
        span = self._name_span(words, text, doc.folded)
        if span is None:
            return None
        start, end, count = span
        if count == 1 and doc.language == "de" and self._is_word(text[start:end], "de"):
            return None  # German capitalises nouns: "Präsident Journalisten"
        return _new(_Found, (start, end, role, country))

    @staticmethod
    def _words_after(text: str, pos: int) -> tuple[tuple[int, int], ...]:
        """Words after ``pos`` separated by spaces only (no punctuation, no line break)."""
        m = _NEXT_WORDS.match(text, pos)
        if m is None:
            return ()
        # the words' groups match in order, so the last one matched counts them
        return m.regs[1 : (m.lastindex or 0) + 1]

    def _name_span(
        self, words: tuple[tuple[int, int], ...], text: str, folded: str
    ) -> tuple[int, int, int] | None:
        """The leading capitalised words (with particles inside) of ``words``."""
        taken: list[tuple[int, int]] = []
        stop, particles = self._stop, self._particles
        for start, end in words:
            first = text[start]
            # folding maps each character on its own: a word's folded form is a slice of folded
            if first.isupper() and first.isalpha() and folded[start:end] not in stop:
                taken.append((start, end))
                if len(taken) == MAX_NAME_TOKENS:
                    break
            elif taken and text[start:end] in particles:
                taken.append((start, end))
            else:
                break
        while taken and text[taken[-1][0] : taken[-1][1]] in particles:
            taken.pop()
        if not taken:
            return None
        return taken[0][0], taken[-1][1], len(taken)

    def _name_before(
        self, doc: Document, lang: _Language, role_start: int, role: str, country: str | None
    ) -> _Found | None:
        text = doc.text
        lo = doc.sentence_span(role_start)[0]
        start = max(lo, role_start - _WINDOW)
        # The walk back ends at a link or a comma, or finds no name: most roles have neither in
        # their window, and a search of the folded text for each says so without reading words.
        folded = doc.folded
        for link in lang.links_and_comma:
            if folded.rfind(link, start, role_start) >= 0:
                break
        else:
            return None
        # The walk back from the role rarely needs more than the last few words: read those
        # first, from a space on. No word holds a space, so they are the words the whole window
        # gives there, and the answer is the same unless the walk reaches the first of them.
        near = role_start - _NEAR
        cut = text.rfind(" ", start, near) if near > start else -1
        if cut >= 0:
            words = [m.span() for m in _WORD.finditer(text, cut + 1, role_start)]
            found = self._walk_back(doc, lang, words, lo, role, country, partial=True)
            if found is not _PARTIAL:
                return found
        words = [m.span() for m in _WORD.finditer(text, start, role_start)]
        return self._walk_back(doc, lang, words, lo, role, country, partial=False)

    def _walk_back(
        self,
        doc: Document,
        lang: _Language,
        words: list[tuple[int, int]],
        lo: int,
        role: str,
        country: str | None,
        *,
        partial: bool,
    ) -> _Found | None:
        """The name before the role (past a link or comma and at most two modifiers) among
        ``words``; ``_PARTIAL`` when ``partial`` (the words do not go back to the window's start)
        and the answer depends on what comes before the first of them."""
        text, folded_text = doc.text, doc.folded
        i = len(words) - 1
        modifiers = 0
        while i >= 0 and modifiers <= 2:
            if partial and i == 0:
                return _PARTIAL
            folded = folded_text[words[i][0] : words[i][1]]  # fold maps characters one by one
            if folded in lang.links:
                i -= 1
                break
            if folded == ",":
                i -= 1
                break
            if folded in lang.after_comma and i > 0 and text[words[i - 1][0]] == ",":
                i -= 2
                break
            if not folded[0].isalpha():
                return None
            modifiers += 1
            i -= 1
        else:
            return None
        taken: list[tuple[int, int]] = []
        while len(taken) < MAX_NAME_TOKENS:
            if i < 0:
                if partial:
                    return _PARTIAL
                break
            start, end = words[i]
            word = text[start:end]
            if word[0].isupper() and word[0].isalpha() and folded_text[start:end] not in self._stop:
                taken.insert(0, (start, end))
            elif taken and word in self._particles:
                taken.insert(0, (start, end))
            else:
                break
            i -= 1
        while taken and text[taken[0][0] : taken[0][1]] in self._particles:
            taken.pop(0)
        if not taken:
            return None
        start, end = taken[0][0], taken[-1][1]
        if len(taken) == 1 and start == lo and self._is_word(text[start:end], doc.language):
            return None  # "However, the president": a capitalised word, not a name
        return _new(_Found, (start, end, role, country))

    @staticmethod
    def _is_word(word: str, language: str) -> bool:
        key = (word, language)
        known = _KNOWN.get(key)
        if known is None:
            if len(_KNOWN) > _KNOWN_SIZE:
                _KNOWN.clear()
            try:
                known = _LOOKUP.get_lemma(normalize_token(word.lower()), language) is not None
            except ValueError:
                known = False
            _KNOWN[key] = known
        return known

    @staticmethod
    def _bare_mentions(doc: Document, groups: dict[str, _Group]) -> None:
        """Later mentions of a known surname on its own ("Tokajev meldde toen")."""
        surnames = {fold(g.name.split()[-1]): key for key, g in groups.items()}
        norms, starts = doc.token_norms, doc.token_starts
        # A few surnames and thousands of tokens: look for each surname in the folded text (in
        # C) and keep the occurrences that are a whole token, in text order.
        folded = doc.folded
        found = []
        for surname in surnames:
            at = folded.find(surname)
            while at >= 0:
                i = bisect_left(starts, at)
                if i < len(starts) and starts[i] == at and norms[i] == surname:
                    found.append(i)
                at = folded.find(surname, at + 1)
        if not found:
            return
        found.sort()
        text, ends = doc.text, doc.token_ends
        seen = {m.span.start for g in groups.values() for m in g.mentions}
        # most occurrences are the mentions found with a role: skip them before the set below
        bare = [i for i in found if starts[i] not in seen and text[starts[i]].isupper()]
        if not bare:
            return
        # A token inside a mention of the person is part of a longer name. Per person with a
        # candidate: its mentions' starts in order and the furthest end reached so far, so one
        # bisect tells whether a mention starting at or before the token reaches past it.
        reach: dict[str, tuple[list[int], list[int]]] = {}
        for i in bare:
            start = starts[i]
            key = surnames[norms[i]]
            spans = reach.get(key)
            if spans is None:
                ordered = sorted({(m.span.start, m.span.end) for m in groups[key].mentions})
                spans = reach[key] = (
                    [s for s, _ in ordered],
                    list(accumulate((e for _, e in ordered), max)),
                )
            k = bisect_right(spans[0], start) - 1
            if k >= 0 and spans[1][k] > start:
                continue
            end = ends[i]
            groups[key].mentions.append(Mention(text[start:end], Span(start, end)))
