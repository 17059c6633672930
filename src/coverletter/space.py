"""`coverletter space deploy`: the Space folder built from this checkout, then created and filled on the Hub.

    coverletter space deploy --repo USER/SPACE [--model_repo USER/GGUF_REPO] [--model_file PATTERN] [--gguf FILE]
                             [--hardware cpu-basic|zero-a10g] [--private] [--dry_run] [--out DIR]

The folder holds the Space's `app.py`, its README (front matter: the Gradio SDK, the hardware, `preload_from_hub` for
the model file so that a cold start downloads nothing), `requirements.txt` (llama-cpp-python from its prebuilt CPU
wheels) and a copy of this package. The model is a file in a Hub repo (`--model_repo`), or else a local GGUF carried
in the Space itself (`--gguf`, default the newest export). The Space is created, the folder uploaded, and only then
are its variables set, so a failed upload leaves no Space pointing at a model it does not have.
"""

from __future__ import annotations

import ast
import fnmatch
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import runs
from .errors import UserError, first_line
from .export import hub_token, listing, valid_repo_id
from .generate import DEFAULT_MODEL_FILE

logger = logging.getLogger(__name__)

SHELL = Path(__file__).resolve().parents[2] / "huggingface"  # the Space's thin shell in a checkout
PACKAGE = Path(__file__).resolve().parent
HARDWARE = ("cpu-basic", "zero-a10g")  # the free CPU, or ZeroGPU (whose hosts serve this app on their CPU)
ZERO_GPU_REQUIREMENT = "spaces  # ZeroGPU's package: the app registers the GPU function its start-up check asks for"
CARRIED_MODEL_DIR = "model"


@dataclass
class SpaceArguments:
    repo: str = field(metadata={"help": "The Space to create or update, USER/NAME."})
    model_repo: str | None = field(default=None, metadata={"help": "Hub repo of the GGUF files (coverletter "
                                                                   "export --push_to); else --gguf is carried."})
    model_file: str = field(default=DEFAULT_MODEL_FILE, metadata={"help": "File name or pattern in --model_repo."})
    gguf: str | None = field(default=None, metadata={"help": "A local GGUF to carry in the Space (default: the "
                                                             "newest export in runs/) when there is no --model_repo."})
    hardware: str = field(default=HARDWARE[0], metadata={"help": f"Space hardware: {', '.join(HARDWARE)}."})
    private: bool = field(default=False, metadata={"help": "Create the Space private."})
    dry_run: bool = field(default=False, metadata={"help": "Build the folder and list it; send nothing."})
    out: str | None = field(default=None, metadata={"help": "Build the folder here (default: a temporary one)."})


@dataclass
class SpacePlan:
    folder: Path
    variables: dict[str, str]  # set on the Space once the upload succeeded


# --------------------------------------------------------------------------- checks before anything is built or sent


def check_arguments(args: SpaceArguments) -> None:
    for name in ("repo", "model_repo"):
        value = getattr(args, name)
        if value is not None and not valid_repo_id(value):
            raise UserError(f"malformed --{name} '{value}': expected USER/NAME (letters, digits, '-', '_', '.')")
    if args.hardware not in HARDWARE:
        raise UserError(f"--hardware {args.hardware} is not one this app runs on: choose {' or '.join(HARDWARE)}")
    if args.out and Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise UserError(f"--out {args.out} is not empty: give a new folder (what is in it would be uploaded too)")
    if not SHELL.is_dir():
        raise UserError(f"the Space's files are not at {SHELL}: run space deploy from a checkout of the repository")
    if not args.dry_run and not hub_token():
        raise UserError("deploying needs a Hugging Face token: set HF_TOKEN or run `hf auth login` "
                        "(or add --dry_run to only build the folder)")


# --------------------------------------------------------------------------- the package's serving part

SERVED_FROM = "app"  # what the Space's app.py imports; the copy is it and what it imports, found from the code
TRAINING_PACKAGES = {"torch", "transformers", "peft", "trl", "unsloth", "bitsandbytes", "datasets", "accelerate"}


