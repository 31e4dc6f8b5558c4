"""Lemma terms become surface forms once, when a rule set loads: the inflection tables come from
simplemma's dictionaries, read backwards (every form whose lemma is the term's).

Why not lemmatise every article instead: tokens plus lemmas cost ~1 ms per 5 KB article, ten times
the rest of matching, and most articles match nothing. Expanding at load time puts lemma terms in
the one automaton with the others, so per-article cost does not depend on them. What is lost:
forms simplemma would only guess by its affix rules (not in its dictionary) - prefix wildcards
cover those.

Participles agree in French, Spanish, Italian and Portuguese, and simplemma lemmatises an
agreeing one to its masculine singular ("rejetée" -> "rejeté" -> "rejeter"; "déployées" ->
"déployé", which it knows only as a lemma of its own): the forms of those forms are forms of the
verb too, so ``~rejeter`` finds "une demande rejetée" and ``~déployer`` "ont été déployées".

Reading a dictionary takes 0.3-3 s per language (de and ru are the big ones), so the forms are
cached on disk per language and simplemma version when a cache directory is given.

Dutch and German split a separable verb in a main clause: *de regering roept de noodtoestand
uit*, *der Premier tritt nach der Wahl zurück*. The dictionary knows *uitroepen*, *uitgeroepen*
but not that sentence, so ``separable`` names the particle and the verb without it, whose finite
forms (``finite``) the engine counts when the particle follows in the same sentence. Only
particles that always separate are listed: *over*, *door*, *om*, *über*, *unter*, *durch* and
*um* begin separable and inseparable verbs alike (*voorkómen* "prevent").
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import simplemma
from simplemma.strategies.dictionaries import DefaultDictionaryFactory
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

from monitor.text import fold

LANGUAGES = frozenset(SUPPORTED_LANGUAGES)
_VERSION = getattr(simplemma, "__version__", "unknown")
_FORMAT = 3  # bump when the expansion changes: old cache files are then ignored

# (language, word as written) -> folded forms; lives as long as the process
_FORMS: dict[tuple[str, str], frozenset[str]] = {}

# longest first, so "zurück" wins over "zu"
_PARTICLES = {
    "nl": ("terug", "binnen", "samen", "neer", "vast", "aan", "bij", "mee", "los", "weg", "toe",
           "uit", "af", "in", "na", "op"),
    "de": ("zusammen", "zurück", "heim", "fort", "fest", "nach", "weg", "los", "mit", "auf", "aus",
           "bei", "ein", "her", "hin", "ab", "an", "vor", "zu"),
}  # fmt: skip
_MIN_STEM = 4  # letters of the verb without its particle ("ab" + "gehen", not "an" + "den")


def separable(lang: str, word: str) -> tuple[str, str] | None:
    """(particle, verb) of a Dutch or German separable verb in the infinitive ("uitroepen" ->
    ("uit", "roepen")), or None. Only infinitives qualify (a lemma term written as a noun, such
    as "opstand", is not split)."""
    written = word.lower()  # not folded: "zurückführen" is "führen", not "fuhren"
    if " " in written or not written.endswith(("en", "ern", "eln")):
        return None
    for particle in _PARTICLES.get(lang, ()):
        if written.startswith(particle) and len(written) - len(particle) >= _MIN_STEM:
            return particle, written[len(particle) :]
    return None


def finite(lang: str, verb: str, forms: Iterable[str]) -> frozenset[str]:
    """The forms of ``verb`` that a main clause splits from the particle: not the participles
    (*geroepen*, *roepend*), which the dictionary already has joined (*uitgeroepen*)."""
    keep = set()
    for form in forms:
        if lang in _PARTICLES and form.startswith("ge") and not verb.startswith("ge"):
            continue
        if form.endswith(("end", "ende", "enden", "endes", "ender", "endem")):
            continue
        # nouns the dictionary files under the verb: "roepje", "trekje" (nl), "Rufens" (de)
        if form.endswith(("je", "jes") if lang == "nl" else ("ens",)):
            continue
        if " " in form:
            continue
        keep.add(form)
    return frozenset(keep)


def forms(
    lang: str, words: Iterable[str], cache_dir: Path | None = None
) -> dict[str, frozenset[str]]:
    """Folded surface forms of each word's lemma (the word itself included)."""
    wanted = sorted(set(words))
    missing = [w for w in wanted if (lang, w) not in _FORMS]
    if missing and cache_dir is not None:
        for word, cached in _read_cache(cache_dir, lang).items():
            _FORMS.setdefault((lang, word), frozenset(cached))
        missing = [w for w in wanted if (lang, w) not in _FORMS]
    if missing:
        for word, scanned in _scan(lang, missing).items():
            _FORMS[(lang, word)] = scanned
        if cache_dir is not None:
            known = {w: sorted(f) for (lg, w), f in _FORMS.items() if lg == lang}
            _write_cache(cache_dir, lang, known)
    return {w: _FORMS[(lang, w)] for w in wanted}


