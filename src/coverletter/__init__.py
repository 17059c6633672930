"""coverletter: fine-tune small Llama models into cover-letter writers, export to GGUF, serve on a CPU."""

__version__ = "0.1.0"
