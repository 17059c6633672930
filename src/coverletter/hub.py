"""The Hugging Face Hub: repo ids, the token, the model card, uploads and listings. Every Hub call goes through here.

The token comes from HF_TOKEN or the cached `hf auth login`; it is passed to `HfApi` and never printed or saved.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import shutil
from pathlib import Path

from . import model as model_lib
from . import runs
from .errors import UserError, first_line

logger = logging.getLogger(__name__)

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
LOGIN_HINT = "set HF_TOKEN or run `hf auth login`"
MODEL_TAGS = ["gguf", "llama-cpp", "lora", "coverletter"]
ADAPTER_LEFT_OUT = ("optimizer.pt", "scheduler.pt", "rng_state*", "training_args.bin")  # resume state, not the model


# --------------------------------------------------------------------------- repo ids and the token


def hub_token() -> str | None:
    """HF_TOKEN or the cached `hf auth login`; never printed."""
    from huggingface_hub import get_token

    return get_token()


def valid_repo_id(repo_id: str) -> bool:
    """USER/NAME as the Hub accepts it (no '--' or '..' inside)."""
    return bool(REPO_ID.match(repo_id)) and "--" not in repo_id and ".." not in repo_id


def check_repo_id(repo_id: str, flag: str) -> None:
    if not valid_repo_id(repo_id):
        raise UserError(f"malformed {flag} '{repo_id}': expected USER/NAME (letters, digits, '-', '_', '.')")


def check_can_send(dry_run: bool, what: str, fallback: str) -> None:
    """Sending needs a token: say how to get one before any work, or how to only build the folder."""
    if not dry_run and not hub_token():
        raise UserError(f"{what} needs a Hugging Face token: {LOGIN_HINT} (or add --dry_run to only {fallback})")


def check_push(repo_id: str | None, dry_run: bool) -> None:
    if repo_id is not None:
        check_repo_id(repo_id, "Hub repo id")
        check_can_send(dry_run, "pushing", "build the upload folder")


def listing(folder: Path) -> str:
    return "\n".join(f"{p.stat().st_size:>12,}  {p.relative_to(folder)}"
                     for p in sorted(folder.rglob("*")) if p.is_file())


# --------------------------------------------------------------------------- the model card


CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ name }}

A LoRA fine-tune of {% if base_model %}[{{ base_model }}](https://huggingface.co/{{ base_model }}){% else %}\
{{ base_name }} (made offline, random weights){% endif %} for writing cover letters, merged
with peft, converted to GGUF with llama.cpp's converter and quantized with llama.cpp. Made with coverletter
(`coverletter train`, then `coverletter export`). The chat template is stored in each file.

## Files

{{ table }}
Perplexity is on held-out FineTome-style conversations; agreement is the share of positions where the file's
most likely next token equals the reference's (the merged model for F16, F16 for the quantizations).

## Use

```python
from llama_cpp import Llama

llm = Llama.from_pretrained(repo_id="{{ repo_id }}", filename="*Q8_0.gguf")
reply = llm.create_chat_completion(messages=[{"role": "user", "content": "Write a short cover letter for ..."}])
print(reply["choices"][0]["message"]["content"])
```

```bash
llama-cli -hf {{ repo_id }}:Q4_K_M -cnv
```
"""


def model_card(report: dict, table: str, repo_id: str, run_dir: Path):
    """The Hub model card (huggingface_hub's ModelCard): metadata for the Hub's filters, the files, how to use them."""
    from huggingface_hub import ModelCard, ModelCardData

    base_hub_id, license_id, dataset = card_facts(run_dir, report["base_model"])
    data = ModelCardData(base_model=base_hub_id, datasets=[dataset], license=license_id, tags=MODEL_TAGS,
                         pipeline_tag="text-generation")
    return ModelCard.from_template(data, template_str=CARD_TEMPLATE, name=repo_id.split("/")[-1],
                                   base_model=base_hub_id, base_name=report["base_model"], table=table,
                                   repo_id=repo_id)


def card_facts(run_dir: Path, base_name: str) -> tuple[str | None, str, str]:
    """(base model Hub id, license, dataset) for the model card's metadata."""
    embedded = base_name.startswith(model_lib.EMBEDDED_PREFIX)
    base_hub_id = model_lib.embedded_hub_id(base_name) if embedded else base_name
    dataset = runs.read_run_info(run_dir).get("dataset_name", "unknown")
    local_file = dataset.endswith((".jsonl", ".json", ".parquet"))
    return base_hub_id, base_license(base_name), Path(dataset).stem if local_file else dataset


