import subprocess
import sys

import pytest

from coverletter import config, precision
from coverletter.config import parse_train_args, recipe_path
from coverletter.errors import UserError

from conftest import ROOT, cpu_only, run_cli


def test_colab_recipe_has_the_reference_values():
    data_args, run_args, model_args, t = parse_train_args(["--recipe", "llama-3.2-1b-colab"])
    assert (t.per_device_train_batch_size, t.gradient_accumulation_steps, t.warmup_steps) == (2, 4, 5)
    assert (t.num_train_epochs, t.learning_rate, t.optim, t.weight_decay) == (2, 2e-4, "adamw_8bit", 0.01)
    assert (str(t.lr_scheduler_type), t.seed, t.logging_steps, t.save_steps) == ("SchedulerType.LINEAR", 3407, 1, 100)
    assert t.max_length == 2048
    assert (model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout) == (16, 16, 0.0)
    projections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert model_args.lora_target_modules == projections
    assert model_args.load_in_4bit and model_args.use_peft
    assert model_args.model_name_or_path == "unsloth/Llama-3.2-1B-Instruct"
    assert data_args.dataset_name == "mlabonne/FineTome-100k"
    assert run_args.resume == "auto"


@cpu_only
@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("recipe", ["llama-3.2-1b-colab", "smollm2-135m-cpu"])  # the CPU recipe sets use_cpu itself
def test_precision_on_a_cpu_is_bf16_autocast_where_the_cpu_does_it_faster_else_fp32(monkeypatch, native, recipe):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(precision, "cpu_bf16_is_faster", lambda: native)
    _, _, _, t = parse_train_args(["--recipe", recipe])
    assert not t.fp16 and t.bf16 == native  # (bf16 on an A100, fp16 on a T4)
    assert t.use_cpu == (native or recipe == "smollm2-135m-cpu")


def test_cpu_recipe_is_the_default_and_command_line_overrides_it():
    data_args, run_args, model_args, t = parse_train_args(["--max_steps", "4", "--output_dir", "x", "--lora_r", "8",
                                                           "--min_score", "4.2", "--resume", "never"])
    assert model_args.model_name_or_path == "embedded:smollm2-135m-instruct"
    assert data_args.dataset_name == "data/finetome-sample.jsonl" and data_args.min_score == 4.2
    assert (t.max_steps, t.output_dir, model_args.lora_r, run_args.resume) == (4, "x", 8, "never")


def test_explicit_precision_wins_over_the_automatic_choice(tmp_path):
    *_, t = parse_train_args(["--bf16", "false"])
    assert not t.bf16
    path = tmp_path / "fp32.yaml"
    path.write_text("bf16: false\n")
    *_, t = parse_train_args(["--recipe", str(path)])
    assert not t.bf16 and not t.fp16


def test_recipe_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("max_steps: 3\nlearning_rate: 1.0e-3\n")
    *_, t = parse_train_args(["--recipe", str(path)])
    assert t.max_steps == 3 and t.learning_rate == 1e-3


