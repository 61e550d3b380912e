"""The taxonomy: seeds/taxonomy.yaml → a validated, frozen `Taxonomy`.

Nodes have ids `facet/slug`, labels in Indonesian, English and Vietnamese, and
aliases per language (plain strings or mappings with flags for ambiguous names).
A `relevance` section lists the words that speak of Vietnam itself, of foreign
relations, and of unrelated news, for the tagger's relevance decision. Every
mistake is a `ConfigError` naming the file, line, node and field. This module also
defines the matching keys (case and diacritic folding) shared with the tagger.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.config import compose_yaml
from bot.errors import ConfigError

FACETS = ("theme", "partner", "org", "event", "place")
LANGUAGES = ("id", "en", "vi")
RELEVANCE_GROUPS = ("home", "cues", "off_topic")
RELEVANCE_FIELDS = (*RELEVANCE_GROUPS, "signals")
MIN_FOLD_LETTERS = 6  # shorter aliases match only with their own diacritics unless told
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BLOC = re.compile(r"^[a-z][a-z0-9-]{2,}$")
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SPACE = re.compile(r"\s+")
_ISO_CODES = """
ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm bn bo
bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk
dm do dz ec ee eg eh er es et fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr
gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km
kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp
mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl
pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st
sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug um us uy uz va vc ve vg
vi vn vu wf ws ye yt za zm zw"""
# EU and UN are exceptionally reserved alpha-2 codes, and the blocs' short names too.
_ISO_ALPHA2 = frozenset(_ISO_CODES.split()) | {"eu", "un"}


def _fold_char(char: str) -> str:
    if char.isspace():
        return " "
    if char in _DASHES:
        return "-"
    decomposed = unicodedata.normalize("NFD", char.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare).replace("đ", "d").replace("ł", "l")


class _FoldTable(dict[int, str]):
    """A `str.translate` table that folds each character on first sight and remembers it."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


FOLD_TABLE = _FoldTable()


def clean(text: str) -> str:
    """NFC with runs of white space collapsed to one space (newlines kept)."""
    nfc = unicodedata.normalize("NFC", text)
    return _SPACE.sub(lambda m: "\n" if "\n" in m.group() else " ", nfc).strip()


def fold(text: str) -> str:
    """The diacritic- and case-insensitive matching key of a phrase."""
    return clean(text).translate(FOLD_TABLE).replace("\n", " ")


def exact(text: str) -> str:
    """The case-insensitive but diacritic-exact form of a phrase."""
    return clean(text).casefold().replace("\n", " ")


@dataclass(frozen=True, slots=True)
class Labels:
    """A node's name in each language Duta speaks."""

    id: str
    en: str
    vi: str

    def get(self, language: str) -> str:
        """The label in `language`, English when Duta does not speak it."""
        return {"id": self.id, "en": self.en, "vi": self.vi}.get(language, self.en)


