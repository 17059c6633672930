"""`coverletter space deploy`: the folder it builds serves from its own requirements; the Hub calls come in order."""

from __future__ import annotations

import contextlib
import http.server
import os
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from coverletter import hub as hub_lib
from coverletter import space
from coverletter.errors import UserError
from coverletter.embedded import embedded_gguf

from conftest import FORM, ROOT, free_port, run_cli, wait_for_server


def arguments(tmp_path: Path, **overrides) -> space.SpaceArguments:
    return space.SpaceArguments(**{"repo": "someone/cover-letters", "dry_run": True, "out": str(tmp_path / "space"),
                                   **overrides})


def front_matter(folder: Path) -> dict:
    return yaml.safe_load((folder / "README.md").read_text().split("---")[1])


class FakeHub:
    """HfApi's calls in the order they are made; upload_folder fails when told to."""

    calls: list = []
    files = ["README.md", "cover-letter.Q4_K_M.gguf", "cover-letter.Q8_0.gguf"]
    upload_fails = False

    def __init__(self, token=None):
        assert token == "hf_secret"

    def __getattr__(self, name):
        def call(*args, **kwargs):
            FakeHub.calls.append(name)
            if name == "upload_folder" and FakeHub.upload_fails:
                raise RuntimeError("403 Forbidden: you cannot write to someone/cover-letters")
            if name == "list_repo_files":
                return FakeHub.files
            if name == "get_space_variables":
                return {"MODEL_PATH": "model/old.gguf"}
        return call


@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    monkeypatch.setattr(hub_lib, "hub_token", lambda: "hf_secret")
    FakeHub.calls, FakeHub.upload_fails = [], False
    return FakeHub


def test_the_folder_names_its_model_and_preloads_it(tmp_path, hub):
    plan = space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf", model_file="*Q4_K_M.gguf"))
    meta = front_matter(plan.folder)
    assert plan.variables == {"MODEL_REPO": "someone/cover-letter-gguf", "MODEL_FILE": "cover-letter.Q4_K_M.gguf"}
    assert meta["preload_from_hub"] == ["someone/cover-letter-gguf cover-letter.Q4_K_M.gguf"]  # a name, not a glob
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and meta["suggested_hardware"] == "cpu-basic"
    assert meta["models"] == ["someone/cover-letter-gguf"]
    assert (plan.folder / "requirements.txt").read_text() == (ROOT / "huggingface" / "requirements.txt").read_text()
    assert (plan.folder / "coverletter" / "generate.py").is_file() and not list(plan.folder.rglob("__pycache__"))
    assert hub.calls == ["list_repo_files"]  # a dry run reads, never writes


def test_the_spaces_copy_is_what_the_app_imports_and_no_training_code(tmp_path, hub):
    plan = space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf"))
    copied = {p.relative_to(plan.folder / "coverletter").as_posix()
              for p in (plan.folder / "coverletter").rglob("*.py")}
    assert {"app.py", "generate.py", "guards.py", "letter.py", "resume.py", "__init__.py"} <= copied
    assert not copied & {"train.py", "model.py", "export.py", "synthetic.py", "config.py", "data/__init__.py"}
    for name in copied:  # read from the copy itself: whatever it imports, at its top or inside a function
        copy = plan.folder / "coverletter"
        assert not space.imports_of(copy / name, copy)[1] & space.TRAINING_PACKAGES, name


def test_a_copy_that_would_import_training_code_is_refused_before_anything_is_built(tmp_path, hub, monkeypatch):
    monkeypatch.setattr(space, "SERVED_FROM", "notebook")  # a module that reaches training code
    with pytest.raises(UserError, match=r"would import training code: .*coverletter/model\.py imports .*torch"):
        space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf"))
    assert not (tmp_path / "space").exists() and hub.calls == []


def test_a_private_model_repo_is_not_preloaded(tmp_path, hub):
    plan = space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf", private=True))
    assert "preload_from_hub" not in front_matter(plan.folder)  # the Hub preloads public repos only


def test_deploy_sets_the_variables_only_after_the_upload(tmp_path, hub):
    space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf", dry_run=False))
    assert hub.calls == ["list_repo_files", "create_repo", "upload_folder", "add_space_variable", "add_space_variable",
                         "get_space_variables", "delete_space_variable", "request_space_hardware"]


def test_a_failed_upload_leaves_nothing_half_set(tmp_path, hub):
    hub.upload_fails = True
    with pytest.raises(UserError, match="uploading the Space someone/cover-letters failed .*no variables were set"):
        space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf", dry_run=False))
    assert hub.calls == ["list_repo_files", "create_repo", "upload_folder"]