def base_license(base_name: str) -> str:
    """The license the base model states: in its model card (a local folder's README.md, or the Hub's), or in the
    embedded GGUF's metadata; 'other' when it states none or cannot be reached."""
    from huggingface_hub import ModelCard

    if base_name.startswith(model_lib.EMBEDDED_PREFIX):
        return model_lib.embedded_license(base_name) or "other"
    card = Path(base_name) / "README.md" if Path(base_name).is_dir() else base_name
    try:
        return ModelCard.load(card).data.license or "other"
    except Exception as err:  # no card, offline, no such repo
        logger.warning("no license found for %s (%s): the model card says 'other'", base_name,
                       first_line(err, 160))
        return "other"


# --------------------------------------------------------------------------- uploads


def build_upload_folder(result_dir: Path, files: dict[str, Path], card, adapter: Path | None) -> Path:
    """The exact folder that is uploaded: hard links to the GGUF files, the card, optionally the adapter."""
    folder = result_dir / "upload"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for path in files.values():
        os.link(path, folder / path.name)
    card.save(folder / "README.md")
    if adapter is not None:
        shutil.copytree(adapter, folder / "adapter", ignore=shutil.ignore_patterns(*ADAPTER_LEFT_OUT))
    return folder


def push_model(folder: Path, repo_id: str, private: bool) -> str:
    from huggingface_hub import HfApi

    api = HfApi(token=hub_token())
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message="coverletter export")
    return f"https://huggingface.co/{repo_id}"


def publish_model(result, push_to: str, *, private: bool = False, with_adapter: bool = False,
                  dry_run: bool = False) -> Path:
    """Upload an export's GGUF files (an `export.ExportResult`, whose `table` lists them) with a model card, and
    optionally the adapter; returns the upload folder."""
    check_push(push_to, dry_run)
    card = model_card(result.report, result.table, push_to, result.run_dir)
    result.upload_dir = build_upload_folder(result.out_dir, result.files, card,
                                            result.adapter if with_adapter else None)
    print(f"upload folder {result.upload_dir}:\n{listing(result.upload_dir)}")
    if dry_run:
        print("dry run: nothing was sent")
    else:
        print("published:", push_model(result.upload_dir, push_to, private))
    return result.upload_dir


def matching_file(repo_id: str, pattern: str, dry_run: bool) -> str | None:
    """The exact file that a pattern names in a model repo; None in a dry run that cannot list the repo."""
    from huggingface_hub import HfApi

    try:
        files = HfApi(token=hub_token()).list_repo_files(repo_id)
    except Exception as err:  # offline, no such repo, no access
        reason = first_line(err)
        if dry_run:
            logger.warning("could not list %s (%s): the dry run keeps the pattern", repo_id, reason)
            return None
        raise UserError(f"could not list the files of {repo_id} ({reason}); check the repo id, or give "
                        "the exact file name") from None
    matches = sorted(f for f in files if fnmatch.fnmatch(f, pattern))
    if not matches:
        raise UserError(f"no file in {repo_id} matches {pattern} (it has: "
                        f"{', '.join(f for f in files if f.endswith('.gguf')) or 'no .gguf files'})")
    return matches[0]


MODEL_VARIABLES = {"MODEL_REPO", "MODEL_FILE", "MODEL_PATH"}  # what the Space's app reads to find its model


def push_space(repo_id: str, folder: Path, variables: dict[str, str], hardware: str, private: bool) -> str:
    """Create the Space, upload the folder, then set its variables and hardware: in that order, so that a failure
    leaves the Space as it was or with files but no new settings."""
    from huggingface_hub import HfApi

    api = HfApi(token=hub_token())
    try:
        api.create_repo(repo_id, repo_type="space", space_sdk="gradio", space_hardware=hardware,
                        private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, repo_type="space", folder_path=str(folder),
                          commit_message="coverletter space deploy")
    except Exception as err:  # no rights, network, quota: nothing has been configured yet
        reason = first_line(err, 300)
        raise UserError(f"uploading the Space {repo_id} failed ({reason}); no variables were set, "
                        "run the same command again") from None
    try:
        for key, value in variables.items():
            api.add_space_variable(repo_id, key, value)
        for key in (MODEL_VARIABLES - set(variables)) & set(api.get_space_variables(repo_id)):
            api.delete_space_variable(repo_id, key)  # a MODEL_PATH left from a carried model would win over a repo
        api.request_space_hardware(repo_id, hardware)
    except Exception as err:  # e.g. hardware the account may not use
        reason = first_line(err, 300)
        raise UserError(f"the files of {repo_id} were uploaded, but setting its variables "
                        f"({', '.join(f'{k}={v}' for k, v in variables.items())}) and hardware "
                        f"{hardware} failed ({reason}): set them in the Space's settings, or run again") from None
    return f"https://huggingface.co/spaces/{repo_id}"
