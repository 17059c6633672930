import pytest

from coverletter.config import cpu_has_native_bf16, parse_train_args, recipe_path
from coverletter.errors import UserError

from conftest import ROOT, cpu_only, run_cli


def test_colab_recipe_has_the_reference_values():
    data_args, run_args, model_args, t = parse_train_args(["--recipe", "llama-3.2-1b-colab"])
    assert (t.per_device_train_batch_size, t.gradient_accumulation_steps, t.warmup_steps) == (2, 4, 5)
    assert (t.num_train_epochs, t.learning_rate, t.optim, t.weight_decay) == (2, 2e-4, "adamw_8bit", 0.01)
    assert (str(t.lr_scheduler_type), t.seed, t.logging_steps, t.save_steps) == ("SchedulerType.LINEAR", 3407, 1, 100)
    assert t.max_length == 2048
    assert (model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout) == (16, 16, 0.0)
    assert model_args.lora_target_modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert model_args.load_in_4bit and model_args.use_peft
    assert model_args.model_name_or_path == "unsloth/Llama-3.2-1B-Instruct"
    assert data_args.dataset_name == "mlabonne/FineTome-100k"
    assert run_args.resume == "auto"


@cpu_only
def test_precision_on_a_cpu_is_bf16_autocast_where_the_cpu_has_it_else_fp32():
    _, _, _, t = parse_train_args(["--recipe", "llama-3.2-1b-colab"])
    assert not t.fp16 and t.bf16 == cpu_has_native_bf16()  # (bf16 on an A100, fp16 on a T4)


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
    with pytest.raises(UserError, match=r"unknown option: --lerning_rate \(did you mean learning_rate"):
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
    (["checkpoint", "pack", "/nonexistent-run"], "no complete checkpoint in /nonexistent-run"),
])
def test_cli_user_errors_are_one_line_without_traceback(args, match, tmp_path):
    result = run_cli(*args, "--output_dir", str(tmp_path / "out")) if args[0] == "train" else run_cli(*args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert match in result.stderr.strip().splitlines()[-1]
