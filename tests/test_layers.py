"""The package's layers: imports point one way (data -> model -> train -> export -> generate -> app)."""

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGE = ROOT / "src" / "coverletter"
# Lower layers first; a module may import its own layer and those before it, never one after it
LAYERS = [
    {"chat", "config", "embedded", "errors", "facts", "jobad", "letter", "precision", "prose", "rubric", "resume",
     "runs"},
    {"claims", "guards", "steering", "vocabulary"},
    {"synthetic", "standin"},
    {"data"},
    {"heldout", "model"},
    {"hub"},  # every Hub call: the exporter, the notebook and the Space's deployment publish through it
    {"train"},
    {"export"},
    {"generate"},
    {"evaluate", "notebook"},
    {"app"},  # the page: nothing but the command line imports it
    {"space"},  # the deployment of the page
    {"cli", "__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def top_module(path) -> str:
    """'data' for src/coverletter/data/cleaning.py, 'export' for src/coverletter/export.py."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def our_imports(path, top_level_only: bool) -> set[str]:
    """The package's modules that a file imports (relative imports), by their top name."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    in_subpackage = path.parent != PACKAGE
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level == 1 and in_subpackage:  # a sibling inside the same subpackage
                continue
            found |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
    return found


def test_every_module_has_a_layer():
    modules = {top_module(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE}
    assert modules <= set(RANK), f"give these a layer: {sorted(modules - set(RANK))}"


def test_imports_point_down_the_layers_only():
    upward = [(top_module(p), target) for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py"
              for target in our_imports(p, top_level_only=False) if RANK[target] > RANK[top_module(p)]]
    assert not upward, f"imports that point up a layer (or into the UI): {upward}"


def test_no_deferred_import_of_our_own_modules_but_the_command_lines_lazy_dispatch():
    deferred = []
    for path in PACKAGE.rglob("*.py"):
        if top_module(path) == "cli":
            continue  # `coverletter serve` must not pay for importing torch: each subcommand imports its stage
        inside_functions = our_imports(path, top_level_only=False) - our_imports(path, top_level_only=True)
        deferred += [(top_module(path), name) for name in inside_functions]
    assert not deferred, f"imports moved into a function: {deferred}"


def test_the_evaluation_and_the_page_import_neither_torch_nor_transformers():
    code = ("import sys, coverletter.evaluate, coverletter.app, coverletter.generate; "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
    code = "import sys, coverletter.evaluate; print('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == \
        "False"


def test_the_code_passes_the_linter_and_no_module_outgrows_400_lines():
    """pyproject.toml's [tool.ruff]: no unused import or undefined name, no line over 120 characters."""
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", "src", "tests", "benchmarks",
                           "huggingface"], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) <= 400, {name: n for name, n in sizes.items() if n > 400}
