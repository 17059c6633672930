"""A llama.cpp model's chat prompt, rendered the one way that the letter writer, the held-out losses and the
export's checks share: the GGUF's own template, or Llama 3's for a Llama GGUF that has none."""

from __future__ import annotations


def use_llama3_without_template(llm) -> None:
    """llama-cpp-python reads the chat format from the file's template; a Llama GGUF without one gets llama-3
    (set on the loaded model: the format is only read when a chat is formatted)."""
    if not llm.metadata.get("tokenizer.chat_template") and llm.metadata.get("general.architecture") == "llama":
        llm.chat_format = "llama-3"


def chat_formatter(llm):
    """The prompt formatter that `create_chat_completion` uses for this model, as loaded by the writer
    (`use_llama3_without_template` applied): the GGUF's own template, or Llama 3's; None for any other format."""
    from llama_cpp import llama_chat_format

    if llm.chat_format == "chat_template.default":
        return llama_chat_format.Jinja2ChatFormatter(
            llm.metadata["tokenizer.chat_template"], eos_token=token_text(llm, llm.token_eos()),
            bos_token=token_text(llm, llm.token_bos()), stop_token_ids=[llm.token_eos()])
    if llm.chat_format == "llama-3":
        return llama_chat_format.format_llama3
    return None


def token_text(llm, token: int) -> str:
    return llm.detokenize([token], special=True).decode("utf-8", errors="ignore") if token != -1 else ""


def prompt_tokens(llm, formatter, messages: list[dict]) -> list[int]:
    """The prompt's tokens exactly as llama-cpp-python's chat completion evaluates them, ready for the answer."""
    rendered = formatter(messages=messages)
    return llm.tokenize(rendered.prompt.encode(), add_bos=not rendered.added_special, special=True)
