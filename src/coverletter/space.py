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
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import runs
from .errors import UserError
from .hub import check_can_send, check_repo_id, listing, matching_file, push_space
from .config import SPACE_HARDWARE, SpaceArguments, parse_action_args


SHELL = runs.CHECKOUT / "huggingface"  # the Space's thin shell in a checkout
PACKAGE = Path(__file__).resolve().parent
ZERO_GPU_REQUIREMENT = "spaces  # ZeroGPU's package: the app registers the GPU function its start-up check asks for"
CARRIED_MODEL_DIR = "model"


@dataclass
class SpacePlan:
    folder: Path
    variables: dict[str, str]  # set on the Space once the upload succeeded


# --------------------------------------------------------------------------- checks before anything is built or sent


def check_arguments(args: SpaceArguments) -> None:
    for name in ("repo", "model_repo"):
        if getattr(args, name) is not None:
            check_repo_id(getattr(args, name), f"--{name}")
    if args.hardware not in SPACE_HARDWARE:
        raise UserError(f"--hardware {args.hardware} is not one this app runs on: "
                        f"choose {' or '.join(SPACE_HARDWARE)}")
    if args.out and Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise UserError(f"--out {args.out} is not empty: give a new folder (what is in it would be uploaded too)")
    if not SHELL.is_dir():
        raise UserError(f"the Space's files are not at {SHELL}: run space deploy from a checkout of the repository")
    check_can_send(args.dry_run, "deploying", "build the folder")


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
    """The exact file that --model_file names in --model_repo (preload_from_hub takes names, not patterns); None in a
    dry run that cannot list the repo (the folder then keeps the pattern and leaves out preload_from_hub)."""
    if not any(c in args.model_file for c in "*?["):
        return args.model_file
    return matching_file(args.model_repo, args.model_file, args.dry_run)


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
        url = push_space(args.repo, plan.folder, plan.variables, args.hardware, args.private)
        print(f"deployed: {url} (the Space builds and starts on its own)")
    return plan


def main(argv: list[str]) -> SpacePlan:
    """`coverletter space deploy ARGS`."""
    _, (args,) = parse_action_args((SpaceArguments,), argv, "space", {"deploy": "build the Space and upload it"})
    return deploy(args)
