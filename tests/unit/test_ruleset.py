"""Loading rule files: every error of every file, with file:line; a valid set's model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.errors import RuleSetError
from monitor.rule import Escalation
from monitor.ruleset import _FAST_VALIDATOR, _VALIDATOR, _compose, check, load_ruleset

FILES = Path(__file__).parent.parent / "files"
ERRORS = "tests/files/rules_with_errors"

EXPECTED = [
    f"{ERRORS}/bad_schema.yaml:1: $: Additional properties are not allowed "
    "('colour' was unexpected)",
    f"{ERRORS}/bad_schema.yaml:4: $.severity.base: 'urgent' is not one of "
    "['low', 'medium', 'high', 'critical']",
    f"{ERRORS}/bad_schema.yaml:6: $.severity.escalate[0]: {{'figure': 'casualties', 'min': 3, "
    "'to': 'high'} is not valid under any of the given schemas",
    f"{ERRORS}/bad_schema.yaml:10: $.terms.a.en: [] should be non-empty",
    f"{ERRORS}/bad_schema.yaml:13: $.match[0].near: 'paragraph' is not valid under any of the "
    "given schemas",
    f"{ERRORS}/bad_terms.yaml:1: id 'wrong_name' must be the file name ('bad_terms')",
    f"{ERRORS}/bad_terms.yaml:4: language 'xx' is not supported (no lemmatiser)",
    f"{ERRORS}/bad_terms.yaml:7: term 'a*': a prefix needs at least 3 letters before '*' "
    "(it would match too much)",
    f"{ERRORS}/bad_terms.yaml:7: term 'x': too short: a term needs at least 2 letters",
    f"{ERRORS}/bad_terms.yaml:7: term 'tro*ps': '*' may only end a term (a prefix); regular "
    "expressions are not supported",
    f"{ERRORS}/bad_terms.yaml:8: language 'de' is not in the rule's languages",
    f"{ERRORS}/bad_terms.yaml:10: group 'unused' is not used by any clause",
    f"{ERRORS}/bad_terms.yaml:12: term '~word': lemma terms need a language ('common' has none)",
    f"{ERRORS}/bad_terms.yaml:14: unknown group 'missing'",
    f"{ERRORS}/bad_terms.yaml:15: group 'troops' is both required and excluded",
    f"{ERRORS}/bad_terms.yaml:18: language 'fr' is not in the rule's languages",
    f"{ERRORS}/broken_yaml.yaml:3: invalid YAML: did not find expected ',' or ']'",
    f"{ERRORS}/duplicate.yaml:1: id 'troops_sent' must be the file name ('duplicate')",
    f"{ERRORS}/troops_sent.yaml:1: duplicate id 'troops_sent' (also in {ERRORS}/duplicate.yaml:1)",
]


def test_check_lists_every_error_of_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FILES.parent.parent)
    assert [str(e) for e in check(Path(ERRORS))] == EXPECTED


def test_load_raises_once_with_all_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FILES.parent.parent)
    with pytest.raises(RuleSetError) as info:
        load_ruleset(Path(ERRORS))
    assert [str(e) for e in info.value.errors] == EXPECTED


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("missing", "no such file or directory", id="missing-path"),
        pytest.param("empty_dir", "no rule files (*.yaml)", id="empty-folder"),
    ],
)
def test_unusable_paths(tmp_path: Path, name: str, message: str) -> None:
    if name == "empty_dir":
        (tmp_path / name).mkdir()
    assert [e.message for e in check(tmp_path / name)] == [message]


def test_valid_rules_load_into_an_immutable_model() -> None:
    ruleset = load_ruleset(FILES / "rules_valid")
    assert sorted(r.id for r in ruleset) == ["emergency", "troops_sent"]
    rule = ruleset.get("troops_sent")
    assert rule is not None
    assert rule.severity.base == "medium"
    assert rule.severity.escalate == (
        Escalation("figure", "troops", 1000, "high"),
        Escalation("sources", None, 3, "critical"),
    )
    assert rule.event_code == "CAMEO:0861"
    assert rule.languages == ("nl", "en", "ru")
    assert rule.ignore_sentences_with == ("drill",)
    assert rule.clauses[0].describe() == (
        "sent: all(troops, send) in one sentence; facts: an actor country other than the location"
    )
    with pytest.raises(AttributeError):
        rule.id = "other"  # type: ignore[misc]


def test_lemma_terms_expand_to_dictionary_forms() -> None:
    rule = load_ruleset(FILES / "rules_valid").get("troops_sent")
    assert rule is not None
    keys = {k for t in rule.group("send").terms for k in t.key.split("\x1f")}
    assert {"ingeroepen", "stuurde", "gestuurd"} <= keys


NEW_KEYS_WITH_ERRORS = """\
id: rule
title: test rule
severity: {base: low}
languages: [en]
terms:
  a: {en: [troops]}
  b: {en: [exercise]}
