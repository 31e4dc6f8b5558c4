"""Loading rule files: ``rules/*.yaml`` in, one immutable compiled ``RuleSet`` out.

Every file is checked against ``schemas/rule.schema.json``, then semantically (id = file stem,
duplicate ids, unknown or unused groups, languages simplemma does not know, terms that are too
short or match everything). ALL problems of ALL files are collected, each with ``file:line``
(the JSON path walked along the composed YAML nodes), and raised once as ``RuleSetError``.
``check`` returns the same list for ``monitor rules check``. Lemma terms are expanded to their
forms here (``monitor.lexicon``), so the engine only ever sees surface strings.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from monitor import lexicon
from monitor.engine import RuleSet
from monitor.errors import RuleError, RuleSetError
from monitor.genres import default_genre_labels
from monitor.rule import (
    COMMON,
    DEFAULT_LEAD_SENTENCES,
    Clause,
    Escalation,
    Example,
    FactCondition,
    Group,
    Rule,
    SeverityPolicy,
    Term,
    TermKind,
    Veto,
)
from monitor.text import fold

_SCHEMA = json.loads(resources.files("monitor").joinpath("schemas/rule.schema.json").read_text())
# Two validators of one schema: the Rust one answers "valid?" in microseconds (10,000 rule files
# load within budget); jsonschema, when the answer is no, lists every error with its path.
_FAST_VALIDATOR = jsonschema_rs.validator_for(_SCHEMA)
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)
MAX_LEMMA_PHRASE_FORMS = 256
# expanded lemma forms survive restarts here (a cold load reads simplemma's dictionaries: ~3 s
# per language); pass ``cache_dir=None`` to load without it
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "monitor-lexicon"
JsonPath = Sequence[str | int]


def load_ruleset(path: Path, *, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> RuleSet:
    """Load a folder of ``*.yaml`` rules (or one file). Raises ``RuleSetError`` with every problem.

    ``cache_dir`` keeps expanded lemma forms between runs (reading simplemma's dictionaries is
    the slow part of loading).
    """
    with _collector_paused():
        rules, errors = _load(path, cache_dir)
        if errors:
            raise RuleSetError(errors)
        return RuleSet(rules, source=str(path))


def check(path: Path, *, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> list[RuleError]:
    """Every problem of the rule files under ``path``, sorted by file and line (empty if valid)."""
    with _collector_paused():
        return _load(path, cache_dir)[1]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading and compiling build hundreds of thousands of long-lived objects and no garbage
    cycles, so each pass of the cyclic collector during them is pure cost (~1 of 5 s for 10,000
    rules, and 0.4 s more when the compile ran after the pause)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def line_of(root: yaml.Node, path: JsonPath) -> int:
    """The 1-based line of the node at ``path`` (or of the deepest node that exists along it)."""
    node = root
    for step in path:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            found = node.value[step] if 0 <= step < len(node.value) else None
        if found is None:
            break
        node = found
    return int(node.start_mark.line) + 1


@dataclass
class _File:
    """One parsed rule file. Its YAML node tree is not kept: thousands of retained trees make
    the garbage collector rescan them on every pass (3 of 5 s of loading 10,000 rules); lines
    are read from a tree composed again from ``text`` when an error is reported."""

    path: Path
    text: str
    data: dict[str, Any]
    example_lines: dict[tuple[str, int], int] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)

    def add(self, where: JsonPath, message: str) -> None:
        self.errors.append(RuleError(str(self.path), self.line(where), message))

    def line(self, where: JsonPath) -> int:
        root = _compose(self.text)[0]
        return 1 if root is None else line_of(root, where)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")], key=str)
    return [path]


def _load(path: Path, cache_dir: Path | None) -> tuple[list[Rule], list[RuleError]]:
    if not path.exists():
        return [], [RuleError(str(path), 0, "no such file or directory")]
    files = _files(path)
    if not files:
        return [], [RuleError(str(path), 0, "no rule files (*.yaml)")]
    errors: list[RuleError] = []
    parsed: list[_File] = []
    for file in files:
        loaded = _parse(file, errors)
        if loaded is not None:
            parsed.append(loaded)
    seen: dict[str, _File] = {}
    for item in parsed:
        _check(item)
        rule_id = item.data["id"]
        if rule_id in seen:
            first = seen[rule_id]
            item.add(
                ["id"],
                f"duplicate id {rule_id!r} (also in {first.path}:{first.line(['id'])})",
            )
        else:
            seen[rule_id] = item
    forms = _lemma_forms([p for p in parsed if not p.errors], cache_dir)
    rules = [_build(p, forms) for p in parsed if not p.errors]
    for item in parsed:
        errors.extend(item.errors)
    errors.sort(key=lambda e: (e.path, e.line))
    return rules, errors


def _parse(file: Path, errors: list[RuleError]) -> _File | None:
    try:
        text = file.read_bytes().decode("utf-8")
        root, data = _compose(text)
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(RuleError(str(file), 0, f"cannot read: {exc.__class__.__name__}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else 0
        errors.append(RuleError(str(file), line, f"invalid YAML: {getattr(exc, 'problem', exc)}"))
        return None
    if root is None:
        errors.append(RuleError(str(file), 1, "empty file"))
        return None
    item = _File(file, text, data if isinstance(data, dict) else {})
    if not _FAST_VALIDATOR.is_valid(data):
        # jsonschema lists the errors, and has the last word: the two can disagree (Python's
        # ``$`` matches before a final newline, Rust's does not)
        schema_errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.path)))
        for err in schema_errors:
            where = list(err.absolute_path)
            prefix = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
            # a bad key (a scope of `none`, a language of a group) is reported at its own line,
            # not at the first key of its mapping
            if "propertyNames" in err.schema_path and isinstance(err.instance, str):
                where.append(err.instance)
            item.add(where, f"${prefix}: {err.message}")
        if schema_errors:
            errors.extend(item.errors)
            return None
    item.example_lines = {
        (kind, i): line_of(root, ["tests", kind, i])
        for kind in ("match", "no_match")
        for i in range(len(item.data.get("tests", {}).get(kind, ())))
    }
    return item


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

# libyaml's parser when PyYAML was built with it (its wheels are): ~20x the pure-Python one.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader, with a short way to the tag of a scalar that can only be a string.

    The parser asks for the tag of every scalar; most scalars of a rule file are quoted, or
    plain words whose first character starts no implicit type (bool, int, float, null,
    timestamp, merge), and the answer to those is ``str`` without scanning the resolvers.
    """

    _starts = frozenset(k for k in _BaseLoader.yaml_implicit_resolvers if k)

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0] or (value and value[0] not in self._starts):
                return _STR
        tag: str = super().resolve(kind, value, implicit)
        return tag


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for ``file:line`` of errors) and the data built from it."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return root, None if root is None else _Builder(loader).build(root)
    finally:
        loader.dispose()


