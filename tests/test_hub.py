"""`coverletter.hub`: the model card the Hub reads, the upload folder and what is sent, never the token."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from coverletter import hub, runs
from coverletter.errors import UserError

FAKE_TOKEN = "hf_coverletterTESTtoken0123456789abcdef"


class RecordingHfApi:
    calls: list = []

    def __init__(self, token=None):
        RecordingHfApi.calls.append(("init", token == FAKE_TOKEN))

    def create_repo(self, repo_id, **kwargs):
        RecordingHfApi.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        folder = Path(kwargs["folder_path"])
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        RecordingHfApi.calls.append(("upload_folder", kwargs["repo_id"], files, (folder / "README.md").read_text()))


def an_export(tmp_path: Path, base_model: str, dataset: str = "data/finetome-sample.jsonl"):
    """What `export.export_gguf` returns, on tiny stand-in files: a run folder, its adapter and two GGUF files."""
    run = tmp_path / "run"
    runs.write_run_info(run, base_model, dataset)
    adapter = runs.final_dir(run)
    adapter.mkdir()
    for name in ("adapter_model.safetensors", "adapter_config.json", "optimizer.pt", "training_args.bin"):
        (adapter / name).write_bytes(b"x" * 10)
    out = runs.gguf_dir(run)
    out.mkdir()
    files = {q: out / f"cover.{q}.gguf" for q in ("Q8_0", "Q4_K_M")}
    for path in files.values():
        path.write_bytes(b"GGUF" + b"\0" * 100)
    report = {"base_model": base_model,
              "files": {q: {"file": p.name, "size_mb": 0.0} for q, p in files.items()}}
    table = "| file | size MB |\n|---|---:|\n" + "".join(f"| {p.name} | 0.0 |\n" for p in files.values())
    return SimpleNamespace(out_dir=out, files=files, report=report, table=table, run_dir=run, adapter=adapter,
                           upload_dir=None)


def test_publishing_sends_the_files_the_card_and_the_adapter_and_never_the_token(tmp_path, monkeypatch, capfd):
    import huggingface_hub

    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingHfApi)
    RecordingHfApi.calls = []
    result = an_export(tmp_path, "embedded:smollm2-135m-instruct")
    hub.publish_model(result, "someone/small-gguf", private=True, with_adapter=True)
    init, create, upload = RecordingHfApi.calls
    assert init == ("init", True)
    assert create == ("create_repo", "someone/small-gguf", {"private": True, "exist_ok": True, "repo_type": "model"})
    _, repo, files, card = upload
    assert repo == "someone/small-gguf"
    assert set(files) == {"README.md", "cover.Q8_0.gguf", "cover.Q4_K_M.gguf", "adapter/adapter_model.safetensors",
                          "adapter/adapter_config.json"}  # resume state (optimizer, training args) stays home
    metadata = huggingface_hub.ModelCard(card).data  # the Hub's own reading of the card
    assert metadata.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct" and metadata.license == "apache-2.0"
    assert metadata.datasets == ["finetome-sample"] and {"gguf", "llama-cpp"} <= set(metadata.tags)
    assert metadata.pipeline_tag == "text-generation"
    for needle in ('Llama.from_pretrained(repo_id="someone/small-gguf"', "| cover.Q4_K_M.gguf |",
                   "[HuggingFaceTB/SmolLM2-135M-Instruct](https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct)"):
        assert needle in card
    printed = capfd.readouterr()
    assert "published: https://huggingface.co/someone/small-gguf" in printed.out
    assert FAKE_TOKEN not in printed.out + printed.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert FAKE_TOKEN.encode() not in path.read_bytes(), path


def test_a_dry_run_builds_the_folder_and_sends_nothing(tmp_path, monkeypatch, capsys):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingHfApi)
    RecordingHfApi.calls = []
    result = an_export(tmp_path, "embedded:smollm2-135m-instruct")
    folder = hub.publish_model(result, "me/dry", dry_run=True)
    assert RecordingHfApi.calls == [] and "dry run: nothing was sent" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "cover.Q4_K_M.gguf", "cover.Q8_0.gguf"]


def test_a_run_on_the_stand_in_says_its_license_and_names_no_base_repo(tmp_path):
    import huggingface_hub

    result = an_export(tmp_path, "embedded:llama-3-tiny")
    card = hub.model_card(result.report, result.table, "me/tiny", result.run_dir)
    metadata = huggingface_hub.ModelCard(str(card)).data
    assert metadata.license == "llama3.2"  # Meta's tokenizer and template come with Llama 3.2's license
    assert metadata.base_model is None  # random weights: nobody's model to link
    assert "embedded:llama-3-tiny (made offline, random weights)" in card.text


def test_the_model_cards_license_is_the_one_the_base_model_states(tmp_path):
    stated = tmp_path / "stated"
    stated.mkdir()
    (stated / "README.md").write_text("---\nlicense: mit\n---\n# A base model\n")
    silent = tmp_path / "silent"
    silent.mkdir()
    assert hub.base_license(str(stated)) == "mit"
    assert hub.base_license(str(silent)) == "other"  # nothing stated: not guessed from the name
    assert hub.base_license("embedded:smollm2-135m-instruct") == "apache-2.0"  # from the GGUF's metadata
    assert hub.base_license("meta-llama/Llama-3.2-1B-Instruct") == "other"  # offline: the Hub card is unreachable


@pytest.mark.parametrize("repo_id", ["me/model", "Org-1/name_2.gguf"])
def test_well_formed_repo_ids_pass(repo_id):
    hub.check_repo_id(repo_id, "--push_to")


@pytest.mark.parametrize("repo_id", ["not a repo", "a/b/c", "me/a--b", "me/..", "/model", "me/"])
def test_malformed_repo_ids_are_refused_with_the_flag_named(repo_id):
    with pytest.raises(UserError, match=f"malformed --push_to '{repo_id}'"):
        hub.check_repo_id(repo_id, "--push_to")


def test_sending_without_a_token_says_how_to_log_in(monkeypatch):
    monkeypatch.setattr(hub, "hub_token", lambda: None)
    with pytest.raises(UserError, match="pushing needs a Hugging Face token: set HF_TOKEN or run `hf auth login`"):
        hub.check_push("me/model", dry_run=False)
    hub.check_push("me/model", dry_run=True)  # a dry run sends nothing: no token needed
