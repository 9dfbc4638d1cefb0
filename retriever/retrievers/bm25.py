"""Keyword retrieval with bm25s over jieba tokens.

bm25s has no in-place update, so the tokens of every live document are kept: after a publish the
sparse matrix is re-fitted from them (tens of milliseconds at 10k matters) while nothing is
re-tokenised or re-embedded.
"""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np


class BM25Retriever:
    def __init__(self) -> None:
        self._tokens: dict[int, list[str]] = {}
        self._slots = np.zeros(0, dtype=np.int64)
        self._model: bm25s.BM25 | None = None

    def __len__(self) -> int:
        return len(self._tokens)

    def tokens_of(self, slot: int) -> list[str]:
        return self._tokens.get(slot, [])

    def fit(self, tokens: dict[int, list[str]]) -> None:
        self._tokens = dict(tokens)
        self._refit()

    def upsert(self, tokens: dict[int, list[str]], remove: set[int]) -> BM25Retriever:
        """A new retriever with the change applied; the old one keeps serving until swapped."""
        updated = BM25Retriever()
        updated._tokens = {s: t for s, t in self._tokens.items() if s not in remove} | tokens
        updated._refit()
        return updated

    def _refit(self) -> None:
        self._slots = np.fromiter(self._tokens.keys(), dtype=np.int64, count=len(self._tokens))
        if not len(self._slots):
            self._model = None
            return
        model = bm25s.BM25()
        model.index([self._tokens[int(s)] or [""] for s in self._slots], show_progress=False)
        self._model = model

    def search(self, query_tokens: list[str], k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        if self._model is None or not query_tokens:
            return []
        known = [t for t in query_tokens if t in self._model.vocab_dict]
        if not known:
            return []
        scores = self._model.get_scores(known)
        if allowed is not None:
            scores = scores * np.isin(self._slots, list(allowed))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(self._slots[i]), float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "bm25_tokens.json").open("w", encoding="utf-8") as handle:
            json.dump({str(s): t for s, t in self._tokens.items()}, handle, ensure_ascii=False)
        if self._model is not None:
            self._model.save(str(folder / "bm25"))

    @classmethod
    def load(cls, folder: Path) -> BM25Retriever:
        retriever = cls()
        with (folder / "bm25_tokens.json").open(encoding="utf-8") as handle:
            retriever._tokens = {int(s): t for s, t in json.load(handle).items()}
        retriever._slots = np.fromiter(retriever._tokens.keys(), dtype=np.int64, count=len(retriever._tokens))
        if (folder / "bm25").exists() and len(retriever._slots):
            retriever._model = bm25s.BM25.load(str(folder / "bm25"))
        else:
            retriever._refit()
        return retriever
