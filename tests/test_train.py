import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from coverletter import runs
from coverletter import train as train_lib
from coverletter.config import parse_train_args
from coverletter.errors import UserError

from conftest import ROOT, cpu_only, run_cli

FAST = ["--max_length", "128", "--max_samples", "24", "--warmup_steps", "1", "--logging_steps", "1"]


def losses(run_dir: Path) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in map(json.loads, (run_dir / "loss_log.jsonl").read_text().splitlines())}


def test_tiny_llama_trains_two_steps_checkpoints_and_syncs(tiny_llama, tmp_path):
    out, drive = tmp_path / "run", tmp_path / "drive"
    args = parse_train_args(["--model_name_or_path", str(tiny_llama), "--output_dir", str(out), "--max_steps", "2",
                             "--save_steps", "1", "--sync_dir", str(drive), *FAST])
    final = train_lib.train(*args)
    assert final == out / "final"
    assert (final / "adapter_model.safetensors").is_file() and (final / "adapter_config.json").is_file()
    assert (final / "tokenizer.json").is_file()
    assert json.loads((final / "adapter_config.json").read_text())["r"] == 16
    for step in (1, 2):
        assert runs.is_complete_checkpoint(out / f"checkpoint-{step}")
        assert runs.is_complete_checkpoint(drive / "run" / f"checkpoint-{step}")
    assert sorted(losses(out)) == [1, 2] and all(math.isfinite(v) for v in losses(out).values())
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    packed = train_lib.pack_checkpoint(out)
    assert packed.name == "run-checkpoint-2.zip"
    with zipfile.ZipFile(packed) as archive:
        assert "checkpoint-2/trainer_state.json" in archive.namelist()
        assert "checkpoint-2/adapter_model.safetensors" in archive.namelist()


def make_checkpoint(folder: Path, state: str = '{"global_step": 1}', weights: bool = True) -> Path:
    folder.mkdir(parents=True)
    if weights:
        (folder / "adapter_model.safetensors").write_bytes(b"w")
    if state is not None:
        (folder / "trainer_state.json").write_text(state)
    return folder


def test_latest_complete_checkpoint_skips_truncated_ones(tmp_path, caplog):
    good = make_checkpoint(tmp_path / "checkpoint-4")
    make_checkpoint(tmp_path / "checkpoint-10")
    shutil.rmtree(tmp_path / "checkpoint-10")
    make_checkpoint(tmp_path / "checkpoint-6", state='{"global_step": 6, "log_hi')  # killed while writing
    make_checkpoint(tmp_path / "checkpoint-8", state=None)  # killed before the state was written
    make_checkpoint(tmp_path / "checkpoint-7", weights=False)
    make_checkpoint(tmp_path / "checkpoint-2")
    (tmp_path / "checkpoint-final").mkdir()
    with caplog.at_level(logging.WARNING):
        assert runs.latest_complete_checkpoint(tmp_path) == good
    assert "ignoring" in caplog.text and "checkpoint-8" in caplog.text and "checkpoint-6" in caplog.text
    assert train_lib.resume_point(tmp_path, "never") is None
    assert train_lib.resume_point(tmp_path, str(tmp_path / "checkpoint-2")) == tmp_path / "checkpoint-2"
    with pytest.raises(UserError):
        train_lib.resume_point(tmp_path, str(tmp_path / "checkpoint-6"))


def test_trainers_own_resume_from_checkpoint_works_like_resume_and_a_conflict_is_refused(tmp_path):
    checkpoint = str(make_checkpoint(tmp_path / "checkpoint-3"))
    assert train_lib.resume_setting("auto", None) == "auto"
    assert train_lib.resume_setting("auto", checkpoint) == checkpoint
    assert train_lib.resume_setting("auto", "true") == "auto" and train_lib.resume_setting("auto", "False") == "never"
    assert train_lib.resume_setting(checkpoint, checkpoint) == checkpoint
    with pytest.raises(UserError, match="resume_from_checkpoint .* and --resume never disagree"):
        train_lib.resume_setting("never", checkpoint)
    result = run_cli("train", "--resume_from_checkpoint", checkpoint, "--resume", "never",
                     "--output_dir", str(tmp_path / "out"))
    assert result.returncode == 2 and "disagree: set only one of them" in result.stderr.strip().splitlines()[-1]


