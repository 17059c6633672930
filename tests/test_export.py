import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from coverletter import export, heldout, runs
from coverletter import train as train_lib
from coverletter.config import ExportArguments, parse_train_args
from coverletter.errors import CheckFailed, UserError

from conftest import random_llama, run_cli

FAST = ["--max_length", "128", "--max_samples", "8", "--warmup_steps", "0", "--save_steps", "1"]


@pytest.fixture(scope="session")
def small_llama(tmp_path_factory, tokenizer) -> Path:
    """Rows that are multiples of 256, so llama.cpp uses real K-quants (not fallbacks)."""
    return random_llama(tmp_path_factory.mktemp("small-llama"), tokenizer, hidden_size=256, intermediate_size=512)


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, small_llama) -> Path:
    run = tmp_path_factory.mktemp("runs") / "small"
    train_lib.train(*parse_train_args(["--model_name_or_path", str(small_llama), "--output_dir", str(run),
                                       "--max_steps", "1", *FAST]))
    return run


def copy_run(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / run.name
    shutil.copytree(run, target, ignore=shutil.ignore_patterns("gguf"))
    return target


def test_small_llama_exports_every_quant_and_each_loads_and_answers(small_run, tmp_path):
    run = copy_run(small_run, tmp_path)
    result = export.export_gguf(ExportArguments(run=str(run), f16=True, validate=False))
    assert {k: p.name for k, p in result.files.items()} == {q: f"small-llama0-small.{q}.gguf"
                                                            for q in ("F16", "Q4_K_M", "Q5_K_M", "Q8_0")}
    sizes = {k: p.stat().st_size for k, p in result.files.items()}
    assert sizes["Q4_K_M"] < sizes["Q5_K_M"] < sizes["Q8_0"] < sizes["F16"]
    for path in result.files.values():
        assert export.generates(path)[0].strip(), f"{path.name} answered nothing"
    assert not list(result.out_dir.glob(".export-*")), "scratch folder left behind"
    assert (result.out_dir / "merged" / "model.safetensors").is_file()
    assert (result.out_dir / "merged" / "chat_template.jinja").is_file()

    # F16 against the merged HF model, position by position on held-out conversations
    tokenizer = export.model_lib.load_tokenizer(str(result.out_dir / "merged"))
    sequences = heldout.heldout_token_ids(tokenizer)
    reference = export.hf_top1(result.out_dir / "merged", sequences)
    f16 = [s.argmax(-1).tolist() for s in heldout.gguf_logits(result.files["F16"], sequences)]
    assert export.agreement(f16, reference) >= 0.98


@pytest.mark.slow
def test_real_smollm2_export_with_validation_has_the_chat_template_inside(tmp_path):
    from llama_cpp import Llama

    run = tmp_path / "smollm2"
    done = run_cli("train", "--output_dir", str(run), "--max_steps", "2", *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    result = run_cli("export", "--run", str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    out = run / "gguf"
    names = sorted(p.name for p in out.glob("*.gguf"))
    assert names == ["smollm2-135m-instruct-smollm2.Q4_K_M.gguf", "smollm2-135m-instruct-smollm2.Q5_K_M.gguf",
                     "smollm2-135m-instruct-smollm2.Q8_0.gguf"]
    report = json.loads((out / "export_report.json").read_text())
    rows = report["validation"]["files"]
    assert rows["F16"]["top1_agreement"] >= 0.98 and all(r["passed"] for r in rows.values())
    assert rows["Q8_0"]["perplexity"] < 100  # a trained model, not noise (vocab 49152)
    assert "| perplexity (held-out) |" in (out / "export_report.md").read_text()
    llm = Llama(str(out / names[2]), n_ctx=512, verbose=False)
    assert "<|im_start|>" in llm.metadata["tokenizer.chat_template"]
    reply = llm.create_chat_completion([{"role": "user", "content": "Name one color."}], max_tokens=16)
    assert reply["choices"][0]["message"]["content"].strip()


def test_dry_run_builds_the_upload_folder_and_sends_nothing(small_run, tmp_path):
    run = copy_run(small_run, tmp_path)
    env = {"HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf-home")}
    result = run_cli("export", "--run", str(run), "--quant", "q8_0", "--push_to", "me/dry", "--dry_run",
                     "--no_validate", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    upload = run / "gguf" / "upload"
    assert sorted(p.name for p in upload.iterdir()) == ["README.md", "small-llama0-small.Q8_0.gguf"]
    assert "base_model: " in (upload / "README.md").read_text()
    assert "dry run: nothing was sent" in result.stdout
    assert "README.md" in result.stdout and "Q8_0.gguf" in result.stdout


def make_other_run(tmp_path: Path, small_run: Path) -> Path:
    """The small model's adapter, but the run says it was trained on the embedded SmolLM2 (hidden 576)."""
    run = copy_run(small_run, tmp_path)
    (run / runs.RUN_INFO).write_text(json.dumps({"base_model": "embedded:smollm2-135m-instruct"}))
    return run


@pytest.mark.parametrize("case,match", [
    ("no adapter", "no LoRA adapter in"),
    ("other base", "does not fit base model"),
    ("unknown quant", "unknown quantization q3_k; valid: q4_k_m, q5_k_m, q8_0"),
    ("unwritable out", "cannot write to output folder"),
    ("bad repo", "malformed Hub repo id 'not a repo'"),
    ("no token", "pushing needs a Hugging Face token"),
    ("missing run", "run folder not found"),
])
def test_bad_export_input_is_one_clear_line_before_heavy_work(case, match, small_run, tmp_path, monkeypatch, capsys):
    from coverletter import cli

    def heavy(*args, **kwargs):
        raise AssertionError("the export started merging, converting or quantizing before checking its input")

    for stage in ("merge_adapter", "convert_to_f16", "quantize"):
        monkeypatch.setattr(export, stage, heavy)
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    run = copy_run(small_run, tmp_path)
    args = ["export", "--run", str(run)]
    if case == "no adapter":
        empty = tmp_path / "empty-run"
        empty.mkdir()
        args = ["export", "--run", str(empty)]
    elif case == "other base":
        args = ["export", "--run", str(make_other_run(tmp_path / "o", small_run))]
    elif case == "unknown quant":
        args += ["--quant", "q8_0", "q3_k"]
    elif case == "unwritable out":
        (tmp_path / "a-file").write_text("x")
        args += ["--out", str(tmp_path / "a-file" / "gguf")]
    elif case == "bad repo":
        args += ["--push_to", "not a repo"]
    elif case == "no token":
        args += ["--push_to", "me/model"]
    elif case == "missing run":
        args = ["export", "--run", str(tmp_path / "nope")]
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1 and match in err, err


def test_not_enough_disk_is_refused_up_front(small_run, tmp_path, monkeypatch):
    run = copy_run(small_run, tmp_path)
    nearly_full = SimpleNamespace(total=10**12, used=10**12 - 10**6, free=10**6)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: nearly_full)
    with pytest.raises(UserError, match="not enough disk space"):
        export.export_gguf(ExportArguments(run=str(run), validate=False))


def test_a_crash_mid_export_leaves_nothing_half_written(small_run, tmp_path, monkeypatch):
    run = copy_run(small_run, tmp_path)

    def broken_quantize(source, target, quant, log):
        target.write_bytes(b"GGUF half")
        raise RuntimeError("simulated crash while quantizing")

    monkeypatch.setattr(export, "quantize", broken_quantize)
    with pytest.raises(RuntimeError, match="simulated crash"):
        export.export_gguf(ExportArguments(run=str(run), validate=False))
    assert list((run / "gguf").iterdir()) == []


def test_failed_validation_puts_nothing_in_place(small_run, tmp_path, monkeypatch):
    run = copy_run(small_run, tmp_path)
    monkeypatch.setitem(export.AGREEMENT_GOALS, "Q8_0", 1.01)  # impossible: the check must fail
    with pytest.raises(CheckFailed, match="validation failed for Q8_0"):
        export.export_gguf(ExportArguments(run=str(run), quant=["q8_0"]))
    assert sorted(p.name for p in (run / "gguf").iterdir()) == ["export_report.failed.json"]
