"""The notebook's install on Colab: unsloth caps transformers, trl and datasets below the set requirements.txt
tests. A virtual environment made as the notebook's install cell makes it (the package from pyproject.toml, with
notebooks/colab-constraints.txt), on the CPU torch and without unsloth (which needs CUDA), runs the tests again.

trl 1.15, unsloth's cap, computes the SFT loss only with a Triton kernel on a CUDA GPU: with it, a CPU can run the
data and format tests, and `coverletter train` must refuse in one line. The training, kill-and-resume and export
tests then run with trl 1.16 and every other cap (transformers, datasets, peft)."""

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
TRL_ON_CPU = "1.16.0"  # the first trl that trains on a CPU: the one cap a CPU cannot hold
FORMAT_TESTS = ["tests/test_data.py", "tests/test_standin.py", "-k", "not trains and not license and not serves"]
# training, both chat formats' kill and resume, export, the Llama 3 stand-in; not what needs a second process group
# or the real SmolLM2 end to end (those run in the main environment)
TRAINING_TESTS = ["tests/test_train.py", "tests/test_export.py", "tests/test_standin.py", "-k",
                  "not accelerate and not real_embedded_smollm2 and not real_smollm2 and not serves"]


def pins() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in CONSTRAINTS.read_text().splitlines()]
    return dict(line.split("==") for line in lines if line)


def installed(python, names) -> dict[str, str]:
    script = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {sorted(names)}}}))"
    return json.loads(subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout)


def pytest_in(python, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
                            capture_output=True, text=True, env=env, timeout=3600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in summary and "skipped" not in summary, summary


@pytest.fixture(scope="module")
def colab_python():
    if not (VENV / "bin" / "python").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    python = VENV / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "torch==2.13.0", "-e", ".[embedded,standin,test]", "-c",
                    CONSTRAINTS], cwd=ROOT, check=True, timeout=3600)  # the notebook's install, on the CPU torch
    return python


@pytest.mark.slow
def test_the_environment_holds_unsloths_caps(colab_python):
    wanted = {name: version for name, version in pins().items() if name not in CUDA_ONLY}
    assert set(wanted) >= {"transformers", "trl", "datasets", "peft"}
    assert installed(colab_python, wanted) == wanted


@pytest.mark.slow
def test_with_unsloths_trl_the_data_and_format_tests_pass_and_cpu_training_is_refused_in_one_line(colab_python,
                                                                                                    tmp_path):
    assert installed(colab_python, ["trl"]) == {"trl": pins()["trl"]}
    pytest_in(colab_python, *FORMAT_TESTS)
    result = subprocess.run([colab_python, "-m", "coverletter", "train", "--model_name_or_path",
                             "embedded:llama-3-tiny", "--output_dir", str(tmp_path / "run"), "--max_steps", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"coverletter: error: trl {pins()['trl']} cannot train without a CUDA GPU (its SFT loss is a Triton kernel; "
        "trl 1.16 added the CPU path): pip install 'trl>=1.16', or train on a GPU")


@pytest.mark.slow
def test_with_the_other_caps_training_resume_and_export_pass(colab_python):
    subprocess.run([colab_python, "-m", "pip", "install", "-q", f"trl=={TRL_ON_CPU}"], check=True, timeout=600)
    caps = {name: version for name, version in pins().items() if name not in CUDA_ONLY | {"trl"}}
    assert installed(colab_python, caps) == caps
    pytest_in(colab_python, *TRAINING_TESTS)