def train_command(model: Path | str, out: Path, max_steps: int) -> list[str]:
    return ["train", "--model_name_or_path", str(model), "--output_dir", str(out), "--max_steps", str(max_steps),
            "--save_steps", "2", "--save_total_limit", "10", *FAST]


@pytest.fixture(params=["ChatML", "Llama 3"])
def resumable(request, tiny_llama):
    """A tiny random Llama with SmolLM2's tokenizer and ChatML, and the Llama 3 stand-in (128k vocabulary)."""
    return tiny_llama if request.param == "ChatML" else "embedded:llama-3-tiny"


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_losses_of_an_uninterrupted_run(resumable, tmp_path):
    model, steps = resumable, 10
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    done = run_cli(*train_command(model, reference, steps))
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(rf"trained {steps} steps in [0-9.]+ s \([0-9.]+ s/step\)$", done.stderr, re.M)

    # Start the same run, and kill -9 it as soon as its second checkpoint is complete.
    args = [sys.executable, "-m", "coverletter", *train_command(model, resumed, steps)]
    victim = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not runs.is_complete_checkpoint(resumed / "checkpoint-4") and time.time() < deadline:
        assert victim.poll() is None, "the run ended before it could be killed"
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert not (resumed / "final").exists(), "the run finished before the kill: nothing was tested"
    # A checkpoint half-written by the kill must be ignored: fake one past the real ones.
    half = resumed / "checkpoint-8"
    if not half.exists():
        shutil.copytree(resumed / "checkpoint-4", half)
    (half / "trainer_state.json").write_text('{"global_step": 8, "log_hist')

    again = run_cli(*train_command(model, resumed, steps))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "ignoring" in again.stderr and "checkpoint-8" in again.stderr
    resumed_from = int(re.search(r"resuming from .*checkpoint-(\d+)", again.stderr).group(1))
    assert f"trained {steps - resumed_from} steps in" in again.stderr  # the speed counts this session's steps only
    expected, got = losses(reference), losses(resumed)
    assert sorted(got) == list(range(1, steps + 1)) == sorted(expected)
    for step in expected:
        assert abs(got[step] - expected[step]) <= 1e-4, (step, got[step], expected[step])


@pytest.mark.slow
def test_real_embedded_smollm2_run_through_the_cli(tmp_path):
    out = tmp_path / "smollm2"
    result = run_cli("train", "--output_dir", str(out), "--max_steps", "2", "--save_steps", "2", *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no CUDA GPU" not in result.stderr  # the CPU recipe asks for nothing GPU-only
    assert "data: read" in result.stdout
    assert (out / "final" / "adapter_model.safetensors").is_file()
    assert runs.is_complete_checkpoint(out / "checkpoint-2")
    first = losses(out)[1]
    assert 0.2 < first < 6, first  # a trained model's loss on its own kind of data, not a random one (~10.8)


@pytest.mark.slow
@cpu_only
@pytest.mark.parametrize("stand_in", [False, True], ids=["ChatML", "Llama 3 stand-in"])
def test_gpu_only_options_are_replaced_and_logged_on_cpu(stand_in, tiny_llama, tmp_path):
    model = "embedded:llama-3-tiny" if stand_in else str(tiny_llama)
    result = run_cli("train", "--recipe", "llama-3.2-1b-colab", "--model_name_or_path", model,
                     "--dataset_name", "data/finetome-sample.jsonl", "--output_dir", str(tmp_path / "o"),
                     "--max_steps", "1", *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no CUDA GPU: optim adamw_8bit -> adamw_torch" in result.stderr
    assert "no CUDA GPU: load_in_4bit -> off" in result.stderr
    assert "backend: transformers" in result.stderr


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(tiny_llama, tmp_path):
    out = tmp_path / "ddp"
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file", "recipes/accelerate/ddp-2proc.yaml",
         "-m", "coverletter", "train", "--model_name_or_path", str(tiny_llama), "--output_dir", str(out),
         "--max_steps", "2", "--save_steps", "2", *FAST],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert (out / "final" / "adapter_model.safetensors").is_file()
    assert "data parallel over 2 process(es)" in result.stderr


def test_checkpoint_pack_cli(tmp_path):
    make_checkpoint(tmp_path / "run" / "checkpoint-3")
    result = run_cli("checkpoint", "pack", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "c.zip"))
    assert result.returncode == 0, result.stderr
    assert zipfile.ZipFile(tmp_path / "c.zip").namelist() == ["checkpoint-3/adapter_model.safetensors",
                                                             "checkpoint-3/trainer_state.json"]


