"""`coverletter` command line: wires subcommands to the stage modules, nothing more.

    coverletter train [--recipe R] [--any_recipe_key VALUE ...]
    coverletter export --run RUN_DIR [--quant q4_k_m q5_k_m q8_0] [--push_to USER/REPO] [--dry_run]
    coverletter serve [--host H] [--port P]
    coverletter evaluate --model GGUF_OR_RUN [--profiles FILE.jsonl] [--out DIR] [--no_length_steering]
    coverletter synth [--count 2000] [--seed 0] [--out FILE.jsonl]
    coverletter demo
    coverletter space deploy --repo USER/SPACE [--model_repo USER/GGUF_REPO] [--hardware cpu-basic|zero-a10g] [--dry_run]
    coverletter checkpoint pack RUN_DIR [--step N] [--out FILE.zip]

Multi-process data parallel: `accelerate launch --config_file recipes/accelerate/ddp-2proc.yaml -m coverletter train`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .config import ExportArguments
from .errors import CheckFailed, UserError

DEMO_OUTPUT_DIR = "runs/demo"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="coverletter", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="LoRA fine-tuning from a recipe (see --recipe, and train --help)", add_help=False)
    commands.add_parser("export", help="merge, convert to GGUF, quantize, validate, publish (export --help)",
                        add_help=False)
    commands.add_parser("evaluate", help="score letters from a GGUF on held-out profiles (evaluate --help)",
                        add_help=False)
    commands.add_parser("synth", help="synthetic cover-letter training examples and their variety (synth --help)",
                        add_help=False)
    commands.add_parser("space", help="build the Space and deploy it to the Hub (space deploy --help)",
                        add_help=False)
    demo = commands.add_parser("demo", help="fine-tune the embedded model on the shipped sample and export it to GGUF")
    demo.add_argument("--output_dir", default=DEMO_OUTPUT_DIR)
    demo.add_argument("--no_serve", action="store_true", help="stop after the export instead of serving the app")
    serve = commands.add_parser("serve", help="the cover-letter web app (MODEL_PATH / MODEL_REPO pick the model)")
    serve.add_argument("--host", help="default 127.0.0.1 (GRADIO_SERVER_NAME)")
    serve.add_argument("--port", type=int, help="default 7860 (GRADIO_SERVER_PORT)")
    checkpoint = commands.add_parser("checkpoint", help="checkpoint tools").add_subparsers(dest="action", required=True)
    pack = checkpoint.add_parser("pack", help="zip one checkpoint of a run (the latest by default)")
    pack.add_argument("run_dir")
    pack.add_argument("--step", type=int)
    pack.add_argument("--out")

    args, rest = parser.parse_known_args(argv)
    if args.command not in ("train", "export", "evaluate", "synth", "space") and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    setup_logging()
    run_guarded(lambda: dispatch(args, rest))


def dispatch(args, rest: list[str]) -> None:
    if args.command in ("train", "demo"):
        from .model import import_unsloth_if_usable

        import_unsloth_if_usable()  # before train imports transformers
        from .train import main as train_main

        if args.command == "train":
            train_main(rest)
        else:
            demo(args.output_dir, train_main, serve_after=not args.no_serve)
    elif args.command == "serve":
        from .app import serve

        serve(args.host, args.port)
    elif args.command == "evaluate":
        from .evaluate import main as evaluate_main

        evaluate_main(rest)
    elif args.command == "synth":
        from .synthetic import main as synth_main

        synth_main(rest)
    elif args.command == "export":
        from .export import main as export_main

        export_main(rest)
    elif args.command == "space":
        from .space import main as space_main

        space_main(rest)
    elif args.command == "checkpoint":
        from pathlib import Path

        from .train import pack_checkpoint

        print(pack_checkpoint(Path(args.run_dir), args.step, args.out and Path(args.out)))


def demo(output_dir: str, train_main, serve_after: bool) -> None:
    """The whole job on the embedded default: fine-tune, export Q4_K_M, Q5_K_M and Q8_0, serve the Q8_0."""
    from .export import export_gguf

    train_main(["--output_dir", output_dir])
    result = export_gguf(ExportArguments(run=output_dir))
    print(f"GGUF files in {result.out_dir}:")
    for path in result.files.values():
        print(f"  {path.name}  ({path.stat().st_size / 2**20:.0f} MB)")
    if serve_after:
        from .app import serve

        os.environ["MODEL_PATH"] = str(result.files["Q8_0"])
        print("serving the cover-letter app at http://127.0.0.1:7860 (Ctrl+C to stop)", flush=True)
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
