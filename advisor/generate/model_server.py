"""Entry point of the model process: llama-cpp-python's OpenAI-compatible server, tied to its parent's life.

`python -m advisor.generate.model_server --model X.gguf --port N …` takes llama_cpp.server's own arguments.
It asks the kernel to end it when the process that started it ends (PR_SET_PDEATHSIG), so a killed API never
leaves a model holding a gigabyte of memory behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's stop() still ends us
        return
    if parent and os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(0)


def main() -> None:
    _die_with_parent(int(os.environ.get("ADVISOR_PARENT_PID", "0") or 0))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see advisor/__init__.py
    from llama_cpp.server.__main__ import main as serve

    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    serve()


if __name__ == "__main__":
    main()
