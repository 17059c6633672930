"""Which precision training runs in on this machine, where a recipe leaves it unset: bf16 on GPUs that have it,
fp16 on the others (a T4); on a CPU, bf16 autocast only where it is measured faster than fp32 here."""

from __future__ import annotations

import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)

BF16_MARGIN = 1.1  # bf16 autocast only where clearly faster: near 1.0 the two could swap between runs


def precision_defaults() -> dict:
    """TrainingArguments' precision for this machine, as the module's docstring says (docs/benchmarks.md)."""
    import torch

    cuda = torch.cuda.is_available()
    bf16 = torch.cuda.is_bf16_supported() if cuda else cpu_has_native_bf16() and cpu_bf16_is_faster()
    cpu_autocast = {"use_cpu": True} if bf16 and not cuda else {}  # else TrainingArguments refuses bf16
    return {"bf16": bf16, "fp16": cuda and not bf16, **cpu_autocast}


def cpu_bf16_is_faster(margin: float = BF16_MARGIN) -> bool:
    """Whether a matrix product of the embedded model's shapes runs faster under bf16 autocast than in fp32, timed
    both ways on this CPU (a fifth of a second). The flags do not tell: some CPUs with AVX-512-BF16 run it slower."""
    import torch

    x, w = torch.randn(1024, 576), torch.randn(576, 1536)

    def fastest(bf16: bool) -> float:
        times = []
        for _ in range(8):  # the first warms the kernels up
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                x @ w
            times.append(time.perf_counter() - start)
        return min(times[1:])

    faster = fastest(False) / fastest(True) >= margin
    if not faster:
        logger.info("bf16 autocast is no faster than fp32 on this CPU: training in fp32")
    return faster


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """AVX-512-BF16 or AMX in /proc/cpuinfo's flags: without them bf16 is emulated and slower than fp32."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:  # not Linux
            return False
    flags = set(cpuinfo.split())
    return "avx512_bf16" in flags or "amx_bf16" in flags
