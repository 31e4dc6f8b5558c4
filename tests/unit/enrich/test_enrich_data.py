from __future__ import annotations

from pathlib import Path

import pytest

from monitor.enrich import Enricher
from monitor.enrich.data import merge
from monitor.errors import ConfigError
from monitor.text import analyse


@pytest.mark.parametrize(
    ("base", "extra", "merged"),
    [
        pytest.param({"a": [1, 2]}, {"a": [2, 3]}, {"a": [1, 2, 3]}, id="lists-extend"),
        pytest.param({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}, {"a": {"b": 1, "c": 3}}, id="dicts"),
        pytest.param({"a": "x"}, {"b": "y"}, {"a": "x", "b": "y"}, id="new-keys"),
    ],
)  # fmt: skip
def test_merge(base: object, extra: object, merged: object) -> None:
    assert merge(base, extra) == merged


def test_extra_data_dir_adds_an_organisation(tmp_path: Path) -> None:
    (tmp_path / "organisations.yaml").write_text(
        "organisations:\n  ECCAS:\n    name: Economic Community of Central African States\n"
        "    aliases: [ECCAS, CEEAC]\n  NATO:\n    aliases: [Alliance atlantique]\n",
        encoding="utf-8",
    )
    enricher = Enricher.load(["fr"], extra_data_dir=tmp_path)
    doc = analyse("La CEEAC et l'Alliance atlantique.", "fr")
    assert enricher.analyse(doc).organisation_keys == {"ECCAS", "NATO"}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("countries.yaml", "forms:\n  QQ:\n    fr: [qq]\n", id="unknown-iso-code"),
        pytest.param("countries.yaml", "forms:\n  RU:\n    fr: [ru*]\n", id="short-stem"),
        pytest.param("organisations.yaml", "organisations: [1, 2\n", id="bad-yaml"),
    ],
)
def test_bad_extra_data_is_a_config_error(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError):
        Enricher.load(["fr"], extra_data_dir=tmp_path)
