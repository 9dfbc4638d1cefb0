"""Each retriever part on its own, then the hybrid index: filters, persistence, incremental updates."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.schema import MatterIn
from retriever import HybridIndex
from retriever.documents import MatterDoc
from retriever.joiners.rrf import reciprocal_rank_fusion
from retriever.regions import RegionFilter
from retriever.retrievers.bm25 import BM25Retriever
from retriever.retrievers.dense import DenseRetriever
from retriever.tokenize import Tokenizer


def m(external_id: str, name: str, department: str = "防城港市人力资源和社会保障局", **extra) -> MatterIn:
    return MatterIn(
        external_id=external_id, name=name, department=department, province="广西壮族自治区", city="防城港市", **extra
    )


CATALOGUE = [
    m("unemp", "失业保险金申领", aliases=["领失业金"]),
    m("retire", "职工基本养老保险退休待遇申领", aliases=["办退休"]),
    m(
        "gjj-death",
        "职工死亡或者被宣告死亡提取",
        "防城港市住房公积金管理中心",
        parent_external_id="gjj",
        parent_name="住房公积金提取",
    ),
    m(
        "gjj-rent",
        "租赁住房提取住房公积金",
        "防城港市住房公积金管理中心",
        parent_external_id="gjj",
        parent_name="住房公积金提取",
    ),
    m("biz", "个体工商户设立登记", "防城港市市场监督管理局", aliases=["办营业执照", "开个体户"]),
    m("marry-gk", "内地居民结婚登记", "港口区民政局", county="港口区"),
    m("marry-dx", "内地居民结婚登记（东兴）", "东兴市民政局", county="东兴市"),
    m("transfer", "二手房转移登记", "防城港市不动产登记中心", aliases=["房子过户"]),
]


class CountingEmbedder:
    """The real USE model, counting what it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.documents = inner, inner.name, inner.dim, 0

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_documents(self, texts):
        self.documents += len(texts)
        return self.inner.embed_documents(texts)


@pytest.fixture
def index(use_embedder) -> HybridIndex:
    built = HybridIndex(CountingEmbedder(use_embedder), threshold=0.5)
    built.build(CATALOGUE, seq=1)
    return built


def test_tokenizer_knows_catalogue_words_and_synonyms():
    tokenizer = Tokenizer(["个体工商户设立登记"])
    assert "个体工商户设立登记" in tokenizer.tokens("我要办个体工商户设立登记")
    assert "怎么" not in tokenizer.tokens("怎么办营业执照")
    expanded = tokenizer.query_tokens("公积金怎么取")
    assert {"住房", "公积金", "提取"} <= set(expanded)


def test_bm25_ranks_by_keywords_and_honours_the_allowed_set():
    tokenizer = Tokenizer()
    bm25 = BM25Retriever()
    bm25.fit(
        {0: tokenizer.tokens("失业保险金申领"), 1: tokenizer.tokens("养老保险退休"), 7: tokenizer.tokens("结婚登记")}
    )
    assert bm25.search(tokenizer.tokens("失业保险"), 3)[0][0] == 0
    assert [s for s, _ in bm25.search(tokenizer.tokens("保险"), 3, allowed={1})] == [1]
    assert bm25.search(["不存在的词"], 3) == []
    updated = bm25.upsert({9: tokenizer.tokens("失业登记")}, remove={0})
    assert [s for s, _ in updated.search(tokenizer.tokens("失业"), 3)] == [9]
    assert bm25.search(tokenizer.tokens("失业保险"), 1)[0][0] == 0  # the old one is untouched


def test_dense_search_replaces_one_vector(use_embedder):
    dense = DenseRetriever(use_embedder.dim)
    dense.add([0, 1], use_embedder.embed_documents(["失业保险金申领", "结婚登记"]))
    query = use_embedder.embed_queries(["我失业了怎么领钱"])[0]
    assert dense.search(query, 1)[0][0] == 0
    assert dense.search(query, 2, allowed={1})[0][0] == 1
    updated = dense.upsert([2], use_embedder.embed_documents(["领取失业金"]), remove={0})
    assert {s for s, _ in updated.search(query, 5)} == {1, 2}
    assert len(dense) == 2 and len(updated) == 2


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion([[(1, 9.0), (2, 8.0)], [(2, 0.9), (3, 0.8)]], k=60)
    assert fused[0][0] == 2
    assert {s for s, _ in fused} == {1, 2, 3}


