"""One Settings object, read from ADVISOR_* env vars and an optional TOML file, passed explicitly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
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
    # the embedder reads the Latin script only (the packaged all-MiniLM-L6-v2 is English): a question written mostly
    # in another script is also read by its Latin words (names, codes). False for a multilingual embedder_path
    embedder_latin_only: bool = True
    # "onnx" runs the embedder with ONNX Runtime (same vectors, less CPU), exported once into embedder_cache
    # (default ~/.cache/advisor, shared by every data dir); PyTorch when the export is not possible. "torch": PyTorch
    embedder_runtime: Literal["onnx", "torch"] = "onnx"
    embedder_cache: Path | None = None
    embed_batch_size: int = 32

    # ingest commits every this many chunks: a crash loses at most one batch, the next run embeds only what is missing
    ingest_batch_chunks: int = 256

    # chunking (in words; MiniLM reads at most 256 word pieces, about 190 words)
    chunk_target_words: int = 170
    chunk_max_words: int = 230
    chunk_overlap_sentences: int = 1

    # retrieval
    top_k: int = 8
    candidates: int = 40
    rrf_k: int = 60

    # answering
    # "extractive" quotes the evidence (no LLM; what tests use); "llamacpp" runs a local GGUF model
    # (`make run` selects it with the 1.5B); "openai" calls any OpenAI-compatible endpoint.
    generator: Literal["extractive", "llamacpp", "openai"] = "extractive"
    # who writes each audience's answers by default when an LLM generator is configured: "llm" or "extractive"
    # (a request can ask for either). Both default to extractive: answers in tens of ms, and on the dev sets' advice
    # and explanation questions the local models scored below it under the same checks (README, Generators);
    # a consultant asks for the model per draft
    answer_writer: dict[Audience, Literal["extractive", "llm"]] = Field(
        default_factory=lambda: {"public": "extractive", "internal": "extractive"})  # type: ignore[arg-type]
    answer_max_sentences: int = 5
    # None means: use the calibrated value shipped in advisor/data/calibration.json
    min_evidence_score: float | None = None

    # LLM generators. llm_model: a registry name (qwen2.5-coder-1.5b | qwen2.5-coder-0.5b | smollm2-135m,
    # see advisor/models.py) assembled into <data_dir>/models, or a path to a .gguf file
    llm_model: str = "qwen2.5-coder-1.5b"
    llm_n_ctx: int = 4096
    llm_n_threads: int = 2
    # llama.cpp's fused attention kernel (see benchmarks/results/llm.json for what it does to first-token time)
    llm_flash_attn: bool = False
    llm_max_tokens: int = 320
    llm_temperature: float = 0.0
    # evidence compression: the model reads at most this many selected sentences, not whole chunks
    llm_evidence_sentences: int = 6
    # rewrite a follow-up into a standalone query with the LLM (rule-based when off or no LLM)
    llm_condense: bool = True
    # read a question written mostly in another script (Japanese, Chinese, Korean…) in English with the LLM, for
    # every audience, when an LLM generator is configured and ready (the packaged embedder and the value checks
    # read English; without it, or while the model is not ready, the question's Latin words are read with it)
    llm_translate: bool = True
    # ... within this many seconds (the model process answers one request at a time: behind a consultant's draft, a
    # prospect's question is read by its Latin words rather than wait)
    llm_translate_timeout_s: float = 15.0
    # let the LLM propose a deal-analytics query (JSON checked against the DealQuery schema) when the rule
    # parser finds none; its prompt carries the schema (~2k tokens), so it is off by default on CPU
    llm_deal_queries: bool = False
    # OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, OpenAI, Azure): base URL ending in /v1
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_api_model: str | None = None
    llm_timeout_s: float = 120.0
    # the local model's process: how long it may take to load and answer its start-up self-check
    llm_startup_timeout_s: float = 600.0

    prompts_dir: Path = Path(__file__).resolve().parent.parent / "prompts"

    # the shared database: postgresql://user:password@host:5432/db puts the records (conversations, answers,
    # feedback, corrections, leads) where every replica sees them; default: SQLite files under the data dir
    database_url: str | None = None
    # the records' database alone (sqlite:///path or postgresql://…); overrides database_url for them
    records_url: str | None = None

    # serving
    environment: Literal["development", "production"] = "development"
    # {"key": "prospect" | "consultant" | "admin"}; as an env var, JSON: ADVISOR_API_KEYS='{"k": "admin"}'
    api_keys: dict[str, Literal["prospect", "consultant", "admin"]] = Field(default_factory=dict)
    cors_origins: list[str] = Field(default_factory=list)
    anonymous_requests_per_minute: int = 30
    # request bodies, counted on the bytes actually read (chunked or not); admin uploads have their own cap
    max_request_bytes: int = 64_000
    max_upload_bytes: int = 50_000_000
    max_header_bytes: int = 16_384
    # a file larger than this is refused by ingest with a message (split it, or raise the limit)
    max_file_bytes: int = 50_000_000
    # proxy addresses whose X-Forwarded-For is believed (e.g. ["127.0.0.1"] behind a local nginx); none by default,
    # so a client cannot choose the address its rate limit and key lock-out are counted under
    trusted_proxies: list[str] = Field(default_factory=list)
    # wrong API keys one client may send per window before it must wait (the API and the UI's sign-in share it)
    failed_key_attempts: int = 5
    failed_key_window_s: float = 600.0
    ui_enabled: bool = True
    # the questions a prospect is offered first, in the UI and the website widget
    starters: list[str] = Field(default_factory=lambda: [
        "What did AstraZeneca agree with CSPC in 2025?", "Is Japan a better base than China for an Asia strategy?",
        "What is the status of the BIOSECURE Act?", "How can we engage in AI partnerships without IP exposure?"])
    # the website widget's default title (a page may set data-title on the script tag)
    widget_title: str = "Ask Meridian"
    host: str = "127.0.0.1"
    port: int = 8000
    # API worker processes; more than one needs ui_enabled=false (the UI's sessions live in one process)
    workers: int = 1
    # questions one process answers at once; more wait their turn in order. None: one per CPU core with the
    # extractive generator (its answers are CPU work, and more threads only fight over the GIL: 20 clients
    # measured p95 374-548 ms with 2 threads vs 659-877 ms with 40), 40 with an LLM (answers wait on the model)
    answer_threads: int | None = None
    max_question_chars: int = 2000
    max_history_turns: int = 20

    @field_validator("top_k", "candidates", "rrf_k", "embed_batch_size", "ingest_batch_chunks", "answer_max_sentences",
                     "llm_n_ctx",
                     "llm_n_threads", "llm_max_tokens", "llm_evidence_sentences", "workers", "answer_threads",
                     "llm_translate_timeout_s")
    @classmethod
    def _positive(cls, value: float | None, info: object) -> float | None:
        if value is not None and value <= 0:
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

    @model_validator(mode="after")
    def _openai_needs_an_endpoint(self) -> Settings:
        if self.generator == "openai" and not (self.llm_base_url and self.llm_api_model):
            raise ValueError("generator 'openai' needs ADVISOR_LLM_BASE_URL (e.g. http://localhost:11434/v1) and "
                             "ADVISOR_LLM_API_MODEL (and ADVISOR_LLM_API_KEY when the endpoint wants one)")
        return self

    @property
    def answer_concurrency(self) -> int:
        if self.answer_threads is not None:
            return self.answer_threads
        return (os.cpu_count() or 2) if self.generator == "extractive" else 40

    @property
    def embedder_cache_dir(self) -> Path:
        if self.embedder_cache is not None:
            return self.embedder_cache
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "advisor"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

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