def module_file(name: str) -> Path:
    """The file of one of the package's modules ('data' is a folder: its __init__.py)."""
    return PACKAGE / f"{name}.py" if (PACKAGE / f"{name}.py").is_file() else PACKAGE / name / "__init__.py"


def imports_of(path: Path, package: Path = PACKAGE) -> tuple[set[str], set[str]]:
    """The package's modules and the other packages that a file imports, at its top or inside functions (a file of
    a subpackage, `data/`, imports the package's modules with '..' and its siblings with '.')."""
    ours, theirs = set(), set()
    depth = len(path.relative_to(package).parts)  # 1 for the package's own modules, 2 inside a subpackage
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == depth:
            ours |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level:
            continue  # a sibling in the same subpackage: copied with it
        elif isinstance(node, ast.ImportFrom):
            theirs.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            theirs |= {alias.name.split(".")[0] for alias in node.names}
    return ours, theirs


def served_modules() -> dict[str, set[str]]:
    """Each module the app imports, directly or through another, with the packages it imports."""
    found, todo = {}, [SERVED_FROM]
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = set()
            for path in files_of(name):
                ours, theirs = imports_of(path)
                found[name] |= theirs
                todo += sorted(ours)
    return found


def files_of(name: str) -> list[Path]:
    """A module's file, or every file of a subpackage."""
    path = module_file(name)
    return sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]


def served_files() -> list[Path]:
    """The files of the Space's copy of the package: its __init__.py and the app's modules; refused, before anything
    is built or sent, when one of them would import a training package."""
    modules = served_modules()
    training = {name: sorted(theirs & TRAINING_PACKAGES) for name, theirs in modules.items()
                if theirs & TRAINING_PACKAGES}
    if training:
        raise UserError("the Space's copy of the package would import training code: " + "; ".join(
            f"coverletter/{name}.py imports {', '.join(found)}" for name, found in sorted(training.items()))
            + ". Move what the app needs out of those modules; nothing was built or sent")
    return [PACKAGE / "__init__.py", *sorted(path for name in modules for path in files_of(name))]


# --------------------------------------------------------------------------- the folder


def model_file_name(args: SpaceArguments) -> str | None:
    """The exact file that --model_file names in --model_repo (preload_from_hub takes names, not patterns)."""
    if not any(c in args.model_file for c in "*?["):
        return args.model_file
    from huggingface_hub import HfApi

    try:
        files = HfApi(token=hub_token()).list_repo_files(args.model_repo)
    except Exception as err:  # offline, no such repo, no access
        reason = first_line(err)
        if args.dry_run:
            logger.warning("could not list %s (%s): the dry run keeps the pattern and leaves out preload_from_hub",
                           args.model_repo, reason)
            return None
        raise UserError(f"could not list the files of {args.model_repo} ({reason}); check the repo id, or give "
                        "the exact file name with --model_file") from None
    matches = sorted(f for f in files if fnmatch.fnmatch(f, args.model_file))
    if not matches:
        raise UserError(f"no file in {args.model_repo} matches {args.model_file} (it has: "
                        f"{', '.join(f for f in files if f.endswith('.gguf')) or 'no .gguf files'})")
    return matches[0]


def local_gguf(args: SpaceArguments) -> Path:
    if args.gguf:
        path = Path(args.gguf)
        if not path.is_file():
            raise UserError(f"--gguf {path} does not exist: give a .gguf file (coverletter export makes them)")
        return path
    exports = runs.latest_exports()
    if not exports:
        raise UserError("no model for the Space: give --model_repo USER/GGUF_REPO (coverletter export --push_to "
                        "makes one) or --gguf FILE")
    return exports[0]


def front_matter(args: SpaceArguments, model_file: str | None):
    """The shell's README with this deployment's hardware and model."""
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(SHELL / "README.md")
    card.data.suggested_hardware = args.hardware
    if args.model_repo:
        card.data.models = [args.model_repo]
        if model_file and not args.private:  # the Hub preloads public repos only
            card.data.preload_from_hub = [f"{args.model_repo} {model_file}"]
    return card


