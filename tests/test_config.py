from pathlib import Path

import pytest
from pydantic import ValidationError

from advisor.config import Settings, load_settings


def test_env_overrides_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "advisor.toml"
    config.write_text('top_k = 3\ncollection = "from_file"\n')
    monkeypatch.setenv("ADVISOR_TOP_K", "5")
    settings = load_settings(config)
    assert settings.top_k == 5
    assert settings.collection == "from_file"


def test_invalid_value_names_the_field_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_TOP_K", "0")
    with pytest.raises(ValidationError, match="top_k must be greater than 0, got 0"):
        load_settings()


def test_missing_config_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ADVISOR_CONFIG"):
        load_settings(tmp_path / "nope.toml")


def test_defaults_are_offline_and_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ADVISOR_CHROMA_URL", "ADVISOR_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    settings = load_settings()
    assert settings.chroma_url is None
    assert settings.data_dir == Path(".advisor")
    assert settings.embedder == "minilm"


def test_answer_concurrency_follows_the_generator_unless_set(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert Settings(generator="extractive").answer_concurrency == 2  # CPU work: one thread per core
    assert Settings(generator="llamacpp").answer_concurrency == 40  # answers mostly wait on the model
    assert Settings(answer_threads=6).answer_concurrency == 6
    with pytest.raises(ValueError, match="answer_threads must be greater than 0"):
        Settings(answer_threads=0)
