"""The notebook's install on Colab: unsloth caps transformers, trl and datasets below the set requirements.txt
tests. The data, training (kill and resume) and export tests run again in a virtual environment that holds those
caps (notebooks/colab-constraints.txt) on a CPU torch; unsloth itself needs CUDA and is not installed there."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

CONSTRAINTS = ROOT / "notebooks" / "colab-constraints.txt"
VENV = ROOT / ".venv-colab"
CUDA_ONLY = {"unsloth", "unsloth_zoo"}
# everything about data, training and export except what needs a second process group or the real SmolLM2 end to end
# (those run in the main environment): both chat formats, kill and resume, every quant, the Llama 3 export
TESTS = ["tests/test_data.py", "tests/test_train.py", "tests/test_export.py", "tests/test_standin.py"]
SKIPPED_THERE = "not accelerate and not real_embedded_smollm2 and not real_smollm2 and not serves"


def pins() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in CONSTRAINTS.read_text().splitlines()]
    return dict(line.split("==") for line in lines if line)


@pytest.fixture(scope="module")
def colab_python():
    if not (VENV / "bin" / "python").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    python = VENV / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "-r", "requirements-test.txt", "-c", CONSTRAINTS], cwd=ROOT,
                   check=True, timeout=3600)  # the README's install, with the notebook's pins
    return python


@pytest.mark.slow
def test_unsloths_caps_are_what_the_environment_holds(colab_python):
    wanted = {name: version for name, version in pins().items() if name not in CUDA_ONLY}
    assert set(wanted) >= {"transformers", "trl", "datasets", "peft"}
    script = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {sorted(wanted)}}}))"
    found = subprocess.run([colab_python, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(found) == wanted


@pytest.mark.slow
def test_data_training_and_export_pass_with_unsloths_caps(colab_python):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([colab_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", SKIPPED_THERE,
                             *TESTS], cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in summary and "skipped" not in summary, summary