def build_folder(args: SpaceArguments, folder: Path) -> SpacePlan:
    """Everything the Space runs: its app.py, README, requirements and package; the model or where to find it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SHELL / "app.py", folder / "app.py")
    requirements = (SHELL / "requirements.txt").read_text()
    if args.hardware == "zero-a10g":
        requirements += f"{ZERO_GPU_REQUIREMENT}\n"
    (folder / "requirements.txt").write_text(requirements)
    for module in served_files():
        target = folder / PACKAGE.name / module.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(module, target)
    if args.model_repo:
        model_file = model_file_name(args)
        variables = {"MODEL_REPO": args.model_repo, "MODEL_FILE": model_file or args.model_file}
    else:
        source, model_file = local_gguf(args), None
        carried = folder / CARRIED_MODEL_DIR / source.name
        carried.parent.mkdir(exist_ok=True)
        link_or_copy(source, carried)
        variables = {"MODEL_PATH": f"{CARRIED_MODEL_DIR}/{source.name}"}
    front_matter(args, model_file).save(folder / "README.md")
    return SpacePlan(folder, variables)


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link when both are on one file system: a 1B GGUF is a gigabyte."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# --------------------------------------------------------------------------- the Hub


def publish(args: SpaceArguments, plan: SpacePlan) -> str:
    """Create the Space, upload the folder, then set its variables and hardware: in that order, so that a failure
    leaves the Space as it was or with files but no new settings."""
    from huggingface_hub import HfApi

    api = HfApi(token=hub_token())
    try:
        api.create_repo(args.repo, repo_type="space", space_sdk="gradio", space_hardware=args.hardware,
                        private=args.private, exist_ok=True)
        api.upload_folder(repo_id=args.repo, repo_type="space", folder_path=str(plan.folder),
                          commit_message="coverletter space deploy")
    except Exception as err:  # no rights, network, quota: nothing has been configured yet
        reason = first_line(err, 300)
        raise UserError(f"uploading the Space {args.repo} failed ({reason}); no variables were set, "
                        "run the same command again") from None
    try:
        for key, value in plan.variables.items():
            api.add_space_variable(args.repo, key, value)
        stale = {"MODEL_REPO", "MODEL_FILE", "MODEL_PATH"} - set(plan.variables)
        for key in stale & set(api.get_space_variables(args.repo)):
            api.delete_space_variable(args.repo, key)  # a MODEL_PATH left from a carried model would win over a repo
        api.request_space_hardware(args.repo, args.hardware)
    except Exception as err:  # e.g. hardware the account may not use
        reason = first_line(err, 300)
        raise UserError(f"the files of {args.repo} were uploaded, but setting its variables "
                        f"({', '.join(f'{k}={v}' for k, v in plan.variables.items())}) and hardware "
                        f"{args.hardware} failed ({reason}): set them in the Space's settings, or run again") from None
    return f"https://huggingface.co/spaces/{args.repo}"


def deploy(args: SpaceArguments) -> SpacePlan:
    check_arguments(args)
    served_files()  # a copy that would carry training code is refused first
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="coverletter-space-"))
    plan = build_folder(args, folder)
    print(f"Space folder {folder}:\n{listing(folder)}")
    print("variables: " + ", ".join(f"{k}={v}" for k, v in plan.variables.items()))
    if args.dry_run:
        print("dry run: nothing was sent")
    else:
        print(f"deployed: {publish(args, plan)} (the Space builds and starts on its own)")
    return plan


def main(argv: list[str]) -> SpacePlan:
    """`coverletter space deploy ARGS`."""
    from transformers import HfArgumentParser

    if not argv or argv[0] != "deploy":
        raise UserError("usage: coverletter space deploy --repo USER/SPACE [options] (space deploy --help)")
    parser = HfArgumentParser(SpaceArguments, prog="coverletter space deploy")
    (args,) = parser.parse_args_into_dataclasses(argv[1:])
    return deploy(args)