class _Builder:
    """The data of a node tree, as the loader's own constructor builds it, in half the time.

    Rule files are maps, lists and strings. Those are built here directly; every other node (an
    int, a bool, a merge key, a tagged node) goes to the loader's constructor, so the result
    and its errors are PyYAML's. The constructor's generic machinery (a generator and a state
    check per node) was over half of loading 10,000 rules. Aliases share one object as in
    PyYAML; an alias inside its own anchor is an error (PyYAML would build a cycle).
    """

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self._loader = loader
        self._built: dict[int, Any] = {}
        self._open: set[int] = set()

    def build(self, node: yaml.Node) -> Any:
        kind = node.__class__
        if kind is yaml.ScalarNode:
            return node.value if node.tag == _STR else self._loader.construct_object(node)
        key = id(node)
        if key in self._built:
            return self._built[key]
        if key in self._open:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to a node that contains it", node.start_mark
            )
        self._open.add(key)
        if kind is yaml.SequenceNode and node.tag == _SEQ:
            data: Any = [self.build(item) for item in node.value]
        elif kind is yaml.MappingNode and node.tag == _MAP and self._plain(node):
            data = {self.build(k): self.build(v) for k, v in node.value}
        else:
            data = self._loader.construct_object(node, deep=True)
        self._open.discard(key)
        self._built[key] = data
        return data

    @staticmethod
    def _plain(node: yaml.Node) -> bool:
        """Keys are plain strings (no merge key ``<<``, no list or map as a key)."""
        return all(k.__class__ is yaml.ScalarNode and k.tag == _STR for k, _ in node.value)


