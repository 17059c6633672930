"""Offline stand-ins for Llama-3.2-1B-Instruct: everything users run except its trained weights.

The Hub cannot be reached here, but the format can be exact: the published architecture (its `config.json`),
Meta's own Llama 3 tokenizer (`llama_models/llama3/tokenizer.model` from the `llama-models` wheel, made a fast
tokenizer by transformers' `TikTokenConverter`), its special tokens at their real ids, and the Llama 3.2 instruct
chat template. The weights are random, from a fixed seed. So the template, the loss mask, training, export and
serving run here at the format and size that users get; only what the letters say means nothing.

    embedded:llama-3.2-1b-shape   the whole 1.24B-parameter architecture (speed and memory at the real size)
    embedded:llama-3-tiny         the same tokenizer and template on two small layers (the tests)
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from .errors import UserError

SEED = 3407
LICENSE = "llama3.2"  # the tokenizer and the chat template are Meta's, under the Llama 3.2 Community License
# meta-llama/Llama-3.2-1B-Instruct's config.json, as published
LLAMA_32_1B_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
    "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
    "head_dim": 64, "hidden_act": "silu", "rms_norm_eps": 1e-05, "tie_word_embeddings": True,
    "max_position_embeddings": 131072, "rope_theta": 500000.0,
    "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192},
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "initializer_range": 0.02,
    "attention_bias": False, "attention_dropout": 0.0, "mlp_bias": False, "pretraining_tp": 1, "use_cache": True,
    "torch_dtype": "bfloat16",
}
SHAPES = {
    "llama-3.2-1b-shape": LLAMA_32_1B_CONFIG,
    # small enough to train and export in seconds; the vocabulary, and so the tokenizer, stays whole
    "llama-3-tiny": {**LLAMA_32_1B_CONFIG, "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "torch_dtype": "float32",
                     # at 64 wide, 0.02 gives logits within ±1.3: too flat for a greedy letter to survive the
                     # repeat penalty and the length steering once trained
                     "initializer_range": 0.15},
}
BOS, EOS, END_OF_TURN = "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"
# ids 128000-128255, named as in the Hub's Llama-3.2-1B-Instruct tokenizer (Meta's wheel names 128005 and 128011
# after its vision models' tokens; the text model's files call them reserved)
SPECIAL_TOKENS = [BOS, EOS, "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
                  "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eom_id|>", END_OF_TURN, "<|python_tag|>",
                  *(f"<|reserved_special_token_{i}|>" for i in range(3, 248))]
TEMPLATE = Path(__file__).with_name("templates") / "llama-3.2-instruct.jinja"
NEEDED = {"tiktoken": "tiktoken", "llama_models": "llama-models"}  # module -> the package that provides it


def check_packages() -> None:
    for module, package in NEEDED.items():
        if importlib.util.find_spec(module) is None:
            raise UserError(f"the Llama 3 stand-in needs the package {package}: pip install {package}")


def meta_tokenizer_file() -> Path:
    """Meta's tiktoken BPE ranks, found in the installed wheel without importing it."""
    for file in importlib.metadata.files("llama-models") or []:
        if file.as_posix() == "llama_models/llama3/tokenizer.model":
            return Path(file.locate())
    raise UserError("the installed llama-models has no llama_models/llama3/tokenizer.model; reinstall it")


def llama3_tokenizer():
    """Llama 3's tokenizer as a transformers fast tokenizer, with the special tokens and chat template of
    Llama-3.2-1B-Instruct (BOS added by the tokenizer, as the Hub's tokenizer.json does)."""
    check_packages()
    from llama_models.llama3.tokenizer import Tokenizer as MetaTokenizer
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    converted = TikTokenConverter(vocab_file=str(meta_tokenizer_file()), pattern=MetaTokenizer.pat_str,
                                  extra_special_tokens=SPECIAL_TOKENS).converted()
    bos_id = converted.token_to_id(BOS)
    converted.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=f"{BOS}:0 $A:0", pair=f"{BOS}:0 $A:0 {BOS}:1 $B:1",
                                      special_tokens=[(BOS, bos_id)]),
    ])
    return PreTrainedTokenizerFast(tokenizer_object=converted, bos_token=BOS, eos_token=END_OF_TURN,
                                   chat_template=TEMPLATE.read_text(), model_max_length=131072,
                                   clean_up_tokenization_spaces=False,
                                   model_input_names=["input_ids", "attention_mask"])


def build(key: str, folder: Path) -> None:
    """Write the stand-in `key` into `folder` as a Hub-style checkpoint: config, safetensors, tokenizer, card."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    tokenizer = llama3_tokenizer()
    settings = dict(SHAPES[key])
    dtype = getattr(torch, settings.pop("torch_dtype"))
    config = AutoConfig.for_model(**settings)
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    # Llama-3.2-1B-Instruct's generation_config.json
    model.generation_config = GenerationConfig(bos_token_id=128000, eos_token_id=[128001, 128008, 128009],
                                               do_sample=True, temperature=0.6, top_p=0.9)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "README.md").write_text(
        f"---\nlicense: {LICENSE}\n---\n\n# {key}\n\nLlama-3.2-1B-Instruct's architecture, tokenizer and chat "
        f"template with random weights (seed {SEED}), made by `coverletter.standin` to run the real format "
        "offline. Its letters mean nothing.\n")