@pytest.mark.parametrize("recipe_text,match", [
    ("lora_rank: 8\n", r"unknown recipe key: lora_rank \(did you mean .*lora_r\b.*Valid keys: .*learning_rate"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("a: [1,\n", "not valid YAML"),
    ("learning_rate: 0\n", "learning_rate must be > 0"),
    ("learning_rate: -1.0e-4\n", "learning_rate must be > 0"),
    ("save_steps: 0\n", "save_steps must be > 0"),
    ("save_steps: -5\n", "save_steps must be > 0"),
])
def test_bad_recipes_fail_with_a_clear_message(tmp_path, recipe_text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(recipe_text)
    with pytest.raises(UserError, match=match):
        parse_train_args(["--recipe", str(path)])


def test_unknown_command_line_option_lists_valid_keys():
    with pytest.raises(UserError, match=r"unknown option: --lerning_rate \(did you mean --learning_rate"):
        parse_train_args(["--lerning_rate", "1e-4"])


def test_missing_recipe_names_the_known_ones():
    with pytest.raises(UserError, match="smollm2-135m-cpu"):
        recipe_path("no-such-recipe")
    assert recipe_path("llama-3.2-1b-colab").parent == ROOT / "recipes"


@pytest.mark.parametrize("args,match", [
    (["train", "--recipe", "nope"], "recipe 'nope' not found"),
    (["train", "--learning_rate", "0"], "learning_rate must be > 0"),
    (["train", "--save_steps", "0"], "save_steps must be > 0"),
    (["train", "--dataset_name", "missing.jsonl"], "dataset file not found: missing.jsonl"),
    (["train", "--model_name_or_path", "no-such-org/no-such-model"], "Hugging Face Hub could not provide it"),
    (["train", "--model_name_or_path", "embedded:llama-70b"], "unknown embedded model 'llama-70b'"),
    (["train", "--resume", "/nonexistent/checkpoint-3"], "not a complete checkpoint folder"),
    (["checkpoint", "pack", "--run", "/nonexistent-run"], "no complete checkpoint in /nonexistent-run"),
])
def test_cli_user_errors_are_one_line_without_traceback(args, match, tmp_path):
    result = run_cli(*args, "--output_dir", str(tmp_path / "out")) if args[0] == "train" else run_cli(*args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert match in result.stderr.strip().splitlines()[-1]


SUBCOMMANDS = {  # each subcommand's words before its options, and one option it must list
    "train": (["train"], "learning_rate"), "export": (["export"], "push_to"), "serve": (["serve"], "port"),
    "evaluate": (["evaluate"], "written_heldout"), "synth": (["synth"], "count"),
    "demo": (["demo"], "output_dir"), "space": (["space", "deploy"], "model_repo"),
    "checkpoint": (["checkpoint", "pack"], "step"), "letters": (["letters", "check"], "paths"),
}


def cli_exit(capsys, *args) -> tuple[int, str, str]:
    from coverletter import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_lists_every_option_with_its_default(command, capsys):
    words, option = SUBCOMMANDS[command]
    code, out, _ = cli_exit(capsys, *words, "--help")
    assert code == 0 and f"--{option}" in out and "(default:" in out
    assert "--recipe NAME_OR_YAML" in out  # every subcommand takes its options from a recipe too
    assert ("default smollm2-135m-cpu" in out) == (command in ("train", "export"))  # the training settings


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_a_misspelled_flag_fails_at_once_with_the_close_matches(command, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    words, option = SUBCOMMANDS[command]
    code, out, err = cli_exit(capsys, *words, f"--{option}x", "1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"unknown option: --{option}x (did you mean --{option}" in err
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("command", [name for name, (words, _) in SUBCOMMANDS.items() if len(words) == 2])
def test_a_missing_or_unknown_action_is_one_line_naming_the_actions(command, capsys):
    action = SUBCOMMANDS[command][0][1]
    for given in ([], ["nonsense"], [f"--{SUBCOMMANDS[command][1]}", "1"]):
        code, out, err = cli_exit(capsys, command, *given)
        assert code == 2 and out == "" and err.count("\n") == 1, given
        assert f"usage: coverletter {command} " in err and f"{action}: " in err and f"{action} --help" in err


def test_one_flag_spelling_with_the_same_dashed_aliases_everywhere():
    (args,) = config.parse_args((config.EvaluateArguments,), ["--model", "m.gguf", "--no-length-steering",
                                                              "--written-heldout", "w.jsonl"], "coverletter evaluate")
    assert (args.length_steering, args.written_heldout) == (False, "w.jsonl")
    (args,) = config.parse_args((config.SpaceArguments,), ["--repo", "me/s", "--dry-run", "--model_repo", "me/m"],
                                "coverletter space deploy")
    assert args.dry_run and args.model_repo == "me/m"


def test_a_recipe_sets_the_options_of_any_subcommand_and_the_command_line_wins(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("output_dir: runs/mine\nlimit: 8\ntemperature: 0.3\nport: 7999\nquant: [q8_0]\n")
    (evaluate,) = config.parse_args((config.EvaluateArguments,), ["--recipe", str(path), "--model", "m",
                                                                  "--temperature", "0.5"], "coverletter evaluate")
    assert (evaluate.limit, evaluate.temperature) == (8, 0.5)
    (serve,) = config.parse_args((config.ServeArguments,), ["--recipe", str(path)], "coverletter serve")
    assert serve.port == 7999
    export = config.parse_export_args(["--recipe", str(path)])
    assert (export.run, export.quant) == ("runs/mine", ["q8_0"])  # the run defaults to the recipe's output_dir


def test_serving_and_evaluating_parse_their_options_without_importing_torch():
    code = ("import sys; from coverletter import config; "
            "config.parse_args((config.ServeArguments,), ['--port', '8000'], 'serve'); "
            "print('torch' in sys.modules, 'trl' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_a_missing_required_option_and_an_unknown_command_are_one_line(capsys):
    code, _, err = cli_exit(capsys, "evaluate")
    assert code == 2 and err.strip() == ("coverletter: error: coverletter evaluate: the following arguments are "
                                         "required: --model")
    code, _, err = cli_exit(capsys, "evalute", "--model", "x")
    assert code == 2 and "unknown command 'evalute' (did you mean evaluate?)" in err and err.count("\n") == 1
