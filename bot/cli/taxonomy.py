"""`duta taxonomy show|check|suggest`: list the tags, verify them on the seeds, grow them.

`check` loads (and so validates) the taxonomy, tags every seed document in its
directory and compares the result with `expected.yaml` there, and verifies that
every seed a node cites really names it. `suggest` proposes frequent phrases of the
seed documents (or of the given files) that no alias covers yet.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ConfigError
from bot.models import Tagging
from bot.settings import Settings
from bot.tagging import Tagger, split_plain_text
from bot.taxonomy import FACETS, LANGUAGES, clean, fold, load_taxonomy

EXPECTED_FILE = "expected.yaml"
_PHRASE_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_BREAK = re.compile(r"[.!?;:|()\[\]\"“”,\n]")
# Function words of the three languages: a suggested phrase neither starts nor ends with one.
_STOPWORDS_TEXT = """
a an and are as at be by for from has have in is it its of on or that the this to was were
will with which who their they them these those not but also more than into over after
dan yang di ke dari dengan untuk pada dalam ini itu adalah juga tidak akan oleh sebagai
serta atau telah bagi para tersebut antara lebih secara sudah hingga karena bahwa tetapi
namun saat setelah sejak melalui terus banyak seperti sebuah satu dua tiga kami kita mereka
ia beliau bapak ibu menurut yaitu baik maupun agar dapat harus masih sangat hal
và của các những được trong với là cho này một có không đã sẽ để từ theo về tại khi cũng
đến như nhiều hai ba năm ngày tháng người nước đó thì mà rằng đang nên bị vào ra lại
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class Expectation:
    """What one seed document must (and must not) be tagged with."""

    seed: str
    relevant: bool | None
    must: tuple[str, ...]
    must_not: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class SeedResult:
    """How one seed fared: its tagging (when it could be tagged) and what is wrong."""

    seed: str
    tagging: Tagging | None
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A phrase that recurs in the documents but no alias covers."""

    phrase: str
    count: int
    documents: int


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `taxonomy` subcommand and its actions."""
    parser = sub.add_parser(
        "taxonomy",
        help="list, check or grow the taxonomy",
        description="List the tag ids, verify the taxonomy against the seed documents, or "
        "propose new terms from documents.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="list tag ids and labels")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=run_show)
    check = actions.add_parser("check", help="validate and verify every seed's expected tags")
    check.set_defaults(handler=run_check)
    suggest = actions.add_parser("suggest", help="propose frequent phrases no alias covers")
    suggest.add_argument("files", nargs="*", type=Path, help="text files (default: the seeds)")
    suggest.add_argument("--top", type=int, default=30, help="how many (default: 30)")
    suggest.add_argument("--min-count", type=int, default=2, help="fewest occurrences")
    suggest.set_defaults(handler=run_suggest)


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print every node id with its labels."""
    taxonomy = load_taxonomy(settings.taxonomy_path)
    if args.json:
        listed = [
            {
                "id": node.id,
                "facet": node.facet,
                "label": {language: node.label.get(language) for language in LANGUAGES},
                "aliases": len(node.aliases),
                "seeds": list(node.seeds),
            }
            for node in taxonomy.nodes
        ]
        print(json.dumps({"path": taxonomy.path, "nodes": listed}, ensure_ascii=False, indent=2))
        return 0
    width = max(len(node.id) for node in taxonomy.nodes)
    for facet in FACETS:
        nodes = [node for node in taxonomy.nodes if node.facet == facet]
        print(f"{facet} ({len(nodes)})")
        for node in nodes:
            labels = " · ".join(dict.fromkeys(node.label.get(lang) for lang in LANGUAGES))
            print(f"  {node.id:<{width}}  {labels}")
    return 0


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the taxonomy and verify it on the seeds; 1 when anything is wrong."""
    taxonomy = load_taxonomy(settings.taxonomy_path)
    counts = Counter(node.facet for node in taxonomy.nodes)
    summary = ", ".join(f"{counts[facet]} {facet}" for facet in FACETS)
    print(f"{taxonomy.path}: valid, {len(taxonomy.nodes)} nodes ({summary})")
    seeds_dir = settings.taxonomy_path.parent
    expectations = load_expectations(seeds_dir / EXPECTED_FILE, set(taxonomy.ids()))
    tagger = Tagger(taxonomy)
    problems: list[str] = []
    for result in check_seeds(tagger, seeds_dir, expectations):
        problems += [f"{result.seed}: {problem}" for problem in result.problems]
        if result.tagging is not None and not result.problems:
            verdict = "relevant" if result.tagging.relevant else "not relevant"
            score, count = result.tagging.relevance, len(result.tagging.tags)
            print(f"  ok   {result.seed}: {verdict} ({score:.2f}), {count} tags")
    problems += check_citations(tagger, seeds_dir)
    for problem in problems:
        print(f"  FAIL {problem}")
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print(f"all {len(expectations)} seeds get their expected tags; every citation holds")
    return 0


def load_expectations(path: Path, known: set[str]) -> tuple[Expectation, ...]:
    """Read expected.yaml; raise ConfigError naming the line of any mistake."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=str(path)) from exc
    seeds = _entry(root, "seeds")
    if not isinstance(seeds, yaml.MappingNode):
        raise ConfigError("expected a `seeds:` mapping", path=str(path), line=1, field="seeds")
    return tuple(
        _expectation(str(key.value), value, known, str(path)) for key, value in seeds.value
    )


def _entry(node: yaml.Node | None, name: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for key, value in node.value if key.value == name), None)


def _expectation(seed: str, node: yaml.Node, known: set[str], path: str) -> Expectation:
    line = int(node.start_mark.line) + 1
    value = yaml.SafeLoader("").construct_document(node)
    if not isinstance(value, dict) or set(value) - {"relevant", "must", "must_not"}:
        message = "expected a mapping with `relevant`, `must` and `must_not`"
        raise ConfigError(message, path=path, line=line, field=seed)
    lists: dict[str, tuple[str, ...]] = {}
    for field_name in ("must", "must_not"):
        ids = value.get(field_name) or []
        if not isinstance(ids, list):
            message = "expected a list of tag ids"
            raise ConfigError(message, path=path, line=line, field=f"{seed}.{field_name}")
        unknown = [i for i in ids if i not in known]
        if unknown:
            message = f"unknown tag ids: {', '.join(map(str, unknown))}"
            raise ConfigError(message, path=path, line=line, field=f"{seed}.{field_name}")
        lists[field_name] = tuple(ids)
    relevant = value.get("relevant")
    if relevant is not None and not isinstance(relevant, bool):
        raise ConfigError("expected true or false", path=path, line=line, field=f"{seed}.relevant")
    return Expectation(seed, relevant, lists["must"], lists["must_not"], line)


def check_seeds(
    tagger: Tagger, seeds_dir: Path, expectations: Sequence[Expectation]
) -> list[SeedResult]:
    """Tag each seed file and describe every way it differs from its expectation."""
    expected = {e.seed: e for e in expectations}
    files = {path.name: path for path in sorted(seeds_dir.glob("*.txt"))}
    results = [
        SeedResult(name, None, (f"listed in {EXPECTED_FILE} but not found in {seeds_dir}",))
        for name in sorted(set(expected) - set(files))
    ]
    for name, path in files.items():
        if name not in expected:
            results.append(SeedResult(name, None, (f"no entry in {EXPECTED_FILE}",)))
            continue
        title, text = split_plain_text(path.read_text(encoding="utf-8"))
        tagging = tagger.tag(title=title, lead=None, text=text)
        results.append(SeedResult(name, tagging, _differences(expected[name], tagging)))
    return results


def _differences(rule: Expectation, tagging: Tagging) -> tuple[str, ...]:
    got = {tag.id: tag for tag in tagging.tags}
    found = [f"missing {i}" for i in rule.must if i not in got]
    found += [f"unexpected {i} {list(got[i].evidence)}" for i in rule.must_not if i in got]
    if rule.relevant is not None and tagging.relevant != rule.relevant:
        found.append(f"relevant is {tagging.relevant} (score {tagging.relevance:.2f})")
    return tuple(found)


def check_citations(tagger: Tagger, seeds_dir: Path) -> list[str]:
    """Every seed a node cites must exist and contain one of the node's aliases."""
    named: dict[str, set[str] | None] = {}
    problems: list[str] = []
    for node in tagger.taxonomy.nodes:
        for seed in node.seeds:
            if seed not in named:
                named[seed] = _owners_in(tagger, seeds_dir / seed)
            owners = named[seed]
            if owners is None:
                problems.append(f"{node.id} cites {seed}, which is not in {seeds_dir}")
            elif node.id not in owners:
                problems.append(f"{node.id} cites {seed}, but none of its aliases occurs there")
    return problems


def _owners_in(tagger: Tagger, path: Path) -> set[str] | None:
    if not path.is_file():
        return None
    return {match.owner for match in tagger.matches(path.read_text(encoding="utf-8"))}


def run_suggest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the phrases most worth adding to the taxonomy."""
    tagger = Tagger(load_taxonomy(settings.taxonomy_path))
    files = list(args.files) or sorted(settings.taxonomy_path.parent.glob("*.txt"))
    documents = []
    for path in files:
        try:
            documents.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    suggestions = suggest_terms(tagger, documents, top=args.top, min_count=args.min_count)
    print(f"phrases no alias covers, from {len(documents)} document(s):")
    for item in suggestions:
        print(f"  {item.count:4}×  {item.documents} doc(s)  {item.phrase}")
    return 0


def suggest_terms(
    tagger: Tagger, documents: Sequence[str], *, top: int = 30, min_count: int = 2
) -> list[Suggestion]:
    """Frequent 1- to 3-word phrases outside every alias, longest and commonest first.

    Single words count only as names (capitalised mid-sentence); common words are
    left out, and a phrase that only occurs inside a longer one gives way to it.
    """
    counts: Counter[str] = Counter()
    spread: dict[str, set[int]] = defaultdict(set)
    surface: dict[str, str] = {}
    for number, document in enumerate(documents):
        text = clean(document)
        covered = [(m.start, m.end) for m in tagger.matches(text)]
        for key, phrase in _candidates(text, covered):
            counts[key] += 1
            spread[key].add(number)
            surface.setdefault(key, phrase)
    frequent = {key: n for key, n in counts.items() if n >= min_count}
    kept = [key for key in frequent if key not in _subsumed(frequent)]
    kept.sort(key=lambda key: (-frequent[key] * len(key.split()) ** 2, key))
    return [Suggestion(surface[key], frequent[key], len(spread[key])) for key in kept[:top]]


def _subsumed(frequent: dict[str, int]) -> set[str]:
    """Shorter phrases that only ever occur inside a longer frequent one."""
    inner: set[str] = set()
    for key, count in frequent.items():
        words = key.split()
        for size in range(1, len(words)):
            for i in range(len(words) - size + 1):
                part = " ".join(words[i : i + size])
                if frequent.get(part, 0) <= count:
                    inner.add(part)
    return inner


def _candidates(text: str, covered: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """(folded key, phrase as written) for each n-gram of words outside the covered spans."""
    found: list[tuple[str, str]] = []
    offset = 0  # each break is one character, so pieces map back by counting
    for piece in _SENTENCE_BREAK.split(text):
        words = [m for m in _PHRASE_WORD.finditer(piece) if not _inside(covered, offset, m)]
        for size in (1, 2, 3):
            for i in range(len(words) - size + 1):
                group = words[i : i + size]
                if group[-1].end() - group[0].start() > sum(len(w.group()) + 1 for w in group):
                    continue  # a covered word sat between them
                if _is_stopword(group[0].group()) or _is_stopword(group[-1].group()):
                    continue
                if size == 1 and not _proper_noun(group[0].group(), i):
                    continue
                phrase = piece[group[0].start() : group[-1].end()]
                found.append((fold(phrase), phrase))
        offset += len(piece) + 1
    return found


def _proper_noun(word: str, position: int) -> bool:
    """A single word is worth suggesting only as a name: capitalised mid-sentence."""
    return position > 0 and len(word) >= 3 and word[0].isupper()


def _inside(covered: list[tuple[int, int]], offset: int, word: re.Match[str]) -> bool:
    start, end = offset + word.start(), offset + word.end()
    return any(s < end and start < e for s, e in covered)


def _is_stopword(word: str) -> bool:
    return word.casefold() in _STOPWORDS