@dataclass(frozen=True, slots=True)
class Alias:
    """One way a node is written, with the rules that keep ambiguous names quiet."""

    text: str  # NFC, as written in the taxonomy
    language: str
    case_sensitive: bool = False
    fold: bool = True  # also match the text written without diacritics
    requires_context: tuple[str, ...] = ()  # one of these must stand next to the match
    forbids_context: tuple[str, ...] = ()  # none of these may stand next to the match
    context_window: int = 2  # words either side where context counts
    language_only: bool = False  # counts only in documents of its own language
    shared: bool = False  # may also be an alias of another node
    weight: float = 1.0
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class TaxonomyNode:
    """One tag a document can get."""

    id: str
    label: Labels
    aliases: tuple[Alias, ...]
    seeds: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)

    @property
    def facet(self) -> str:
        """The part of the id before the slash."""
        return self.id.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Relevance:
    """Words behind the relevance decision; they never become tags."""

    home: tuple[Alias, ...]  # Vietnam itself
    cues: tuple[Alias, ...]  # the vocabulary of foreign relations
    off_topic: tuple[Alias, ...]  # sports results, weather, crime, markets, celebrities
    signals: tuple[str, ...] = ()  # facets and node ids whose tags also speak of relations


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """All nodes, in file order, and the relevance vocabulary."""

    nodes: tuple[TaxonomyNode, ...]
    relevance: Relevance
    path: str | None = field(default=None, compare=False)

    def node(self, node_id: str) -> TaxonomyNode:
        """The node with this id; KeyError when there is none."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def ids(self) -> tuple[str, ...]:
        """Every node id in file order."""
        return tuple(node.id for node in self.nodes)


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and validate a taxonomy file; raise ConfigError naming line, node and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read taxonomy: {exc.strerror}", path=str(path)) from exc
    return parse_taxonomy(text, str(path))


def parse_taxonomy(text: str, path: str = "taxonomy.yaml") -> Taxonomy:
    """Validate the YAML text of a taxonomy."""
    taxonomy = _Reader(path).read(text)
    validate(taxonomy)
    return taxonomy


def validate(taxonomy: Taxonomy) -> None:
    """Check ids, labels and aliases across nodes; raise the first problem found."""
    path = taxonomy.path
    seen: dict[str, TaxonomyNode] = {}
    for node in taxonomy.nodes:
        _check_id(node, path)
        if node.id in seen:
            message = f"duplicate id `{node.id}` (first on line {seen[node.id].line})"
            raise ConfigError(message, path=path, line=node.line, field="id")
        seen[node.id] = node
    _check_alias_owners(taxonomy.nodes, path)


def _check_id(node: TaxonomyNode, path: str | None) -> None:
    facet, _, slug = node.id.partition("/")
    if facet not in FACETS or not _SLUG.match(slug):
        message = f"`{node.id}` is not `facet/slug` with a facet among {', '.join(FACETS)}"
        raise ConfigError(message, path=path, line=node.line, field="id")
    if facet != "partner":
        return
    if slug == "vn":
        message = "Vietnam is not its own partner; list it under relevance.home"
        raise ConfigError(message, path=path, line=node.line, field="id")
    if len(slug) == 2 and slug not in _ISO_ALPHA2:
        message = f"`{node.id}`: `{slug}` is not an ISO 3166-1 alpha-2 country code"
        raise ConfigError(message, path=path, line=node.line, field="id")
    if len(slug) != 2 and not _BLOC.match(slug):
        message = f"`{node.id}`: use an ISO country code or a bloc's short name such as `eu`"
        raise ConfigError(message, path=path, line=node.line, field="id")


def _check_alias_owners(nodes: tuple[TaxonomyNode, ...], path: str | None) -> None:
    owners: dict[str, list[tuple[TaxonomyNode, Alias]]] = {}
    for node in nodes:
        for alias in node.aliases:
            claimed = owners.setdefault(fold(alias.text), [])
            for other_node, other in claimed:
                if other_node.id == node.id or not _may_collide(alias, other):
                    continue
                if not (alias.shared and other.shared):
                    message = (
                        f"alias `{alias.text}` of `{node.id}` is also an alias of "
                        f"`{other_node.id}` (line {other.line}); mark both `shared: true`"
                    )
                    field_name = f"{node.id}.aliases.{alias.language}"
                    raise ConfigError(message, path=path, line=alias.line, field=field_name)
            claimed.append((node, alias))


def _may_collide(one: Alias, other: Alias) -> bool:
    """Whether two aliases with the same folded key can match the same words."""
    if one.fold or other.fold:
        return True
    if one.case_sensitive and other.case_sensitive:
        return clean(one.text) == clean(other.text)
    return exact(one.text) == exact(other.text)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


Entry = tuple[yaml.Node, yaml.Node]
NODE_FIELDS = ("id", "label", "aliases", "seeds")
ALIAS_FIELDS = (
    "text",
    "case_sensitive",
    "fold",
    "requires_context",
    "forbids_context",
    "context_window",
    "language_only",
    "shared",
    "weight",
)
_FLAGS = ("case_sensitive", "fold", "language_only", "shared")


class _Reader:
    """Turns the YAML node tree into dataclasses, keeping line numbers for messages."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str, node: yaml.Node, field_name: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.path, line=_line(node), field=field_name)

    def read(self, text: str) -> Taxonomy:
        root = compose_yaml(text, self.path)
        if not isinstance(root, yaml.MappingNode):
            raise ConfigError("expected a mapping with a `nodes:` list", path=self.path, line=1)
        top = self.mapping(root, ("version", "contexts", "relevance", "nodes"), "")
        if "version" in top and top["version"][1].value != "1":
            raise self.fail("unsupported version; expected 1", top["version"][1], "version")
        if "contexts" in top:
            for name, (_, words) in self.mapping(top["contexts"][1], None, "").items():
                self.strings(words, f"contexts.{name}")
        if "nodes" not in top or not isinstance(top["nodes"][1], yaml.SequenceNode):
            raise self.fail("expected a `nodes:` list", root, "nodes")
        if "relevance" not in top:
            raise self.fail("missing the `relevance:` section", root, "relevance")
        nodes = tuple(self.node(item) for item in top["nodes"][1].value)
        relevance = self.relevance(top["relevance"][1], {node.id for node in nodes})
        return Taxonomy(nodes=nodes, relevance=relevance, path=self.path)

    def mapping(
        self, node: yaml.Node, known: tuple[str, ...] | None, where: str
    ) -> dict[str, Entry]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(f"expected a mapping{where}", node)
        fields = {str(key.value): (key, value) for key, value in node.value}
        for name, (key, _) in fields.items():
            if known is not None and name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise self.fail(f"unknown field `{name}`{where}{hint}", key, name)
        return fields

    def scalar(self, node: yaml.Node, field_name: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail("expected a non-empty string", node, field_name)
        return clean(str(node.value))

    def strings(self, node: yaml.Node, field_name: str) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", None):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("expected a list of strings", node, field_name)
        return tuple(self.scalar(item, field_name) for item in node.value)

    def node(self, item: yaml.Node) -> TaxonomyNode:
        if not isinstance(item, yaml.MappingNode):
            raise self.fail("each node must be a mapping", item, "nodes")
        raw_id = {str(k.value): v for k, v in item.value}.get("id")
        node_id = str(raw_id.value) if isinstance(raw_id, yaml.ScalarNode) else "?"
        fields = self.mapping(item, NODE_FIELDS, f" in node `{node_id}`")
        for required in ("id", "label", "aliases"):
            if required not in fields:
                raise self.fail(f"node `{node_id}` has no `{required}`", item, required)
        node_id = self.scalar(fields["id"][1], "id")
        seeds = self.strings(fields["seeds"][1], f"{node_id}.seeds") if "seeds" in fields else ()
        return TaxonomyNode(
            id=node_id,
            label=self.labels(fields["label"][1], node_id),
            aliases=self.aliases(fields["aliases"][1], node_id),
            seeds=seeds,
            line=_line(item),
        )

    def labels(self, node: yaml.Node, node_id: str) -> Labels:
        fields = self.mapping(node, LANGUAGES, f" in the label of `{node_id}`")
        values: dict[str, str] = {}
        for language in LANGUAGES:
            if language not in fields:
                message = f"node `{node_id}` has no label in `{language}`"
                raise self.fail(message, node, f"{node_id}.label.{language}")
            values[language] = self.scalar(fields[language][1], f"{node_id}.label.{language}")
        return Labels(**values)

    def aliases(self, node: yaml.Node, owner: str) -> tuple[Alias, ...]:
        fields = self.mapping(node, LANGUAGES, f" in the aliases of `{owner}`")
        for language in LANGUAGES:
            if language not in fields or not getattr(fields[language][1], "value", None):
                message = f"`{owner}` has no aliases in `{language}`"
                raise self.fail(message, node, f"{owner}.aliases.{language}")
        found: list[Alias] = []
        for language, (_, value) in fields.items():
            where = f"{owner}.aliases.{language}"
            if not isinstance(value, yaml.SequenceNode):
                raise self.fail("expected a list of aliases", value, where)
            found.extend(self.alias(item, language, where) for item in value.value)
        return tuple(found)

    def alias(self, item: yaml.Node, language: str, where: str) -> Alias:
        if isinstance(item, yaml.ScalarNode):
            text = self.alias_text(item, where)
            return Alias(text=text, language=language, fold=_foldable(text), line=_line(item))
        fields = self.mapping(item, ALIAS_FIELDS, f" in {where}")
        if "text" not in fields:
            raise self.fail("an alias mapping needs `text`", item, where)
        text = self.alias_text(fields["text"][1], where)
        flags = {f: self.flag(fields[f][1], f"{where}.{f}") for f in _FLAGS if f in fields}
        case_sensitive = flags.get("case_sensitive", False)
        contexts = {
            name: self.strings(fields[name][1], f"{where}.{name}") if name in fields else ()
            for name in ("requires_context", "forbids_context")
        }
        window = fields.get("context_window")
        weight = fields.get("weight")
        return Alias(
            text=text,
            language=language,
            case_sensitive=case_sensitive,
            fold=flags.get("fold", _foldable(text) and not case_sensitive),
            requires_context=contexts["requires_context"],
            forbids_context=contexts["forbids_context"],
            context_window=int(self.number(window[1], where)) if window else 2,
            language_only=flags.get("language_only", False),
            shared=flags.get("shared", False),
            weight=self.number(weight[1], where) if weight else 1.0,
            line=_line(item),
        )

    def alias_text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not fold(str(node.value or "")).strip(" -"):
            raise self.fail("empty alias", node, where)
        return clean(str(node.value))

    def flag(self, node: yaml.Node, where: str) -> bool:
        value = yaml.SafeLoader("").construct_object(node)
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {node.value!r}", node, where)
        return value

    def number(self, node: yaml.Node, where: str) -> float:
        value = yaml.SafeLoader("").construct_object(node)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(f"expected a positive number, got {node.value!r}", node, where)
        return float(value)

    def relevance(self, node: yaml.Node, ids: set[str]) -> Relevance:
        fields = self.mapping(node, RELEVANCE_FIELDS, " in `relevance`")
        groups: dict[str, tuple[Alias, ...]] = {}
        for group in RELEVANCE_GROUPS:
            if group not in fields:
                raise self.fail(f"`relevance` has no `{group}`", node, f"relevance.{group}")
            groups[group] = self.aliases(fields[group][1], f"relevance.{group}")
        signals: tuple[str, ...] = ()
        if "signals" in fields:
            signals = self.strings(fields["signals"][1], "relevance.signals")
            for item, entry in zip(signals, fields["signals"][1].value, strict=True):
                if item not in FACETS and item not in ids:
                    message = f"`{item}` is neither a facet nor a node id"
                    raise self.fail(message, entry, "relevance.signals")
        return Relevance(
            home=groups["home"],
            cues=groups["cues"],
            off_topic=groups["off_topic"],
            signals=signals,
        )


def _foldable(text: str) -> bool:
    """Long aliases are safe to match without diacritics; short ones collide with words."""
    return sum(c.isalpha() for c in fold(text)) >= MIN_FOLD_LETTERS
