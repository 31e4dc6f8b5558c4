"""Loading the enrichers' data files: the shipped ones merged with an optional user directory.

Every enricher reads one YAML file from ``monitor/data/`` (the formats are documented in
``docs/enrichment-data.md``). A user directory given as ``extra_data_dir`` may hold a file of
the same name; it is merged over the shipped one: mappings merge key by key (recursively),
lists are extended (duplicates dropped), scalars replace. Errors are ``ConfigError``: they
happen at startup and name the file. Only ``true``/``false`` are booleans (YAML 1.2), so the
Portuguese preposition ``no`` stays a word.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

DATA_PACKAGE = "monitor.data"


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. Word lists hold "no", "on" and "si" as words."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(name: str, extra_data_dir: Path | None = None) -> dict[str, Any]:
    """The data file ``name`` (``"countries.yaml"``): the shipped one merged with the user's."""
    shipped = resources.files(DATA_PACKAGE).joinpath(name)
    data = _parse(shipped.read_text(encoding="utf-8"), f"monitor/data/{name}")
    if extra_data_dir is not None:
        if not extra_data_dir.is_dir():
            raise ConfigError("extra_data_dir", f"{extra_data_dir} is not a directory")
        extra = extra_data_dir / name
        if extra.is_file():
            data = merge(data, _parse(extra.read_text(encoding="utf-8"), str(extra)))
    return data


def _parse(raw: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(origin, f"invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(origin, "expected a mapping at the top level")
    return data


def merge(base: Any, extra: Any) -> Any:
    """``extra`` over ``base``: dicts recursively, lists extended without duplicates."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for key, value in extra.items():
            out[key] = merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(extra, list):
        return base + [item for item in extra if item not in base]
    return extra


def strings(value: Any, origin: str) -> list[str]:
    """A list of strings from a YAML list or a single string; anything else is a ``ConfigError``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(origin, f"expected a string or a list of strings, got {value!r}")