class RecordingHub:
    """Stands in for huggingface_hub.HfApi: records what Trainer would send to the Hub."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))
        return SimpleNamespace(repo_id=repo_id)

    def upload_folder(self, **kwargs):
        from concurrent.futures import Future

        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))
        done = Future()
        done.set_result(None)
        return done


def test_checkpoints_sync_to_the_hub_with_the_checkpoint_strategy(tiny_llama, tmp_path, monkeypatch):
    import transformers.trainer

    hub = RecordingHub()
    monkeypatch.setattr(transformers.trainer, "hf_api", lambda: hub)
    args = parse_train_args(["--model_name_or_path", str(tiny_llama), "--output_dir", str(tmp_path / "run"),
                             "--max_steps", "2", "--save_steps", "1", "--push_to_hub", "true",
                             "--hub_model_id", "someone/coverletter-ckpt", "--hub_strategy", "checkpoint", *FAST])
    train_lib.train(*args)
    assert hub.calls[0][:2] == ("create_repo", "someone/coverletter-ckpt")
    checkpoint_pushes = [kw for name, repo, kw in hub.calls if kw.get("path_in_repo") == "last-checkpoint"]
    assert [Path(kw["folder_path"]).name for kw in checkpoint_pushes] == ["checkpoint-1", "checkpoint-2"]
    assert all(repo == "someone/coverletter-ckpt" for _, repo, _ in hub.calls)


def test_training_says_its_expected_total_time_once_a_few_steps_are_done_and_the_bar_keeps_it_current(monkeypatch,
                                                                                                        caplog):
    clock = iter([0.0, 20.0, 70.0, 100.0, 130.0, 160.0])  # begin; first step (start-up); 5 steps of 10 s; 3 of 30 s
    monkeypatch.setattr(train_lib.time, "perf_counter", lambda: next(clock))
    postfix = []
    speed = train_lib.ReportSpeed()
    speed.progress = SimpleNamespace(training_bar=SimpleNamespace(set_postfix_str=postfix.append))
    state = SimpleNamespace(global_step=0, max_steps=240, is_world_process_zero=True)
    speed.on_train_begin(None, state, None)
    with caplog.at_level(logging.INFO, logger="coverletter.train"):
        for step in range(1, 10):
            state.global_step = step
            speed.on_step_end(None, state, None)
    expected = [r.getMessage() for r in caplog.records if "expected total" in r.getMessage()]
    # 70 s for 6 steps, then 234 steps at 10 s: 2410 s
    assert expected == ["expected total time: 40 min for 240 steps at 10.0 s a step (39 min left)"]
    assert postfix == ["expected total 40 min", "expected total 53 min", "expected total 1 h 3 min",
                       "expected total 1 h 10 min"]  # the bar follows the mean step: 3 slower steps lengthen it
    assert [train_lib.duration(s) for s in (42, 2410, 6000)] == ["42 s", "40 min", "1 h 40 min"]
