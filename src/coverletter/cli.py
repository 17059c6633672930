"""`coverletter` command line: one subcommand per stage, each reading its options with `config.parse_args`.

    coverletter train [--recipe R] [--any_recipe_key VALUE ...]
    coverletter export --run RUN_DIR [--quant q4_k_m q5_k_m q8_0] [--push_to USER/REPO] [--dry_run]
    coverletter serve [--host H] [--port P]
    coverletter evaluate --model GGUF_OR_RUN [--profiles FILE.jsonl] [--out DIR] [--no_length_steering]
    coverletter synth [--count 2000] [--seed 0] [--out FILE.jsonl]
    coverletter letters check|split|stats [--paths FILE.jsonl ...]
    coverletter demo [--output_dir runs/demo] [--no_serve]
    coverletter space deploy --repo USER/SPACE [--model_repo USER/GGUF_REPO] [--hardware cpu-basic|zero-a10g]
        [--dry_run]
    coverletter checkpoint pack --run RUN_DIR [--step N] [--out FILE.zip]

Every option can also come from a recipe (`--recipe R`); `coverletter COMMAND --help` lists them with their defaults.
Multi-process data parallel: `accelerate launch --config_file recipes/accelerate/ddp-2proc.yaml -m coverletter train`.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from pathlib import Path

from . import runs
from .config import CheckpointArguments, DemoArguments, ExportArguments, ServeArguments, parse_action_args, parse_args
from .errors import CheckFailed, UserError

COMMANDS = {
    "train": "LoRA fine-tuning from a recipe",
    "export": "merge, convert to GGUF, quantize, validate, publish",
    "serve": "the cover-letter web app (MODEL_PATH / MODEL_REPO pick the model)",
    "evaluate": "score letters from a GGUF on held-out profiles",
    "synth": "synthetic cover-letter training examples and their variety",
    "letters": "the written letters: check rows, split by applicant, statistics (letters check|split|stats)",
    "demo": "fine-tune the embedded model on the shipped sample, export it to GGUF, serve it",
    "space": "build the Space and deploy it to the Hub (space deploy)",
    "checkpoint": "zip one checkpoint of a run (checkpoint pack)",
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        sys.exit(0 if argv else 2)
    setup_logging()
    run_guarded(lambda: dispatch(argv[0], argv[1:]))


def usage() -> str:
    width = max(map(len, COMMANDS))
    return "usage: coverletter COMMAND [options]  (coverletter COMMAND --help)\n\n" + "\n".join(
        f"  {name:<{width}}  {what}" for name, what in COMMANDS.items())


def dispatch(command: str, argv: list[str]) -> None:
    if command not in COMMANDS:
        close = difflib.get_close_matches(command, COMMANDS, n=2)
        raise UserError(f"unknown command '{command}'" + (f" (did you mean {' or '.join(close)}?)" if close else "")
                        + f"; commands: {', '.join(COMMANDS)}")
    if command in ("train", "demo"):
        from .model import import_unsloth_if_usable

        import_unsloth_if_usable()  # before train imports transformers
    if command == "train":
        from .train import main as train_main

        train_main(argv)
    elif command == "demo":
        demo(*parse_args((DemoArguments,), argv, "coverletter demo"))
    elif command == "serve":
        from .app import serve

        (args,) = parse_args((ServeArguments,), argv, "coverletter serve")
        serve(args.host, args.port)
    elif command == "evaluate":
        from .evaluate import main as evaluate_main

        evaluate_main(argv)
    elif command == "synth":
        from .synthetic import main as synth_main

        synth_main(argv)
    elif command == "letters":
        from .data.letters import main as letters_main

        letters_main(argv)
    elif command == "export":
        from .export import main as export_main

        export_main(argv)
    elif command == "space":
        from .space import main as space_main

        space_main(argv)
    elif command == "checkpoint":
        from .train import pack_checkpoint

        _, (args,) = parse_action_args((CheckpointArguments,), argv, "checkpoint",
                                       {"pack": "zip one checkpoint of a run"})
        print(pack_checkpoint(Path(args.run), args.step, args.out and Path(args.out)))


def demo(args: DemoArguments) -> None:
    """The whole job on the embedded default: fine-tune, export Q4_K_M, Q5_K_M and Q8_0, serve the served quant."""
    from .app import serve, server_address
    from .export import export_gguf
    from .train import main as train_main

    train_main(["--output_dir", args.output_dir])
    result = export_gguf(ExportArguments(run=args.output_dir))
    print(f"GGUF files in {result.out_dir}:")
    for path in result.files.values():
        print(f"  {path.name}  ({path.stat().st_size / 2**20:.0f} MB)")
    if args.serve:
        os.environ["MODEL_PATH"] = str(result.files[runs.SERVED_QUANT])
        host, port = server_address()
        print(f"serving the cover-letter app at http://{host}:{port} (Ctrl+C to stop)", flush=True)
        serve()


def setup_logging() -> None:
    level = logging.INFO if int(os.environ.get("LOCAL_RANK", "0")) == 0 else logging.WARNING
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S", level=level)


def run_guarded(action) -> None:
    """User mistakes end with one clear line and exit code 2, never a traceback."""
    try:
        action()
    except UserError as err:
        print(f"coverletter: error: {err}", file=sys.stderr)
        sys.exit(2)
    except CheckFailed as err:
        print(f"coverletter: check failed: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("coverletter: interrupted; the last complete checkpoint is kept (resume with the same command)",
              file=sys.stderr)
        sys.exit(130)
