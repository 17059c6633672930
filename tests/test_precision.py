"""Which precision training runs in: the CPU's flags, then a timing of bf16 autocast against fp32."""

import pytest

from coverletter import precision

from conftest import cpu_only


def test_the_cpu_probe_reads_native_bf16_from_the_cpus_flags():
    flags = "flags\t\t: fpu sse2 avx avx2 fma"
    assert not precision.cpu_has_native_bf16(flags)  # AVX2 only: bf16 would be emulated, slower than fp32
    assert precision.cpu_has_native_bf16(flags + " avx512f avx512_bf16 avx512_vnni")
    assert precision.cpu_has_native_bf16(flags + " amx_bf16 amx_tile")
    assert not precision.cpu_has_native_bf16("")  # no /proc/cpuinfo (not Linux): the safe choice, fp32


def test_the_timing_probe_takes_bf16_only_when_it_beats_fp32_by_the_margin():
    assert precision.cpu_bf16_is_faster(margin=0.0)  # any speed beats nothing
    assert not precision.cpu_bf16_is_faster(margin=1e9)


@cpu_only
@pytest.mark.parametrize("native, faster, bf16", [(True, True, True), (True, False, False), (False, True, False)])
def test_a_cpu_trains_in_bf16_only_where_it_has_it_and_it_is_faster(monkeypatch, native, faster, bf16):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    monkeypatch.setattr(precision, "cpu_bf16_is_faster", lambda: faster)
    assert precision.precision_defaults() == {"bf16": bf16, "fp16": False, **({"use_cpu": True} if bf16 else {})}
