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
