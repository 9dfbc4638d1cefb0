"""The hybrid index: BM25 and dense retrieval over published matters, fused, filtered and scored.

Searches read an immutable snapshot; an update builds the next snapshot beside it and swaps one
reference, so the assistant keeps answering while the catalogue changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from knowledge.schema import MatterIn
from retriever.confidence import cosine_baseline, score_confidence
from retriever.documents import MatterDoc
from retriever.embedders import Embedder
from retriever.joiners.rrf import reciprocal_rank_fusion
from retriever.regions import RegionFilter
from retriever.retrievers.bm25 import BM25Retriever
from retriever.retrievers.dense import DenseRetriever
from retriever.rewriters import QueryRewriter, load_rewriter
from retriever.tokenize import Tokenizer

FORMAT_VERSION = 2
Mode = Literal["hybrid", "bm25", "dense"]


class IndexMismatch(RuntimeError):
    """The index on disk was built with another embedder or format; it must be rebuilt."""


@dataclass(frozen=True)
class Hit:
    external_id: str
    name: str
    department: str
    region: str
    parent_external_id: str | None
    parent_name: str | None
    score: float
    bm25: float | None = None
    dense: float | None = None
    kind: str = "matter"
    """``matter`` or ``bundle`` (一件事)."""
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    confidence: float
    confident: bool
    """False means: do not present a guide as the answer."""
    searched: str = ""
    """The question as searched: the citizen's words plus the colloquial rewrite's official terms."""


@dataclass(frozen=True)
class _Snapshot:
    docs: dict[int, MatterDoc]
    slot_of: dict[str, int]
    bm25: BM25Retriever
    dense: DenseRetriever
    seq: int
    next_slot: int
    regions: RegionFilter = field(default_factory=RegionFilter)
    baseline: tuple[float, float] = (0.0, 1.0)
    """Mean and spread of the cosine between unrelated matters, for calibrating confidence."""


class HybridIndex:
    def __init__(
        self,
        embedder: Embedder,
        *,
        candidates: int = 50,
        rrf_k: int = 5,
        keyword_weight: float = 1.0,
        threshold: float = 0.6,
        rewriter: QueryRewriter | None = None,
    ) -> None:
        """``rewriter``: colloquial → official query rewriting; the packaged vocabulary unless given
        (``QueryRewriter()`` searches the question as typed)."""
        self.embedder = embedder
        self.rewriter = rewriter if rewriter is not None else load_rewriter()
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self.threshold = threshold
        self.tokenizer = Tokenizer()
        self._snapshot = _Snapshot({}, {}, BM25Retriever(), DenseRetriever(embedder.dim), 0, 0)
        self._write_lock = threading.Lock()
        self._preview: tuple[_Snapshot, str, HybridIndex] | None = None
        self.sync_lock = threading.Lock()
        """Held by ``retriever.catch_up`` from reading the change log to applying it: one replay at a time."""

    # -- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._snapshot.docs)

    @property
    def seq(self) -> int:
        """The last catalogue change this index has applied."""
        return self._snapshot.seq

    def external_ids(self) -> set[str]:
        return set(self._snapshot.slot_of)

    def knows_region(self, region: str) -> bool:
        """Whether some matter of the catalogue belongs to the place named (a region filter on an
        unknown place filters nothing, so its answers are all another region's)."""
        return self._snapshot.regions.knows(region)

    def siblings(self, external_id: str) -> list[Hit]:
        """The other sub-cases (情形) of a matter's parent, by name; its namesakes in other places are
        the same matter, not siblings. Empty for a matter with no parent or one not in the index."""
        snap = self._snapshot
        slot = snap.slot_of.get(external_id)
        doc = snap.docs.get(slot) if slot is not None else None
        if doc is None or not doc.parent_external_id:
            return []
        others = {d.name: d for d in snap.docs.values() if d.parent_external_id == doc.parent_external_id}
        others.pop(doc.name, None)
        return [self._hit(d, 0.0, None, None) for d in others.values()]

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        region: str | None = None,
        department: str | None = None,
        mode: Mode = "hybrid",
    ) -> SearchResult:
        snap = self._snapshot
        allowed = self._allowed(snap, region, department)
        searched = self.rewriter.rewrite(query)
        tokens = self.tokenizer.query_tokens(searched)
        keyword = snap.bm25.search(tokens, self.candidates, allowed) if mode != "dense" else []
        vector = self.embedder.embed_queries([searched])[0] if mode != "bm25" else None
        dense = snap.dense.search(vector, self.candidates, allowed) if vector is not None else []
        if mode == "hybrid":
            # Keyword ranks count as much as the question's words are found in BM25's best match: an
            # exact title wins, while stray shared words (办理, 证明) do not outvote the meaning.
            weight = self.keyword_weight * self._coverage(snap, tokens, keyword[0][0]) ** 2 if keyword else 0.0
            fused = reciprocal_rank_fusion([keyword, dense], k=self.rrf_k, weights=[weight, 1.0])
        else:
            fused = keyword or dense
        bm25_of, dense_of = dict(keyword), dict(dense)
        hits = [self._hit(snap.docs[slot], score, bm25_of.get(slot), dense_of.get(slot)) for slot, score in fused[:k]]
        if not fused:
            return SearchResult(query, hits, 0.0, False, searched)
        top = fused[0][0]
        cosine = float(snap.dense.vector(top) @ vector) if vector is not None else None
        confidence = score_confidence(cosine=cosine, baseline=snap.baseline, coverage=self._coverage(snap, tokens, top))
        return SearchResult(query, hits, confidence, confidence >= self.threshold, searched)

    @staticmethod
    def _coverage(snap: _Snapshot, tokens: list[str], slot: int) -> float:
        """Share of the question's tokens that occur in a matter's own words."""
        if not tokens:
            return 0.0
        words = set(snap.bm25.tokens_of(slot))
        return sum(token in words for token in tokens) / len(tokens)

    @staticmethod
    def _hit(doc: MatterDoc, score: float, bm25: float | None, dense: float | None) -> Hit:
        region = "".join(p for p in (doc.province, doc.city, doc.county) if p)
        return Hit(
            doc.external_id,
            doc.name,
            doc.department,
            region,
            doc.parent_external_id,
            doc.parent_name,
            round(score, 6),
            None if bm25 is None else round(bm25, 4),
            None if dense is None else round(dense, 4),
            doc.kind,
            doc.members,
        )

    @staticmethod
    def _allowed(snap: _Snapshot, region: str | None, department: str | None) -> set[int] | None:
        if not region and not department:
            return None
        place = snap.regions.resolve(region) if region else None
        return {
            slot
            for slot, doc in snap.docs.items()
            if (place is None or place.admits(doc)) and (not department or department in doc.department)
        }

    # -- writing ---------------------------------------------------------------------------------

    def build(
        self, matters: list[MatterIn], seq: int = 0, progress=None, faqs: Mapping[str, list[str]] | None = None
    ) -> None:
        """``faqs``: published FAQ questions per external id, searched as part of their matter."""
        faqs = faqs or {}
        docs = {slot: MatterDoc.from_matter(m, faqs.get(m.external_id, ())) for slot, m in enumerate(matters)}
        self.tokenizer = Tokenizer(_user_words(docs.values()))
        bm25 = BM25Retriever()
        bm25.fit({slot: self.tokenizer.tokens(doc.keyword_text) for slot, doc in docs.items()})
        dense = DenseRetriever(self.embedder.dim)
        slots = list(docs)
        batch = 512
        for start in range(0, len(slots), batch):
            part = slots[start : start + batch]
            dense.add(part, self.embedder.embed_documents([docs[s].dense_text for s in part]))
            if progress:
                progress(len(part))
        self._snapshot = _Snapshot(
            docs,
            {d.external_id: s for s, d in docs.items()},
            bm25,
            dense,
            seq,
            len(docs),
            RegionFilter(docs.values()),
            cosine_baseline(dense.vectors(), self.embedder),
        )

    def apply(
        self, upserts: list[MatterIn], deletes: list[str], seq: int, faqs: Mapping[str, list[str]] | None = None
    ) -> None:
        """Publish or withdraw a few matters without a rebuild: only they are tokenised and embedded."""
        faqs = faqs or {}
        with self._write_lock:
            snap = self._snapshot
            remove = {snap.slot_of[e] for e in {*deletes, *(m.external_id for m in upserts)} if e in snap.slot_of}
            docs = {s: d for s, d in snap.docs.items() if s not in remove}
            new_docs = {
                snap.next_slot + i: MatterDoc.from_matter(m, faqs.get(m.external_id, ())) for i, m in enumerate(upserts)
            }
            self.tokenizer.add_words(_user_words(new_docs.values()))
            tokens = {s: self.tokenizer.tokens(d.keyword_text) for s, d in new_docs.items()}
            vectors = self.embedder.embed_documents([d.dense_text for d in new_docs.values()])
            docs.update(new_docs)
            self._snapshot = replace(
                snap,
                docs=docs,
                slot_of={d.external_id: s for s, d in docs.items()},
                bm25=snap.bm25.upsert(tokens, remove),
                dense=snap.dense.upsert(list(new_docs), vectors, remove),
                seq=max(seq, snap.seq),
                next_slot=snap.next_slot + len(new_docs),
                regions=RegionFilter(docs.values()),
            )

    def preview(self, drafts: list[MatterIn], faqs: Mapping[str, list[str]] | None = None) -> HybridIndex:
        """This index plus ``drafts``, as a new index (for the hit test); this one is left untouched.

        Snapshots are immutable (``apply`` builds the next one beside the old), so the preview shares
        the current snapshot and applies the drafts to its own copy: only the drafts are tokenised and
        embedded. The tokenizer is the one mutable part and is copied. The last preview is kept per
        (snapshot, drafts), since a test-set run or an editor's repeated tests reuse it.
        """
        key = hashlib.sha256(
            json.dumps([[m.model_dump(mode="json") for m in drafts], faqs], ensure_ascii=False, sort_keys=True).encode()
        ).hexdigest()
        snapshot = self._snapshot
        with self._write_lock:
            cached = self._preview
            if cached and cached[0] is snapshot and cached[1] == key:
                return cached[2]
        preview = HybridIndex(
            self.embedder, candidates=self.candidates, rrf_k=self.rrf_k,
            keyword_weight=self.keyword_weight, threshold=self.threshold, rewriter=self.rewriter,
        )  # fmt: skip
        preview.tokenizer = Tokenizer(self.tokenizer.user_words)
        preview._snapshot = snapshot
        if drafts:
            preview.apply(drafts, [], seq=snapshot.seq, faqs=faqs)
        with self._write_lock:
            self._preview = (snapshot, key, preview)
        return preview

    # -- persistence -----------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Written beside the old index and swapped in with renames, so a reader never sees half."""
        snap = self._snapshot
        folder = Path(folder)
        staging = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        snap.bm25.save(staging)
        snap.dense.save(staging)
        manifest = {
            "format": FORMAT_VERSION,
            "embedder": self.embedder.name,
            "dim": self.embedder.dim,
            "seq": snap.seq,
            "next_slot": snap.next_slot,
            "baseline": list(snap.baseline),
            "user_words": self.tokenizer.user_words,
            "docs": {str(slot): doc.to_dict() for slot, doc in snap.docs.items()},
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        old = folder.with_name(folder.name + f".old{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, embedder: Embedder, **options) -> HybridIndex:
        folder = Path(folder)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION or manifest.get("embedder") != embedder.name:
            raise IndexMismatch(
                f"index in {folder} was built with {manifest.get('embedder')!r} (format {manifest.get('format')}); "
                f"this process uses {embedder.name!r}: run `banshi index`"
            )
        index = cls(embedder, **options)
        index.tokenizer = Tokenizer(manifest["user_words"])
        docs = {int(slot): MatterDoc.from_dict(d) for slot, d in manifest["docs"].items()}
        index._snapshot = _Snapshot(
            docs,
            {d.external_id: s for s, d in docs.items()},
            BM25Retriever.load(folder),
            DenseRetriever.load(folder),
            manifest["seq"],
            manifest["next_slot"],
            RegionFilter(docs.values()),
            tuple(manifest["baseline"]),
        )
        return index


def _user_words(docs) -> list[str]:
    words: list[str] = []
    for doc in docs:
        words.append(doc.name)
        words.extend(doc.aliases)
        if doc.parent_name:
            words.append(doc.parent_name)
    return words