def _check(item: _File) -> None:
    data = item.data
    if data["id"] != item.path.stem:
        item.add(["id"], f"id {data['id']!r} must be the file name ({item.path.stem!r})")
    languages = data["languages"]
    for i, lang in enumerate(languages):
        if lang not in lexicon.LANGUAGES:
            item.add(["languages", i], f"language {lang!r} is not supported (no lemmatiser)")
    known_genres = default_genre_labels().names
    for i, genre in enumerate(data.get("skip_genres", ())):
        if genre not in known_genres:
            item.add(["skip_genres", i], f"unknown genre {genre!r} (known: {sorted(known_genres)})")
    used: set[str] = set()
    groups = data["terms"]

    def refer(where: list[str | int], names: Sequence[str]) -> None:
        """Group names used at ``where``: each must be a group of ``terms``."""
        for i, name in enumerate(names):
            used.add(name)
            if name not in groups:
                item.add([*where, i], f"unknown group {name!r}")

    refer(["ignore_sentences_with"], data.get("ignore_sentences_with", ()))
    refer(["scare_quotes"], data.get("scare_quotes", ()))
    for v, veto in enumerate(data.get("veto", ())):
        refer(["veto", v, "any"], veto["any"])
    for c, clause in enumerate(data["match"]):
        for key in ("all", "any"):
            refer(["match", c, key], clause.get(key, ()))
        for key in ("figure_sentence_with", "destination_after"):
            refer(["match", c, "facts", key], clause.get("facts", {}).get(key, ()))
        required = set(clause.get("all", ())) | set(clause.get("any", ()))
        for where, names in _exclusions(clause.get("none", ())):
            refer(["match", c, "none", *where], names)
            for name in sorted(set(names) & required):
                item.add(
                    ["match", c, "none", *where], f"group {name!r} is both required and excluded"
                )
    for name, group in groups.items():
        if name not in used:
            item.add(["terms", name], f"group {name!r} is not used by any clause")
        lists = {k: v for k, v in group.items() if k != "lemma"}
        if not lists:
            item.add(["terms", name], f"group {name!r} has no terms")
        for lang, terms in lists.items():
            if lang != COMMON and lang not in languages:
                item.add(["terms", name, lang], f"language {lang!r} is not in the rule's languages")
            for i, term in enumerate(terms):
                problem = _term_problem(term, lang, bool(group.get("lemma")))
                if problem:
                    item.add(["terms", name, lang, i], f"term {term!r}: {problem}")
    for kind in ("match", "no_match"):
        for i, example in enumerate(data.get("tests", {}).get(kind, ())):
            if example["lang"] not in languages:
                item.add(
                    ["tests", kind, i, "lang"],
                    f"language {example['lang']!r} is not in the rule's languages",
                )


def _exclusions(
    none: Sequence[str] | Mapping[str, Sequence[str]],
) -> list[tuple[list[str], Sequence[str]]]:
    """A clause's ``none`` as (path below ``none``, groups) per scope: a list is the article's
    (as before scopes), a mapping has a list per scope (``article``, ``lead``, ``sentence``)."""
    if isinstance(none, Mapping):
        return [([scope], names) for scope, names in none.items()]
    return [([], none)]


def _split(term: str, group_lemma: bool) -> tuple[TermKind, str]:
    text = " ".join(term.split())
    if text.startswith("~"):
        return "lemma", text[1:]
    if text.endswith("*"):
        return "prefix", text[:-1]
    return ("lemma" if group_lemma else "exact"), text


def _term_problem(term: str, lang: str, group_lemma: bool) -> str | None:
    kind, text = _split(term, group_lemma)
    letters = sum(map(str.isalnum, text))
    if "*" in text:
        return "'*' may only end a term (a prefix); regular expressions are not supported"
    if kind == "lemma" and lang == COMMON:
        return "lemma terms need a language ('common' has none)"
    if kind == "prefix" and len(text.split()[-1] if text.split() else "") < 3:
        return "a prefix needs at least 3 letters before '*' (it would match too much)"
    if letters < 2:
        return "too short: a term needs at least 2 letters"
    if not text[0].isalnum() and text[0] not in "'":
        return "a term must start with a letter or digit"
    return None


def _lemma_forms(
    files: list[_File], cache_dir: Path | None
) -> dict[tuple[str, str], frozenset[str]]:
    wanted: dict[str, set[str]] = {}
    for item in files:
        for group in item.data["terms"].values():
            for lang, terms in group.items():
                if lang in ("lemma", COMMON):
                    continue
                for term in terms:
                    kind, text = _split(term, bool(group.get("lemma")))
                    if kind == "lemma":
                        wanted.setdefault(lang, set()).update(text.split())
                        split = lexicon.separable(lang, text)
                        if split is not None:
                            wanted[lang].add(split[1])
    out: dict[tuple[str, str], frozenset[str]] = {}
    for lang, words in sorted(wanted.items()):
        for word, found in lexicon.forms(lang, words, cache_dir).items():
            out[(lang, word)] = found
    return out


