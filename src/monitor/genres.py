"""Genre labels: the word a news site puts before a headline, or in a line above the story, to
say that an article is not a report of news ("Opinion:", "Recensie |", "Nachruf:", "Timeline:",
"SATIRE:").

An alert reports news now: an opinion piece, a review, an obituary, a timeline or a satire says
every word of a coup or a state of emergency and reports none. Rules list the genres they skip
(``skip_genres``); the labels are data (``data/genre_labels.yaml``), found once per article, in
the title and in the page furniture above the story (``text.story_start``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib import resources

import yaml

from monitor.text import Document, fold, story_start

# after the label: a colon, a bar, a dash, a middle dot or a '›' ("Opinion |", "Nachruf:",
# "SATIRE -", "Opinion › Columnists"); the text is folded, so a no-break space is a space
_AFTER = r"[ \t]*[:|\-\u2013\u2014\u00b7\u203a]"
# between the sections of a breadcrumb line ("Política | Opinião e Análise | 25 nov 2026")
_SECTIONS = "|\u00b7\u203a"


class GenreLabels:
    """Finds the genre labels of an article (``genres``)."""

    def __init__(self, labels: Mapping[str, Iterable[str]]) -> None:
        self.names = frozenset(labels)
        self._genre: dict[str, str] = {}
        for genre, words in labels.items():
            for word in words:
                key = _key(word)
                if key:
                    self._genre[key] = genre
        self._patterns = _patterns(self._genre) if self._genre else None

    def genres(self, doc: Document) -> frozenset[str]:
        """The genres labelled in the title or in a line of furniture above the story: at the
        start of the line, or as a section of a breadcrumb line."""
        if self._patterns is None:
            return frozenset()
        label, section = self._patterns
        found = set()
        folded = doc.folded
        for start, end in doc.sentences[: story_start(doc, 1)]:
            match = label.match(folded, start) or section.search(folded, start, end)
            if match is not None:
                found.add(self._genre[_key(match.group(1))])
        return frozenset(found)


def _patterns(keys: Iterable[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A label at the start of a line, and a label that starts a section of a line: the label
    and two more words at most ("Opinion & Analysis", not "Review of the military's plans"),
    up to the next section or the end of the line."""
    alternatives = "|".join(
        r"[\s\-]+".join(map(re.escape, key.split())) for key in sorted(keys, key=len, reverse=True)
    )
    label = re.compile(rf"[ \t]*({alternatives}){_AFTER}")
    section = re.compile(
        rf"[{_SECTIONS}][ \t]*({alternatives})(?:[ \t]+[^\s{_SECTIONS}]+){{0,2}}"
        rf"[ \t]*(?:[{_SECTIONS}]|$)"
    )
    return label, section


def _key(label: str) -> str:
    """A label folded, its words one space apart ("Op-ed" and "op ed" are one label)."""
    return " ".join(fold(label).replace("-", " ").split())


@functools.cache
def default_genre_labels() -> GenreLabels:
    """The packaged labels (``monitor/data/genre_labels.yaml``), read once per process."""
    raw = yaml.safe_load(
        resources.files("monitor").joinpath("data/genre_labels.yaml").read_text("utf-8")
    )
    return GenreLabels(raw["genres"])
