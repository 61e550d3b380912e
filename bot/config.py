"""Configuration files: sources.yaml → validated `Source` values.

Every mistake is reported as a `ConfigError` naming the file, the line and the
field, so an operator can fix it without reading a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from cssselect import GenericTranslator, SelectorError

from bot.errors import ConfigError
from bot.models import SOURCE_KINDS, Source, SourceKind

MIN_POLL_INTERVAL_S = 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FIELDS = (
    "name",
    "url",
    "kind",
    "language",
    "poll_interval",
    "include",
    "exclude",
    "link_selector",
    "link_pattern",
    "max_items",
    "fetch_articles",
    "enabled",
)
REQUIRED = ("name", "url", "kind", "language")


def load_sources(path: Path) -> tuple[Source, ...]:
    """Read and validate a sources file; raise ConfigError naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sources file: {exc.strerror}", path=str(path)) from exc
    return parse_sources(text, str(path))


def parse_sources(text: str, path: str = "sources.yaml") -> tuple[Source, ...]:
    """Validate the YAML text of a sources file."""
    root = compose_yaml(text, path)
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise ConfigError("expected a mapping with a `sources:` list", path=path, line=line)
    top = _mapping(root)
    _reject_unknown(top, ("sources", "defaults"), path, "")
    defaults = _defaults(top.get("defaults"), path)
    entries = top.get("sources")
    if entries is None or not isinstance(entries[1], yaml.SequenceNode):
        line = entries[1].start_mark.line + 1 if entries else 1
        raise ConfigError("expected a `sources:` list", path=path, line=line, field="sources")
    sources = tuple(_source(node, defaults, path) for node in entries[1].value)
    _check_unique(sources, entries[1].value, path)
    return sources


