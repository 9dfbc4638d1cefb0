"""Colloquial → official rewriting: a life situation told in a citizen's words, in the catalogue's words.

Citizens ask about what happened to them (老人去世了要办啥, 房子过户在哪办); the catalogue names its
matters in official terms (死亡, 遗属, 房屋所有权转移登记). The vocabulary is data
(``colloquial.tsv`` beside this module), so it grows without code; this part only loads it, typed,
and applies it. A rule fires when all of its parts occur in the question (``房+过户`` reads a house
transfer, never a utility's 过户), and its official terms are *added* to the question, for BM25 and
the embedder alike: the citizen's own words keep the matches they already make.

Unlike ``retriever.synonyms`` (one token → more BM25 tokens), a rule here reads the whole question
and also moves the dense vector, which is where a situation question is otherwise lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field

VOCABULARY = Path(__file__).with_name("colloquial.tsv")


class Rewrite(BaseModel):
    """One rule: when every part occurs in the question, the terms are added to it."""

    parts: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    terms: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)

    def fires(self, question: str) -> bool:
        return all(part in question for part in self.parts)


class QueryRewriter:
    """Applies the rules to a question; an empty rewriter leaves every question as it is."""

    def __init__(self, rewrites: Iterable[Rewrite] = ()) -> None:
        # Most specific rules first, so a rule whose parts another rule covers adds nothing twice.
        self.rewrites = sorted(rewrites, key=lambda r: -sum(map(len, r.parts)))

    def terms(self, question: str) -> list[str]:
        """The official terms the question's situation calls for, in rule order, without repeats."""
        found: list[str] = []
        for rewrite in self.rewrites:
            if rewrite.fires(question):
                found.extend(term for term in rewrite.terms if term not in question)
        return list(dict.fromkeys(found))

    def rewrite(self, question: str) -> str:
        terms = self.terms(question)
        return f"{question} {' '.join(terms)}" if terms else question

    def __len__(self) -> int:
        return len(self.rewrites)


def parse_vocabulary(text: str, source: str = "vocabulary") -> list[Rewrite]:
    """``parts<TAB>terms`` per line: parts joined by ``+``, terms by spaces; ``#`` starts a comment."""
    rewrites = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        phrase, _, terms = line.partition("\t")
        try:
            rewrites.append(Rewrite(parts=tuple(p.strip() for p in phrase.split("+")), terms=tuple(terms.split())))
        except ValueError as exc:
            raise ValueError(f"{source} line {number}: {exc}") from exc
    return rewrites


@lru_cache(maxsize=4)
def load_rewriter(path: Path = VOCABULARY) -> QueryRewriter:
    return QueryRewriter(parse_vocabulary(Path(path).read_text(encoding="utf-8"), str(path)))
