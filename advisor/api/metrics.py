"""Prometheus metrics, one registry per app (so tests can build several apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ModelCollector(Collector):
    """The local model process, read at scrape time: restarts since start-up, and whether it is ready."""

    def __init__(self, status: Callable[[], dict[str, Any] | None]) -> None:
        self.status = status

    def collect(self) -> Iterator[Any]:
        current = self.status()
        if current is None:
            return
        restarts = CounterMetricFamily("advisor_model_restarts", "Restarts of the local model process",
                                       labels=["model"])
        restarts.add_metric([str(current["name"])], float(current["restarts"]))
        ready = GaugeMetricFamily("advisor_model_ready", "1 when the local model answers, 0 while it is "
                                  "starting, restarting or failed (answers are extractive then)", labels=["model"])
        ready.add_metric([str(current["name"])], 1.0 if current["state"] == "ready" else 0.0)
        yield restarts
        yield ready


class Metrics:
    def __init__(self, model_status: Callable[[], dict[str, Any] | None] | None = None) -> None:
        self.registry = CollectorRegistry()
        if model_status is not None:
            self.registry.register(ModelCollector(model_status))
        self.requests = Counter("advisor_http_requests_total", "HTTP requests", ["path", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("advisor_http_request_seconds", "HTTP request latency", ["path"],
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry)
        self.answers = Counter("advisor_answers_total", "Answers given", ["route", "covered"], registry=self.registry)

    def observe(self, path: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(path, method, str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def answered(self, route: str, covered: bool) -> None:
        self.answers.labels(route, str(covered).lower()).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
