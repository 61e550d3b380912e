"""Evaluation set loading: tests/data/eval/*.yaml → EvalDocs, errors naming file and line.

One file per language (`id.yaml`, `en.yaml`, `vi.yaml`), each a mapping with a
`documents:` list; the labelling rules are in tests/data/eval/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import compose_yaml
from bot.errors import ConfigError
from bot.evaluation.scoring import EvalDoc

DOC_FIELDS = ("id", "language", "title", "lead", "text", "relevant", "partners", "themes")
REQUIRED_FIELDS = ("id", "language", "title", "text", "relevant")


def load_eval_set(directory: Path) -> list[EvalDoc]:
    """Read every `*.yaml` file of the evaluation set, in file-name order."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError("no evaluation files (*.yaml)", path=str(directory))
    docs: list[EvalDoc] = []
    first_seen: dict[str, str] = {}
    for path in files:
        for doc in _read_file(path):
            if doc.id in first_seen:
                message = f"duplicate document id `{doc.id}` (first at {first_seen[doc.id]})"
                raise ConfigError(message, path=doc.path, line=doc.line, field="id")
            first_seen[doc.id] = f"{doc.path}:{doc.line}"
            docs.append(doc)
    return docs


def _read_file(path: Path) -> list[EvalDoc]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(path)) from exc
    root = compose_yaml(text, str(path))
    reader = _DocReader(str(path), language=path.stem)
    return reader.documents(root)


class _DocReader:
    """Turns one file's YAML node tree into EvalDocs, keeping line numbers for messages."""

    def __init__(self, path: str, language: str) -> None:
        self.path = path
        self.language = language

    def fail(self, message: str, node: yaml.Node, field_name: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.path, line=_line(node), field=field_name)

    def documents(self, root: yaml.Node | None) -> list[EvalDoc]:
        items = None
        if isinstance(root, yaml.MappingNode):
            items = next((v for k, v in root.value if k.value == "documents"), None)
        if not isinstance(items, yaml.SequenceNode):
            raise ConfigError("expected a mapping with a `documents:` list", path=self.path, line=1)
        return [self.document(item) for item in items.value]

    def document(self, item: yaml.Node) -> EvalDoc:
        if not isinstance(item, yaml.MappingNode):
            raise self.fail("each document must be a mapping", item, "documents")
        fields: dict[str, yaml.Node] = {}
        for key, value in item.value:
            if key.value not in DOC_FIELDS:
                raise self.fail(f"unknown field `{key.value}`", key, str(key.value))
            fields[str(key.value)] = value
        for name in REQUIRED_FIELDS:
            if name not in fields:
                raise self.fail(f"missing `{name}`", item, name)
        language = self.string(fields["language"], "language")
        if language != self.language:
            message = f"language `{language}` in the `{self.language}` file"
            raise self.fail(message, fields["language"], "language")
        lead = fields.get("lead")
        doc = EvalDoc(
            id=self.string(fields["id"], "id"),
            language=language,
            title=self.string(fields["title"], "title"),
            lead=None if lead is None else self.optional_string(lead, "lead"),
            text=self.string(fields["text"], "text"),
            relevant=self.flag(fields["relevant"], "relevant"),
            partners=self.ids(fields.get("partners"), "partner"),
            themes=self.ids(fields.get("themes"), "theme"),
            path=self.path,
            line=_line(item),
        )
        if not doc.relevant and (doc.partners or doc.themes):
            raise self.fail("an irrelevant document takes `partners: []` and `themes: []`", item)
        return doc

    def value(self, node: yaml.Node) -> Any:
        return yaml.SafeLoader("").construct_object(node, deep=True)

    def string(self, node: yaml.Node, name: str) -> str:
        value = self.value(node)
        if not isinstance(value, str) or not value.strip():
            raise self.fail("expected a non-empty string", node, name)
        return value.strip()

    def optional_string(self, node: yaml.Node, name: str) -> str | None:
        value = self.value(node)
        if value is not None and not isinstance(value, str):
            raise self.fail("expected a string or null", node, name)
        return value.strip() or None if value else None

    def flag(self, node: yaml.Node, name: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {node.value!r}", node, name)
        return value

    def ids(self, node: yaml.Node | None, facet: str) -> tuple[str, ...]:
        name = f"{facet}s"
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(f"expected a list of `{facet}/…` ids", node, name)
        ids: list[str] = []
        for item in node.value:
            tag_id = self.string(item, name)
            slug = tag_id.removeprefix(f"{facet}/")
            if slug == tag_id or not slug or not all(c.isalnum() or c == "-" for c in slug):
                raise self.fail(f"`{tag_id}` is not a `{facet}/slug` id", item, name)
            if tag_id in ids:
                raise self.fail(f"`{tag_id}` is listed twice", item, name)
            ids.append(tag_id)
        return tuple(ids)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