def compose_yaml(text: str, path: str) -> yaml.Node | None:
    """The YAML node tree of `text` (line numbers kept); bad YAML is a ConfigError."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML: {problem}", path=path, line=line) from exc


Entry = tuple[yaml.Node, yaml.Node]  # (key node, value node)


def _mapping(node: yaml.MappingNode) -> dict[str, Entry]:
    return {str(key.value): (key, value) for key, value in node.value}


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _reject_unknown(
    fields: dict[str, Entry], known: tuple[str, ...], path: str, where: str
) -> None:
    for name, (key, _) in fields.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            message = f"unknown field `{name}`{where}{hint}"
            raise ConfigError(message, path=path, line=_line(key), field=name)


def _defaults(entry: Entry | None, path: str) -> dict[str, Entry]:
    if entry is None:
        return {}
    if not isinstance(entry[1], yaml.MappingNode):
        raise ConfigError("expected a mapping", path=path, line=_line(entry[1]), field="defaults")
    fields = _mapping(entry[1])
    allowed = tuple(f for f in FIELDS if f not in ("name", "url"))
    _reject_unknown(fields, allowed, path, " in defaults")
    return fields


def _source(node: yaml.Node, defaults: dict[str, Entry], path: str) -> Source:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError("each source must be a mapping", path=path, line=_line(node))
    own = _mapping(node)
    label = f" in source `{own['name'][1].value}`" if "name" in own else ""
    _reject_unknown(own, FIELDS, path, label)
    fields = {**defaults, **own}
    for name in REQUIRED:
        if name not in fields:
            raise ConfigError(
                f"missing required field `{name}`", path=path, line=_line(node), field=name
            )
    values: dict[str, Any] = {}
    for name, (_, value) in fields.items():
        values[name] = _FIELD_PARSERS[name](_scalar_or_list(value, name, path), value, path)
    interval = values.pop("poll_interval", None)
    if interval is not None:
        values["poll_interval_s"] = interval
    return Source(**values)


def _scalar_or_list(node: yaml.Node, field: str, path: str) -> object:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise ConfigError(str(exc), path=path, line=_line(node), field=field) from exc


def _fail(message: str, node: yaml.Node, path: str, field: str) -> ConfigError:
    return ConfigError(message, path=path, line=_line(node), field=field)


def _text(field: str) -> Callable[[object, yaml.Node, str], str]:
    def parse(value: object, node: yaml.Node, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _fail("expected a non-empty string", node, path, field)
        return value.strip()

    return parse


def _name(value: object, node: yaml.Node, path: str) -> str:
    text = _text("name")(value, node, path)
    if not _NAME.match(text):
        message = f"`{text}` is not a valid name: use lower-case letters, digits, '.', '_', '-'"
        raise _fail(message, node, path, "name")
    return text


def _url(value: object, node: yaml.Node, path: str) -> str:
    text = _text("url")(value, node, path)
    if not re.match(r"^https?://[^/\s]+", text):
        raise _fail(f"`{text}` is not an http(s) URL", node, path, "url")
    return text


def _kind(value: object, node: yaml.Node, path: str) -> SourceKind:
    if value not in SOURCE_KINDS:
        raise _fail(f"expected one of {', '.join(SOURCE_KINDS)}, got {value!r}", node, path, "kind")
    return value


def _language(value: object, node: yaml.Node, path: str) -> str:
    text = _text("language")(value, node, path).lower()
    if not _LANGUAGE.match(text):
        raise _fail(
            f"expected an ISO 639-1 code such as vi, en, id; got {value!r}", node, path, "language"
        )
    return text


def _interval(value: object, node: yaml.Node, path: str) -> int:
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = int(match.group(1)) * _UNITS_S[match.group(2) or "s"]
    if seconds is None:
        raise _fail(
            f"expected seconds or a duration such as 15m, got {value!r}",
            node,
            path,
            "poll_interval",
        )
    if seconds < MIN_POLL_INTERVAL_S:
        message = f"{seconds} s is too often; the minimum is {MIN_POLL_INTERVAL_S} s"
        raise _fail(message, node, path, "poll_interval")
    return seconds


def _patterns(field: str) -> Callable[[object, yaml.Node, str], tuple[str, ...]]:
    def parse(value: object, node: yaml.Node, path: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise _fail("expected a regular expression or a list of them", node, path, field)
        for item in items:
            _compile(item, node, path, field)
        return tuple(items)

    return parse


def _compile(pattern: str, node: yaml.Node, path: str, field: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _fail(f"invalid regular expression {pattern!r}: {exc}", node, path, field) from exc


def _selector(value: object, node: yaml.Node, path: str) -> str:
    text = _text("link_selector")(value, node, path)
    try:
        GenericTranslator().css_to_xpath(text)
    except SelectorError as exc:
        raise _fail(f"invalid CSS selector {text!r}: {exc}", node, path, "link_selector") from exc
    return text


def _pattern(value: object, node: yaml.Node, path: str) -> str:
    text = _text("link_pattern")(value, node, path)
    _compile(text, node, path, "link_pattern")
    return text


def _max_items(value: object, node: yaml.Node, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise _fail(
            f"expected a whole number from 1 to 1000, got {value!r}", node, path, "max_items"
        )
    return value


def _flag(field: str) -> Callable[[object, yaml.Node, str], bool]:
    def parse(value: object, node: yaml.Node, path: str) -> bool:
        if not isinstance(value, bool):
            raise _fail(f"expected true or false, got {value!r}", node, path, field)
        return value

    return parse


_FIELD_PARSERS: dict[str, Callable[[object, yaml.Node, str], Any]] = {
    "name": _name,
    "url": _url,
    "kind": _kind,
    "language": _language,
    "poll_interval": _interval,
    "include": _patterns("include"),
    "exclude": _patterns("exclude"),
    "link_selector": _selector,
    "link_pattern": _pattern,
    "max_items": _max_items,
    "fetch_articles": _flag("fetch_articles"),
    "enabled": _flag("enabled"),
}


def _check_unique(sources: tuple[Source, ...], nodes: list[yaml.Node], path: str) -> None:
    seen: dict[str, int] = {}
    for source, node in zip(sources, nodes, strict=True):
        if source.name in seen:
            message = f"duplicate source name `{source.name}` (first on line {seen[source.name]})"
            raise ConfigError(message, path=path, line=_line(node), field="name")
        seen[source.name] = _line(node)