def _lemma_candidates(word: str, lang: str) -> set[str]:
    # "sturen" has the lemma "stuur" (the noun) in simplemma: look for the forms of both
    found = {word, simplemma.lemmatize(word, lang=lang)}
    if lang == "fr" and word.endswith(("er", "ir")):
        # a French participle can be a lemma of its own: "déployées" -> "déployé", never
        # "déployer" (which then lacked every agreeing form of "ont été déployés")
        found.add(word[:-2] + ("é" if word.endswith("er") else "i"))
    return {v for c in found for v in (c, c.lower(), c.capitalize())}


def dictionary(lang: str) -> Mapping[bytes, bytes]:
    """simplemma's dictionary of ``lang``, form -> lemma, as UTF-8 bytes, read from disk and
    not kept by simplemma (a non-caching factory: a worker should not hold a 100 MB dictionary
    for a few terms or a known-word check). ValueError for a language simplemma does not know."""
    mapping = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(lang)
    raw = getattr(mapping, "_dict", None)
    if isinstance(raw, dict):  # simplemma 2 stores bytes: comparing bytes skips 1M decodes
        return raw
    return {key.encode(): value.encode() for key, value in mapping.items()}


def _scan(lang: str, words: list[str]) -> dict[str, frozenset[str]]:
    by_lemma: dict[bytes, list[str]] = {}
    out: dict[str, set[str]] = {}
    for word in words:
        cands = _lemma_candidates(word, lang)
        out[word] = {fold(c) for c in cands if "_" not in c}
        for cand in cands:
            by_lemma.setdefault(cand.encode(), []).append(word)
    # forms whose lemma is itself one of the forms: French "rejetée" has the lemma "rejeté",
    # whose lemma is "rejeter" (simplemma lemmatises an agreeing participle to its masculine
    # singular), Portuguese "enviadas" has "enviado"; a second pass over the same dictionary
    # adds them
    entries = dictionary(lang)
    participles: dict[bytes, list[str]] = {}
    for form, lemma in entries.items():
        wanting = by_lemma.get(lemma)
        if wanting is None and b"_" in lemma:  # separable verbs: "afgekondigd" -> "af_kondigen"
            wanting = by_lemma.get(lemma.replace(b"_", b""))
        for word in wanting or ():
            out[word].add(fold(form.decode()))
            if form != lemma:
                participles.setdefault(form, []).append(word)
    for form, lemma in entries.items():
        for word in participles.get(lemma, ()):
            out[word].add(fold(form.decode()))
    return {w: frozenset(f for f in found if f.strip()) for w, found in out.items()}


def _cache_file(cache_dir: Path, lang: str) -> Path:
    return cache_dir / f"lemma-forms-v{_FORMAT}-{lang}-simplemma-{_VERSION}.json"


def _read_cache(cache_dir: Path, lang: str) -> dict[str, list[str]]:
    try:
        data = json.loads(_cache_file(cache_dir, lang).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no cache yet, or a damaged one: compute again
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(cache_dir: Path, lang: str, data: dict[str, list[str]]) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, _cache_file(cache_dir, lang))
    except OSError:  # a read-only cache directory only costs time at the next start
        return