veto:
  - any: [drill]
match:
  - all: [a]
    facts: {figures: {deaths: 1}, figure_sentence_with: [riots]}
  - all: [a]
    none: [b]
    in: paragraph
  - all: [a]
    facts: {figure_sentence_with: [a]}
"""


def test_check_reports_veto_lead_and_figure_sentence_errors_with_lines(tmp_path: Path) -> None:
    """Unknown groups in `veto` and `figure_sentence_with`, a bad `in` and a sentence condition
    without figures are each reported at their own line."""
    (tmp_path / "rule.yaml").write_text(NEW_KEYS_WITH_ERRORS, encoding="utf-8")
    found = [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)]
    assert any(m.startswith("15: $.match[1].in:") for m in found), found
    assert any(m.startswith("17: $.match[2].facts:") and "figures" in m for m in found), found
    # schema errors stop the file before the semantic checks: fix them and check again
    fixed = NEW_KEYS_WITH_ERRORS.replace("in: paragraph", "in: lead").replace(
        "facts: {figure_sentence_with: [a]}", "facts: {figures: {deaths: 2}}"
    )
    (tmp_path / "rule.yaml").write_text(fixed, encoding="utf-8")
    found = [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)]
    assert found == ["9: unknown group 'drill'", "12: unknown group 'riots'"]


def test_new_keys_load_into_the_model(tmp_path: Path) -> None:
    """`veto`, `lead_sentences`, `in: lead` and `figure_sentence_with` reach the typed rule."""
    text = NEW_KEYS_WITH_ERRORS.replace("[drill]", "[b]\n    min_hits: 2").replace("[riots]", "[a]")
    text = text.replace("in: paragraph", "in: lead").replace(
        "facts: {figure_sentence_with: [a]}", "facts: {figures: {deaths: 2}}"
    )
    (tmp_path / "rule.yaml").write_text(text + "lead_sentences: 5\n", encoding="utf-8")
    rule = load_ruleset(tmp_path, cache_dir=None).rules[0]
    assert [(v.any, v.min_hits) for v in rule.vetoes] == [(("b",), 2)]
    assert rule.lead_sentences == 5
    assert [c.within for c in rule.clauses] == ["article", "lead", "article"]
    facts = rule.clauses[0].facts
    assert facts is not None and facts.figure_sentence_with == ("a",)
    assert "in the lead" in rule.clauses[1].describe()


def _documents() -> list[tuple[str, object]]:
    """The shipped rules, the fixtures, and valid rules broken one keyword at a time."""
    paths = [*Path("rules").glob("*.yaml"), *FILES.glob("rules_*/*.yaml")]
    docs: list[tuple[str, object]] = []
    for path in sorted(paths):
        try:
            docs.append((str(path), yaml.safe_load(path.read_text())))
        except yaml.YAMLError:
            continue
    rule = yaml.safe_load((FILES / "rules_valid" / "troops_sent.yaml").read_text())
    clause = rule["match"][0]
    broken = {
        "pattern": {**rule, "id": "Troops"},
        "enum": {**rule, "severity": {"base": "urgent"}},
        "type": {**rule, "languages": "en"},
        "additionalProperties": {**rule, "colour": "red"},
        "minItems": {**rule, "match": []},
        "foreign_actor": {**rule, "match": [{**clause, "facts": {"foreign_actor": "lead"}}]},
        "propertyNames": {**rule, "match": [{**clause, "none": {"title": clause["all"][:1]}}]},
        "veto-in": {**rule, "veto": [{"any": clause["all"][:1], "in": "sentence"}]},
        "dependentRequired": {
            **rule,
            "match": [{**clause, "facts": {"figure_sentence_with": [clause["all"][0]]}}],
        },
    }
    docs.extend((f"broken {keyword}", doc) for keyword, doc in broken.items())
    return docs


@pytest.mark.parametrize(
    ("what", "doc"), _documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_fast_schema_gate_never_passes_a_file_the_full_validator_rejects(
    what: str, doc: object
) -> None:
    """The Rust validator alone decides that a file is valid (jsonschema lists the errors only
    when it says no), so it must never say "valid" where jsonschema finds an error."""
    errors = list(_VALIDATOR.iter_errors(doc))
    assert _FAST_VALIDATOR.is_valid(doc) == (not errors), (what, [e.message for e in errors])


@pytest.mark.parametrize(
    "text",
    [
        "id: a\nterms: {g: {en: [x, 'y', \"z\"]}}\n",
        "n: 3\nf: 1.5\nb: yes\nnull_: ~\nd: 2024-01-01\nempty:\noct: 0o17\n",
        "base: &b {severity: low, tags: [a, b]}\nrule:\n  <<: *b\n  severity: high\n",
        "a: &x [1, 2]\nb: *x\nc: *x\n",
        "1: one\ntrue: two\n~: three\n",
        "set: !!set {a, b}\nom: !!omap [{a: 1}, {b: 2}]\nbin: !!binary aGVsbG8=\n",
        "- plain\n- 'quoted: yes'\n- !!str 12\n- !!int '7'\n- -1\n- .inf\n- ! 12\n",
        "a: 1\na: 2\n",
    ],
)
def test_the_fast_builder_gives_what_pyyaml_gives(text: str) -> None:
    """``_compose`` builds maps, lists and strings itself and hands every other node to
    PyYAML's safe constructor: the data must be PyYAML's, aliases shared as in PyYAML."""
    _, data = _compose(text)
    assert data == yaml.safe_load(text)
    if text.startswith("a: &x"):
        assert data["b"] is data["c"]


@pytest.mark.parametrize(
    "text",
    ["? [a, b]\n: unhashable key\n", "a: !!python/object:os.system x\n", "a: &x [*x]\n"],
)
def test_the_fast_builder_refuses_what_it_cannot_build_as_yaml_errors(text: str) -> None:
    with pytest.raises(yaml.YAMLError):
        _compose(text)


def test_a_file_only_the_fast_gate_rejects_loads_as_jsonschema_judges_it(tmp_path: Path) -> None:
    """The two validators disagree on a final newline (Python's ``$`` matches before it, Rust's
    does not): jsonschema has the last word, and the file loads with its examples' lines
    (it crashed with a KeyError when only the fast gate's "valid" recorded them)."""
    (tmp_path / "probe.yaml").write_text(
        "id: probe\n"
        "title: Probe\n"
        "severity: {base: low}\n"
        "languages: [en]\n"
        'tags: ["unrest\\n"]\n'
        "terms:\n"
        "  probe:\n"
        "    en: [quokka stampede]\n"
        "match:\n"
        "  - any: [probe]\n"
        "tests:\n"
        "  match:\n"
        "    - {lang: en, text: A quokka stampede.}\n"
    )
    data = yaml.safe_load((tmp_path / "probe.yaml").read_text())
    assert not _FAST_VALIDATOR.is_valid(data) and not list(_VALIDATOR.iter_errors(data))
    (rule,) = load_ruleset(tmp_path, cache_dir=None).rules
    assert rule.tags == ("unrest\n",)
    assert [example.line for example in rule.should_match] == [13]


FOREIGN_ACTOR = """\
id: rule
title: test rule
severity: {base: low}
languages: [en]
terms:
  a: {en: [troops]}
match:
  - all: [a]
    facts: {foreign_actor: VALUE}
"""


@pytest.mark.parametrize(
    ("value", "loaded"),
    [
        pytest.param("sentence", "sentence", id="sentence"),
        pytest.param("true", True, id="true"),
        pytest.param("false", False, id="false"),
    ],
)
def test_foreign_actor_values_load_into_the_model(
    tmp_path: Path, value: str, loaded: object
) -> None:
    """`foreign_actor` takes true, false or "sentence", and the clause describes which."""
    (tmp_path / "rule.yaml").write_text(FOREIGN_ACTOR.replace("VALUE", value), encoding="utf-8")
    clause = load_ruleset(tmp_path, cache_dir=None).rules[0].clauses[0]
    assert clause.facts is not None and clause.facts.foreign_actor == loaded
    assert ("matched sentence" in clause.describe()) is (loaded == "sentence")


def test_check_rejects_an_unknown_foreign_actor_value_at_its_line(tmp_path: Path) -> None:
    """Any other value ("paragraph", 1) is a schema error at the facts' line."""
    for value in ("paragraph", "1"):
        (tmp_path / "rule.yaml").write_text(FOREIGN_ACTOR.replace("VALUE", value), encoding="utf-8")
        found = [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)]
        assert len(found) == 1 and found[0].startswith("9: $.match[0].facts.foreign_actor:"), found


