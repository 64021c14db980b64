import threading
import time

import numpy as np
import pytest

from advisor.embed import HashEmbedder, QueryBatcher


def test_concurrent_calls_share_model_calls_and_get_their_own_rows():
    inner = HashEmbedder()
    gate = threading.Event()

    def slow_run(texts: list[str]) -> np.ndarray:
        gate.wait(5)  # the first call blocks until every thread has queued behind it
        return inner.embed(texts)

    batcher = QueryBatcher(slow_run)
    questions = [f"question number {i} about licensing" for i in range(12)]
    results: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        results[i] = batcher.embed([questions[i]])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert batcher.calls <= 3  # coalesced: the first lone call, then the eleven that queued behind it
    for i, row in results.items():
        np.testing.assert_allclose(row, inner.embed([questions[i]]), atol=1e-6)


def test_a_failing_model_call_reaches_every_waiting_caller():
    def broken(texts: list[str]) -> np.ndarray:
        raise RuntimeError("model exploded")

    batcher = QueryBatcher(broken)
    with pytest.raises(RuntimeError, match="model exploded"):
        batcher.embed(["anything"])
    with pytest.raises(RuntimeError, match="model exploded"):  # the worker survives the failure
        batcher.embed(["again"])


@pytest.mark.model
def test_onnx_runtime_gives_the_pytorch_vectors_and_exports_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from advisor.embed import SentenceTransformerEmbedder, packaged_minilm_path

    texts = ["BIOSECURE", "Which Chinese biotechs licensed ADCs to Western pharma in 2024? " * 20, "Japan NHI"]
    onnx = SentenceTransformerEmbedder(packaged_minilm_path(), batch_size=2, onnx_cache=tmp_path)
    torch_only = SentenceTransformerEmbedder(packaged_minilm_path())
    onnx.warm_up()
    torch_only.warm_up()
    assert (onnx.runtime, torch_only.runtime) == ("onnx", "torch")
    np.testing.assert_allclose(onnx.embed(texts), torch_only.embed(texts), atol=1e-5)
    np.testing.assert_allclose(onnx.embed(texts[:1]), torch_only.embed(texts[:1]), atol=1e-5)  # the query path
    # questions run on a one-thread session, bulk batches on their own multi-threaded one
    encoder = onnx._onnx
    assert encoder is not None and encoder._bulk is None  # nothing bulk yet: that session is not open
    many = [f"{t} ({i})" for i, t in enumerate(texts * 2)]  # more than a question batch
    np.testing.assert_allclose(onnx.embed(many), torch_only.embed(many), atol=1e-5)
    assert encoder._bulk is not None and encoder._bulk is not encoder._query
    threads = [s.get_session_options().intra_op_num_threads for s in (encoder._query, encoder._bulk)]
    assert threads == [1, 2]
    exported = list(tmp_path.glob("embedder-*.onnx"))
    assert len(exported) == 1 and not list(tmp_path.glob("*.partial"))
    stamp = exported[0].stat().st_mtime_ns
    again = SentenceTransformerEmbedder(packaged_minilm_path(), onnx_cache=tmp_path)
    again.warm_up()
    assert again.runtime == "onnx" and exported[0].stat().st_mtime_ns == stamp  # reused, not exported again


@pytest.mark.model
def test_a_failed_export_falls_back_to_pytorch(tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from advisor import embed_onnx
    from advisor.embed import SentenceTransformerEmbedder, packaged_minilm_path

    def broken(model: object, target: object) -> None:
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(embed_onnx, "_export", broken)
    embedder = SentenceTransformerEmbedder(packaged_minilm_path(), onnx_cache=tmp_path)
    embedder.warm_up()
    assert embedder.runtime == "torch"
    assert "exporter crashed" in caplog.text and "PyTorch" in caplog.text
    assert embedder.embed(["still works"]).shape == (1, 384)


@pytest.mark.model
def test_bulk_batches_run_on_the_runtime_measured_faster_here_and_the_choice_is_remembered(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    import json

    from advisor import embed
    from advisor.embed import SentenceTransformerEmbedder, packaged_minilm_path

    texts = [f"Chinese biotech licence number {i} with an upfront and milestones. " * (1 + i % 5) for i in range(16)]
    reference = SentenceTransformerEmbedder(packaged_minilm_path(), batch_size=4)
    expected = reference.embed(texts)
    first = SentenceTransformerEmbedder(packaged_minilm_path(), batch_size=4, onnx_cache=tmp_path)
    first.embed(texts[:3])  # a call too small to tell: nothing decided
    assert first.runtime == "onnx" and first.bulk_runtime is None
    np.testing.assert_allclose(first.embed(texts), expected, atol=1e-5)  # four batches: measured, same vectors
    assert first.bulk_runtime in ("onnx", "torch")
    remembered = json.loads((tmp_path / "bulk-runtime.json").read_text())
    assert remembered == {embed._machine_key(): first.bulk_runtime}

    def never(self: object, texts: list[str]) -> str:
        raise AssertionError("measured again")

    monkeypatch.setattr(SentenceTransformerEmbedder, "_measure_bulk", never)
    for choice in ("torch", "onnx"):  # a later run takes the remembered choice without measuring
        (tmp_path / "bulk-runtime.json").write_text(json.dumps({embed._machine_key(): choice}))
        later = SentenceTransformerEmbedder(packaged_minilm_path(), batch_size=4, onnx_cache=tmp_path)
        np.testing.assert_allclose(later.embed(texts), expected, atol=1e-5)
        encoder = later._onnx
        assert later.bulk_runtime == choice and encoder is not None
        assert (encoder._bulk is not None) == (choice == "onnx")  # PyTorch took the batches: no bulk session
        assert later.embed(texts[:1]).shape == (1, 384) and later.runtime == "onnx"  # questions stay on ONNX
