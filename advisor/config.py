"""One Settings object, read from ADVISOR_* env vars and an optional TOML file, passed explicitly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Audience = Literal["public", "internal"]


class Settings(BaseSettings):
    """Everything configurable about the advisor. Build with `load_settings()`; never import an instance."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", extra="forbid", validate_default=True)

    data_dir: Path = Path(".advisor")
    corpus_paths: list[Path] = Field(
        default_factory=lambda: [Path("corpus/articles"), Path("corpus/deals"), Path("corpus/docs")]
    )

    # index
    chroma_url: str | None = None
    collection: str = "advisor"
    # chunk texts live in the catalog; a copy in Chroma (with its full-text index) halves upsert speed
    chroma_store_documents: bool = False

    # embedder: "minilm" loads the packaged all-MiniLM-L6-v2 (or embedder_path, any
    # sentence-transformers model directory); "hash" is the deterministic fake for tests.
    embedder: Literal["minilm", "hash"] = "minilm"
    embedder_path: Path | None = None
    embed_batch_size: int = 32

    # chunking (in words; MiniLM reads at most 256 word pieces, about 190 words)
    chunk_target_words: int = 170
    chunk_max_words: int = 230
    chunk_overlap_sentences: int = 1

    # retrieval
    top_k: int = 8
    candidates: int = 40
    rrf_k: int = 60

    # answering
    generator: Literal["extractive"] = "extractive"
    answer_max_sentences: int = 5
    # None means: use the calibrated value shipped in advisor/data/calibration.json
    min_evidence_score: float | None = None

    prompts_dir: Path = Path(__file__).resolve().parent.parent / "prompts"

    # conversations, feedback and leads (sqlite:///path; default: <data_dir>/records.sqlite3)
    records_url: str | None = None

    # serving
    environment: Literal["development", "production"] = "development"
    # {"key": "prospect" | "consultant" | "admin"}; as an env var, JSON: ADVISOR_API_KEYS='{"k": "admin"}'
    api_keys: dict[str, Literal["prospect", "consultant", "admin"]] = Field(default_factory=dict)
    cors_origins: list[str] = Field(default_factory=list)
    anonymous_requests_per_minute: int = 30
    max_request_bytes: int = 64_000
    ui_enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    max_question_chars: int = 2000
    max_history_turns: int = 20

    @field_validator("top_k", "candidates", "rrf_k", "embed_batch_size", "answer_max_sentences")
    @classmethod
    def _positive(cls, value: int, info: object) -> int:
        if value <= 0:
            name = getattr(info, "field_name", "value")
            raise ValueError(f"{name} must be greater than 0, got {value}")
        return value

    @model_validator(mode="after")
    def _no_weak_keys_in_production(self) -> Settings:
        if self.environment == "production":
            weak = [k[:4] + "…" for k in self.api_keys if len(k) < 24 or k.startswith("dev-")]
            if weak:
                raise ValueError(f"API keys {weak} are too weak for production: use 24+ random characters "
                                 "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return self

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # precedence: explicit arguments, then ADVISOR_* env vars, then the TOML file
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = settings_cls.model_config.get("toml_file")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def load_settings(config_file: Path | str | None = None, **overrides: object) -> Settings:
    """Settings from overrides, env vars and a TOML file (`config_file`, $ADVISOR_CONFIG or ./advisor.toml)."""
    path = config_file or os.environ.get("ADVISOR_CONFIG")
    if path is None and Path("advisor.toml").is_file():
        path = "advisor.toml"
    if path is None:
        return Settings(**overrides)  # type: ignore[arg-type]
    if not Path(path).is_file():
        raise FileNotFoundError(f"config file {path} not found: create it or unset ADVISOR_CONFIG")

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": str(path)})

    return _FileSettings(**overrides)  # type: ignore[arg-type]