def _term(
    item: _File,
    where: JsonPath,
    term: str,
    lang: str,
    group_lemma: bool,
    forms: Mapping[tuple[str, str], frozenset[str]],
) -> Term:
    kind, text = _split(term, group_lemma)
    if kind != "lemma":
        return Term(term, lang, kind, fold(text))
    per_word = [sorted(forms[(lang, w)] | {fold(w)}) for w in text.split()]
    count = 1
    for options in per_word:
        count *= len(options)
    if count > MAX_LEMMA_PHRASE_FORMS:
        item.add(
            where,
            f"term {term!r}: {count} forms, more than {MAX_LEMMA_PHRASE_FORMS}; "
            "use fewer lemma words in one phrase",
        )
        per_word = [[fold(w)] for w in text.split()]
    keys = sorted({" ".join(p) for p in itertools.product(*per_word)})
    split = lexicon.separable(lang, text)
    if split is None:
        return Term(term, lang, "lemma", "\x1f".join(keys))
    particle, verb = split
    finite = lexicon.finite(lang, verb, forms[(lang, verb)])
    return Term(term, lang, "lemma", "\x1f".join(keys), fold(particle), "\x1f".join(sorted(finite)))


def _example(raw: Mapping[str, Any], line: int) -> Example:
    facts = raw.get("facts")
    if facts is None:
        return Example(raw["lang"], raw["text"], line)
    return Example(
        raw["lang"],
        raw["text"],
        line,
        countries=frozenset(facts.get("countries", ())),
        location=facts.get("location"),
        actors=frozenset(facts.get("actors", ())),
        figures=tuple(sorted(facts.get("figures", {}).items())),
        has_facts=True,
    )


def _build(item: _File, forms: Mapping[tuple[str, str], frozenset[str]]) -> Rule:
    data = item.data
    groups = tuple(
        Group(
            name,
            tuple(
                _term(item, ["terms", name, lang, i], term, lang, bool(spec.get("lemma")), forms)
                for lang, terms in spec.items()
                if lang != "lemma"
                for i, term in enumerate(terms)
            ),
        )
        for name, spec in data["terms"].items()
    )
    clauses = []
    for c, raw in enumerate(data["match"]):
        facts = raw.get("facts")
        none = raw.get("none", ())
        scoped = none if isinstance(none, Mapping) else {"article": none}
        clauses.append(
            Clause(
                name=raw.get("name", f"clause {c + 1}" if len(data["match"]) > 1 else ""),
                all=tuple(raw.get("all", ())),
                any=tuple(raw.get("any", ())),
                none=tuple(scoped.get("article", ())),
                none_lead=tuple(scoped.get("lead", ())),
                none_sentence=tuple(scoped.get("sentence", ())),
                min_hits=raw.get("min_hits", 1),
                near=raw.get("near"),
                facts=None
                if facts is None
                else FactCondition(
                    min_countries=facts.get("min_countries", 0),
                    foreign_actor=facts.get("foreign_actor", False),
                    figures=tuple(sorted(facts.get("figures", {}).items())),
                    figure_sentence_with=tuple(facts.get("figure_sentence_with", ())),
                    destination_after=tuple(facts.get("destination_after", ())),
                ),
                within=raw.get("in", "article"),
            )
        )
    severity = data["severity"]
    escalate = tuple(
        Escalation("figure", e["figure"], e["min"], e["to"])
        if "figure" in e
        else Escalation("sources", None, e["sources"], e["to"])
        for e in severity.get("escalate", ())
    )
    tests = data.get("tests", {})
    return Rule(
        id=data["id"],
        title=data["title"],
        description=data.get("description", "").strip(),
        severity=SeverityPolicy(severity["base"], escalate),
        groups=groups,
        clauses=tuple(clauses),
        tags=tuple(data.get("tags", ())),
        languages=tuple(data["languages"]),
        event_code=data.get("event_code"),
        ignore_sentences_with=tuple(data.get("ignore_sentences_with", ())),
        scare_quotes=tuple(data.get("scare_quotes", ())),
        skip_genres=tuple(data.get("skip_genres", ())),
        vetoes=tuple(
            Veto(tuple(v["any"]), v.get("min_hits", 1), v.get("in", "article"))
            for v in data.get("veto", ())
        ),
        lead_sentences=data.get("lead_sentences", DEFAULT_LEAD_SENTENCES),
        lead_after_scene=data.get("lead_after_scene", False),
        should_match=tuple(
            _example(e, item.example_lines["match", i])
            for i, e in enumerate(tests.get("match", ()))
        ),
        should_not_match=tuple(
            _example(e, item.example_lines["no_match", i])
            for i, e in enumerate(tests.get("no_match", ()))
        ),
        source=str(item.path),
    )


__all__ = ["RuleSet", "check", "line_of", "load_ruleset"]