def test_region_filter_resolves_loose_names():
    docs = [MatterDoc.from_matter(x) for x in CATALOGUE]
    regions = RegionFilter(docs)
    gk = regions.resolve("我在港口区")
    admitted = {d.external_id for d in docs if gk.admits(d)}
    assert "marry-gk" in admitted and "marry-dx" not in admitted and "unemp" in admitted
    assert all(regions.resolve("火星").admits(d) for d in docs)


def test_hybrid_search_finds_colloquial_questions(index):
    assert index.search("失业了能领钱吗").hits[0].external_id == "unemp"
    assert index.search("怎么办营业执照").hits[0].external_id == "biz"
    top = index.search("家里老人去世公积金能取吗")
    assert top.hits[0].external_id == "gjj-death" and top.confident
    assert top.hits[0].parent_name == "住房公积金提取"


def test_out_of_catalogue_question_is_not_confident(index):
    assert not index.search("今天天气怎么样").confident


def test_filters_on_region_and_department(index):
    hits = index.search("结婚登记", region="东兴市").hits
    assert hits[0].external_id == "marry-dx"
    assert "marry-gk" not in {h.external_id for h in hits}
    hits = index.search("提取", department="公积金").hits
    assert {h.external_id for h in hits} == {"gjj-death", "gjj-rent"}


def test_index_persists_and_loads(index, tmp_path, use_embedder):
    index.save(tmp_path / "index")
    loaded = HybridIndex.load(tmp_path / "index", use_embedder)
    assert len(loaded) == len(CATALOGUE) and loaded.seq == 1
    assert loaded.search("房子卖了怎么过户").hits[0].external_id == "transfer"
    query = "退休了养老金怎么领"
    assert [h.external_id for h in loaded.search(query).hits] == [h.external_id for h in index.search(query).hits]


def test_loading_with_another_embedder_asks_for_a_rebuild(index, tmp_path):
    from retriever import IndexMismatch

    index.save(tmp_path / "index")

    class Other:
        name, dim = "other", 8

    with pytest.raises(IndexMismatch, match="banshi index"):
        HybridIndex.load(tmp_path / "index", Other())


def test_publish_and_delete_are_incremental(index):
    embedder = index.embedder
    before = embedder.documents
    index.apply(
        [
            m("unemp", "失业保险金申领", aliases=["领失业金", "失业补助金"]),
            m("pension", "城乡居民养老保险待遇申领", aliases=["农村养老金"]),
        ],
        deletes=["transfer"],
        seq=5,
    )
    assert embedder.documents - before == 2  # only the changed matters were embedded
    assert index.seq == 5 and len(index) == len(CATALOGUE)  # one deleted, one new
    assert "transfer" not in {h.external_id for h in index.search("二手房转移登记", k=10).hits}
    assert index.search("农村老人养老金怎么领").hits[0].external_id == "pension"
    assert index.search("失业补助金").hits[0].external_id == "unemp"


def test_sentence_transformers_backend_with_a_local_model():
    from retriever import make_embedder

    embedder = make_embedder("st:minilm")
    vectors = embedder.embed_documents(["unemployment benefit", "marriage registration"])
    assert vectors.shape == (2, embedder.dim) == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_queries(["how do I claim unemployment benefit"])[0]
    assert float(vectors[0] @ query) > float(vectors[1] @ query)
    small = HybridIndex(embedder)
    small.build([m("a", "Unemployment benefit claim"), m("b", "Marriage registration")])
    assert small.search("unemployment money").hits[0].external_id == "a"


def test_a_matter_missing_in_the_citizens_region_is_found_elsewhere_rather_than_declined(use_embedder):
    from retriever.answering import find

    catalogue = [*CATALOGUE, m("biz-ss", "上思县农家乐经营备案", "上思县文化旅游局", county="上思县")]
    built = HybridIndex(use_embedder, threshold=0.5)
    built.build(catalogue, seq=1)
    at_home = find(built, "结婚登记要带什么", named=None, region="港口区")
    assert at_home.external_ids[:1] == ["marry-gk"] and not at_home.elsewhere
    away = find(built, "结婚登记要带什么", named=None, region="上思县")
    assert away.elsewhere and away.kind != "none"
    assert set(away.external_ids) <= {"marry-gk", "marry-dx"}, "another region's marriage registration"
    named = find(built, "结婚登记", named="内地居民结婚登记", region="上思县")
    assert named.elsewhere and named.external_ids == ["marry-gk"]
    nowhere = find(built, "火星签证怎么办", named=None, region="上思县")
    assert nowhere.kind == "none" and not nowhere.elsewhere
