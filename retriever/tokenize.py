"""Chinese tokenisation for BM25: jieba in search mode, the catalogue's own words, and synonyms.

A private ``jieba.Tokenizer`` per instance keeps the catalogue's user dictionary from leaking into
other users of jieba in the same process (the NLU pipeline has its own).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jieba

from retriever.synonyms import STOPWORDS, SYNONYMS

jieba.setLogLevel(logging.WARNING)


_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]+")


def _bigrams(text: str) -> list[str]:
    grams = []
    for run in _NOT_HAN.split(text):
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def char_pairs(text: str) -> set[str]:
    """The Chinese character pairs of a text: words without a segmenter's opinion of where they end."""
    return set(_bigrams(text))


class Tokenizer:
    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.user_words: list[str] = []
        self.add_words([*SYNONYMS, *user_words])

    def add_words(self, words: Iterable[str]) -> None:
        new = sorted({w.strip() for w in words if w and 2 <= len(w.strip()) <= 30} - set(self.user_words))
        for word in new:
            self._jieba.add_word(word, freq=max(self._jieba.suggest_freq(word, tune=False), 50))
        self.user_words = sorted({*self.user_words, *new})

    def tokens(self, text: str) -> list[str]:
        """Search-mode words plus character bigrams.

        Search mode also yields a long word's dictionary sub-words; bigrams catch what the
        segmenter splits differently in a question and in a title (能取 / 提取, typos)."""
        text = text.lower()
        words = [w for w in (w.strip() for w in self._jieba.cut_for_search(text)) if w and w not in STOPWORDS]
        return words + [b for b in _bigrams(text) if b not in STOPWORDS]

    def query_tokens(self, text: str) -> list[str]:
        tokens = self.tokens(text)
        expanded = list(tokens)
        for token in tokens:
            for synonym in SYNONYMS.get(token, ()):
                expanded.extend(self.tokens(synonym))
        for phrase, synonyms in SYNONYMS.items():
            if len(phrase) > 2 and phrase in text and phrase not in tokens:
                for synonym in synonyms:
                    expanded.extend(self.tokens(synonym))
        return list(dict.fromkeys(expanded))
