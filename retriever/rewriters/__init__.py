"""Query rewriters: turn a citizen's question into words the catalogue uses, before any retrieval."""

from retriever.rewriters.colloquial import QueryRewriter, Rewrite, load_rewriter

__all__ = ["QueryRewriter", "Rewrite", "load_rewriter"]
