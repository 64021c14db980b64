"""advisor: a retrieval-augmented advisor whose every claim is cited to its source."""

import os

# OpenMP threads spin while they wait by default. A server embeds questions on worker threads, each with its
# own OpenMP team, and the idle teams' spinning starves the busy one: one MiniLM query took ~500 ms on a worker
# thread against ~20 ms with passive waiting (2 cores, measured in-process). llama.cpp's threads behave the same.
# It must be set before torch or llama.cpp load their OpenMP runtime; the environment can still override it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
