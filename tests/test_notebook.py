import json
import re

import pytest

from coverletter import notebook
from coverletter import runs
from coverletter.errors import UserError

from conftest import ROOT, cpu_only

NOTEBOOK = ROOT / "notebooks" / "finetune_llama32_cover_letters.ipynb"


def test_committed_notebook_is_clean_and_has_no_token():
    text = NOTEBOOK.read_text()
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert not re.search(r"hf_[A-Za-z0-9]{20,}", text)
    assert nb["metadata"]["kernelspec"]["name"] == "python3" and nb["metadata"]["language_info"]["name"] == "python"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for name in ("recipe", "max_steps", "push_to_hub", "hub_repo", "checkpoint_dir"):
        assert re.search(rf"^{name} = ", "".join(tagged[0]["source"]), re.MULTILINE)
    assert "colab.research.google.com" in (ROOT / "README.md").read_text()


@cpu_only
def test_gpu_recipe_on_a_cpu_is_refused_with_the_cpu_recipe_suggested():
    with pytest.raises(UserError, match=r"needs a CUDA GPU \(load_in_4bit, optim\).*smollm2-135m-cpu"):
        notebook.setup("llama-3.2-1b-colab")


def test_checkpoint_dir_is_created_or_clearly_refused(tmp_path):
    assert notebook.prepare_checkpoint_dir(str(tmp_path / "a" / "b")).is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="cannot create checkpoint_dir"):
        notebook.prepare_checkpoint_dir(str(tmp_path / "file" / "sub"))
    with pytest.raises(UserError, match="Google Drive is not mounted"):
        notebook.prepare_checkpoint_dir("/content/drive/MyDrive/coverletter")


def test_setup_never_shows_the_token(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "hf_notebookTESTtoken0123456789abcd")
    _, _, _, training_args = notebook.setup("smollm2-135m-cpu", 3, str(tmp_path / "ckpt"))
    printed = capsys.readouterr().out
    assert "hub_token: found" in printed and "hf_notebook" not in printed
    assert training_args.output_dir == str(tmp_path / "ckpt" / "smollm2-135m-cpu") and training_args.max_steps == 3


def test_push_without_token_keeps_the_files_and_says_so(monkeypatch, capsys, tmp_path):
    from types import SimpleNamespace

    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    notebook.publish_if_asked(SimpleNamespace(out_dir=tmp_path / "gguf"), True, "me/model")
    assert "no Hugging Face token" in capsys.readouterr().out


@pytest.mark.slow
def test_notebook_runs_end_to_end_on_cpu_with_papermill(tmp_path):
    import papermill

    checkpoints = tmp_path / "drive"
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), cwd=str(ROOT), kernel_name="python3", progress_bar=False,
        parameters={"recipe": "smollm2-135m-cpu", "max_steps": 2, "push_to_hub": False,
                    "checkpoint_dir": str(checkpoints)},
    )
    run = checkpoints / "smollm2-135m-cpu"
    assert runs.is_complete_checkpoint(run / "checkpoint-2")
    assert (run / "final" / "adapter_model.safetensors").is_file()
    assert (run / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name.rsplit(".", 2)[1] for p in (run / "gguf").glob("*.gguf")) == ["Q4_K_M", "Q5_K_M", "Q8_0"]
    executed = json.loads(out.read_text())
    outputs = "".join(o.get("text", "") if isinstance(o.get("text"), str) else "".join(o.get("text", []))
                      for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"])
    assert "data: read" in outputs and "⟦" in outputs and "not pushing" in outputs
    assert "llama_model_loader" not in outputs  # llama.cpp's own chatter stays in the log files
    letters = [o for c in executed["cells"] if "letter_from" in "".join(c["source"]) for o in c["outputs"]]
    assert len(letters) == 2 and all("Maria Lopez" in "".join(o["text"]) for o in letters)  # before and after
    assert any(o.get("data", {}).get("image/png") for c in executed["cells"] if c["cell_type"] == "code"
               for o in c["outputs"])