SCOPED_NONE = """\
id: rule
title: test rule
severity: {base: low}
languages: [en]
terms:
  a: {en: [troops]}
  b: {en: [exercise]}
  c: {en: [years ago]}
veto:
  - any: [c]
    in: VETO_SCOPE
match:
  - all: [a]
    none:
      article: [b]
      NONE_SCOPE: [c]
  - all: [a]
    none: [b]
"""


NONE_IN = "is not one of ['article', 'lead', 'sentence']"
VETO_IN = "is not one of ['article', 'lead']"


@pytest.mark.parametrize(
    ("veto_scope", "none_scope", "expected"),
    [
        pytest.param(
            "lead",
            "paragraph",
            [f"16: $.match[0].none: 'paragraph' {NONE_IN}"],
            id="bad-none-scope-at-its-key",
        ),
        pytest.param(
            "sentence",
            "lead",
            [f"11: $.veto[0].in: 'sentence' {VETO_IN}"],
            id="veto-has-no-sentence-scope",
        ),
        pytest.param(
            "paragraph",
            "title",
            [f"11: $.veto[0].in: 'paragraph' {VETO_IN}", f"16: $.match[0].none: 'title' {NONE_IN}"],
            id="both-bad",
        ),
        pytest.param("lead", "sentence", [], id="valid"),
    ],
)
def test_check_reports_a_bad_exclusion_scope_at_its_line(
    tmp_path: Path, veto_scope: str, none_scope: str, expected: list[str]
) -> None:
    """A scope of `none` other than article, lead or sentence is reported at the line of the
    bad key (not the mapping's first one), a veto `in` other than article or lead at its own."""
    text = SCOPED_NONE.replace("VETO_SCOPE", veto_scope).replace("NONE_SCOPE", none_scope)
    (tmp_path / "rule.yaml").write_text(text, encoding="utf-8")
    assert [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)] == expected