def test_bad_input_is_refused_before_anything_is_built_or_sent(tmp_path, hub, monkeypatch):
    out = tmp_path / "space"
    for overrides, message in [({"repo": "not a repo"}, "malformed --repo 'not a repo'"),
                               ({"model_repo": "a/b/c"}, "malformed --model_repo"),
                               ({"hardware": "t4-small"}, "choose cpu-basic or zero-a10g")]:
        with pytest.raises(UserError, match=message):
            space.deploy(arguments(tmp_path, **overrides))
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old.gguf").write_text("x")
    with pytest.raises(UserError, match="is not empty: give a new folder"):
        space.deploy(arguments(tmp_path, out=str(tmp_path / "used")))
    monkeypatch.setattr(hub_lib, "hub_token", lambda: None)
    with pytest.raises(UserError, match="set HF_TOKEN or run `hf auth login`"):
        space.deploy(arguments(tmp_path, model_repo="someone/cover-letter-gguf", dry_run=False))
    assert not out.exists() and hub.calls == []


def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path):
    env = {"HF_TOKEN": "", "HF_HOME": str(tmp_path / "hf")}  # no token anywhere
    result = run_cli("space", "deploy", "--repo", "someone/cover-letters", "--gguf", "none.gguf", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("coverletter: error: deploying needs a Hugging Face token")
    result = run_cli("space", "deploy", "--repo", "x", "--dry_run", env=env)
    assert result.returncode == 2 and "malformed --repo 'x'" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- the built folder, served


class DeviceApi(http.server.BaseHTTPRequestHandler):
    """ZeroGPU's device API, as far as a Space's start-up uses it: the start-up report."""

    reports: list[str] = []

    def do_POST(self):
        DeviceApi.reports.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(python: Path, folder: Path, env: dict):
    """The Space's app.py run from the built folder, as the Space runs it; yields its URL."""
    port = free_port()
    log = folder.parent / "space.log"
    with log.open("w") as out:
        process = subprocess.Popen([python, "app.py"], cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **env, "GRADIO_SERVER_PORT": str(port),
                                        "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_server(process, url, log, seconds=180)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def zero_gpu_folder(tmp_path_factory) -> tuple[Path, dict]:
    """A dry-run build for ZeroGPU carrying the embedded GGUF, copied out of the checkout."""
    tmp = tmp_path_factory.mktemp("deploy")
    plan = space.deploy(arguments(tmp, hardware="zero-a10g", gguf=str(embedded_gguf("smollm2-135m-instruct"))))
    return plan.folder, plan.variables


@pytest.mark.slow
def test_the_built_folder_serves_a_letter_from_its_own_requirements(space_python, zero_gpu_folder):
    from gradio_client import Client

    folder, variables = zero_gpu_folder
    assert variables == {"MODEL_PATH": "model/SmolLM2-135M-Instruct.Q4_1.gguf"} and (folder / "model").is_dir()
    requirements = (folder / "requirements.txt").read_text()
    assert requirements.startswith((ROOT / "huggingface" / "requirements.txt").read_text())
    assert "\nspaces " in requirements and front_matter(folder)["suggested_hardware"] == "zero-a10g"
    # the CPU Space: no `spaces` package; the app imports the package copied beside it (the venv has none)
    with serving(space_python, folder, variables) as url:
        text = Client(url, verbose=False).predict(**FORM, max_new_tokens=64, api_name="/generate")
    assert text.strip()


@pytest.mark.slow
def test_on_zero_gpu_the_app_passes_the_start_up_check_and_serves_on_the_cpu(space_python, zero_gpu_folder,
                                                                              tmp_path):
    """ZeroGPU's `spaces` package (the real one) reports at launch whether any function asked for a GPU; a Space
    that reports none is stopped. The letter is written on the CPU, outside any GPU function."""
    from gradio_client import Client

    folder, variables = zero_gpu_folder
    target = tmp_path / "spaces-package"  # its dependencies (gradio, httpx, pydantic) are the Space's already
    subprocess.run([space_python, "-m", "pip", "install", "-q", "--no-deps", "--target", target, "spaces"],
                   check=True, timeout=600)
    device = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DeviceApi)
    threading.Thread(target=device.serve_forever, daemon=True).start()
    DeviceApi.reports = []
    env = {**variables, "PYTHONPATH": str(target), "SPACES_ZERO_GPU": "true",
           "SPACES_ZERO_DEVICE_API_URL": f"http://127.0.0.1:{device.server_address[1]}"}
    try:
        with serving(space_python, folder, env) as url:
            assert DeviceApi.reports == ["/startup-report"]
            text = Client(url, verbose=False).predict(**FORM, max_new_tokens=64, api_name="/generate")
    finally:
        device.shutdown()
    assert text.strip() and DeviceApi.reports == ["/startup-report"]  # no GPU was scheduled for the letter
