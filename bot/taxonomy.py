"""The taxonomy: seeds/taxonomy.yaml → a validated, frozen `Taxonomy`.

Nodes have ids `facet/slug`, labels in Indonesian, English and Vietnamese, and
aliases per language (plain strings or mappings with flags for ambiguous names).
A `relevance` section lists the words that speak of Vietnam itself, of foreign
relations, and of unrelated news, for the tagger's relevance decision. Every
mistake is a `ConfigError` naming the file, line, node and field. This module also
defines the matching keys (case and diacritic folding) shared with the tagger, and
`scan_form`, a text as the tagger's scan reads it (folded, with word boundaries marked),
fast for the characters nearly every document is written in.
"""

from __future__ import annotations

import codecs
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.config import compose_yaml
from bot.errors import ConfigError

if TYPE_CHECKING:
    from _codecs import _EncodingMap  # what codecs.charmap_build gives

FACETS = ("theme", "partner", "org", "event", "place")
LANGUAGES = ("id", "en", "vi")
RELEVANCE_GROUPS = ("home", "cues", "off_topic")
RELEVANCE_FIELDS = (*RELEVANCE_GROUPS, "signals")
MIN_FOLD_LETTERS = 6  # shorter aliases match only with their own diacritics unless told
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BLOC = re.compile(r"^[a-z][a-z0-9-]{2,}$")
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
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


_OWN_FOLDS = "đł"  # letters `_fold_char` replaces, which Unicode does not decompose


class _FoldTable(dict[int, str]):
    """A `str.translate` table that folds each character on first sight and remembers it."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


FOLD_TABLE = _FoldTable()
BMP_SIZE = 0x10000
PUNCTUATION = "\x1f"  # how the scan reads a character that is no letter, digit or space
_IRREGULAR = "\0"  # marks a character whose fold is not one character
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _scan_char(folded: str) -> str:
    """How the tagger's scan reads a folded character: letters, digits and the space (all
    white space folds to it) as they are, anything else as PUNCTUATION."""
    return folded if folded.isalnum() or folded == " " else PUNCTUATION


class _ScanTable(dict[int, str]):
    """A `str.translate` table from folded characters to `_scan_char`."""

    def __missing__(self, code: int) -> str:
        value = _scan_char(chr(code))
        self[code] = value
        return value


SCAN_TABLE = _ScanTable()


def _folds_by_case_alone(char: str, folded: str) -> bool:
    """Whether case folding gives the whole fold (it does for most characters, faster)."""
    if len(folded) != 1 or char.isspace() or char in _DASHES or folded in _OWN_FOLDS:
        return False
    return not unicodedata.combining(folded) and unicodedata.normalize("NFD", folded) == folded


def _scan_char_of(char: str) -> str:
    folded = char.casefold()
    if not _folds_by_case_alone(char, folded):
        folded = _fold_char(char)
    return _scan_char(folded) if len(folded) == 1 else _IRREGULAR


@cache
def _bmp_scan_table() -> list[str]:
    """`_scan_char` of the fold of every character of the Basic Multilingual Plane.

    A list, not a dict: `str.translate` reads it about twice as fast.
    """
    return [_scan_char_of(chr(code)) for code in range(BMP_SIZE)]


# The characters of nearly every document Duta reads: printable ASCII, the newline, the
# Vietnamese alphabet in both cases, the usual punctuation beyond ASCII and the letters
# of the foreign names most often met. Within 256 of them, a document is read through a
# charmap codec, many times faster than `str.translate`; others take the general road.
_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_VIETNAMESE = "đ" + "".join(
    unicodedata.normalize("NFC", vowel + tone) for vowel in _VOWELS for tone in _TONES
)
_COMMON = "“”‘’–—…•«»°×äöüñçëïîûÄÖÜ"


@cache
def _charmap() -> tuple[dict[int, int] | _EncodingMap, bytes]:
    """A codec map from each common character to a byte of its own, and a table from
    that byte to how the scan reads the character."""
    # U+0000 first: only then does charmap_build give its fast map rather than a dict
    chars = "\0\n" + "".join(map(chr, range(0x20, 0x7F))) + _VIETNAMESE.upper()
    chars += "".join(char for char in _VIETNAMESE + _COMMON if not char.isascii())
    chars = "".join(dict.fromkeys(chars))  # once each, in order
    reads = "".join(_scan_char_of(char) for char in chars)
    if len(chars) > 256 or not reads.isascii():
        raise AssertionError("the common characters must fit one byte each and read as ASCII")
    table = chars.ljust(256, "\ufffe")  # U+FFFE: a byte no character maps to
    return codecs.charmap_build(table), reads.ljust(256, _IRREGULAR).encode("ascii")


@lru_cache(maxsize=4)  # clean() and then scan_form() ask about the same text
def _common_bytes(text: str) -> bytes | None:
    """A byte for each character of `text`, or None when some is not a common one."""
    try:
        return codecs.charmap_encode(text, "strict", _charmap()[0])[0]
    except UnicodeEncodeError:
        return None


def scan_form(text: str) -> str | None:
    """`text` as the tagger's scan reads it, one character for each of `text`: `fold`ed,
    then `_scan_char`; None when folding gives some character another length, or some
    character lies beyond the Basic Multilingual Plane (a slower road takes those)."""
    coded = _common_bytes(text)
    if coded is not None:
        return coded.translate(_charmap()[1]).decode("ascii")
    form = text.translate(_bmp_scan_table())  # a rarer character: all have an entry here
    if _IRREGULAR in form or (not form.isascii() and _ASTRAL.search(text)):
        return None  # a fold of another length, or characters the table does not cover
    return form


_ODD_SPACE = re.compile(r"[^\S \n]")  # white space other than the space and the newline


def clean(text: str) -> str:
    """NFC with runs of white space collapsed to one space (newlines kept)."""
    nfc = unicodedata.normalize("NFC", text)
    if not _needs_cleaning(nfc):
        return nfc  # most extracted text is clean already: checking is much faster
    # split() drops a line's own white space and blank lines go: a run of white space
    # that holds a newline becomes one newline, any other run one space
    lines = (" ".join(line.split()) for line in nfc.split("\n"))
    return "\n".join(filter(None, lines))


def _needs_cleaning(text: str) -> bool:
    if text[:1].isspace() or text[-1:].isspace():
        return True
    if "  " in text or "\n\n" in text or " \n" in text or "\n " in text:
        return True
    # the space and the newline are the only white space among the common characters,
    # and encoding proves a text has no other far faster than a search
    return _common_bytes(text) is None and _ODD_SPACE.search(text) is not None


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