def test_check_reports_scoped_none_groups_at_their_scope(tmp_path: Path) -> None:
    """An unknown group, and a group both required and excluded, under a scope of `none` are
    reported at that scope's line."""
    text = SCOPED_NONE.replace("VETO_SCOPE", "lead").replace(
        "NONE_SCOPE: [c]", "sentence: [c, a, zz]"
    )
    (tmp_path / "rule.yaml").write_text(text, encoding="utf-8")
    assert [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)] == [
        "16: unknown group 'zz'",
        "16: group 'a' is both required and excluded",
    ]


@pytest.mark.parametrize("scope", ["article", "lead", "sentence"])
def test_scoped_exclusions_load_into_the_model(tmp_path: Path, scope: str) -> None:
    """Each scope of `none` lands in its own field, a plain list stays the article's, and a
    veto's `in` (default article) reaches the model."""
    text = SCOPED_NONE.replace("VETO_SCOPE", "lead").replace("NONE_SCOPE: [c]", f"{scope}: [c]")
    text = text.replace("article: [b]\n", "") if scope == "article" else text
    (tmp_path / "rule.yaml").write_text(text, encoding="utf-8")
    rule = load_ruleset(tmp_path, cache_dir=None).rules[0]
    first, listed = rule.clauses[0], rule.clauses[1]
    scoped = {"article": first.none, "lead": first.none_lead, "sentence": first.none_sentence}
    assert scoped[scope] == ("c",)
    assert first.excluded() == (
        {"article": ("c",)} if scope == "article" else {"article": ("b",), scope: ("c",)}
    )
    assert (listed.none, listed.none_lead, listed.none_sentence) == (("b",), (), ())
    assert [v.within for v in rule.vetoes] == ["lead"]


def test_scare_quotes_must_name_groups_of_the_rule(tmp_path: Path) -> None:
    """`scare_quotes` lists groups of `terms`: an unknown one is reported at its line, and a
    valid list loads into the rule."""
    body = (
        "id: rule\ntitle: test rule\nseverity: {base: low}\nlanguages: [en]\n"
        "terms:\n  coup: {en: [coup]}\nscare_quotes: [coup, putsch]\nmatch:\n  - any: [coup]\n"
    )
    (tmp_path / "rule.yaml").write_text(body, encoding="utf-8")
    found = [f"{e.line}: {e.message}" for e in check(tmp_path, cache_dir=None)]
    assert found == ["7: unknown group 'putsch'"]
    (tmp_path / "rule.yaml").write_text(body.replace(", putsch", ""), encoding="utf-8")
    assert load_ruleset(tmp_path).rules[0].scare_quotes == ("coup",)
