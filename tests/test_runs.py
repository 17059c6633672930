import os

import pytest

from coverletter import runs
from coverletter.errors import UserError


def touch(path, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_a_runs_gguf_of_a_quant_is_found_in_the_run_or_the_export_folder(tmp_path):
    run = tmp_path / "demo"
    q8 = touch(runs.gguf_dir(run) / "m-demo.Q8_0.gguf")
    q4 = touch(runs.gguf_dir(run) / "m-demo.Q4_K_M.gguf")
    assert runs.find_gguf(run) == q8 == runs.find_gguf(runs.gguf_dir(run))
    assert runs.find_gguf(run, "q4_k_m") == q4 and runs.find_gguf(q4) == q4
    with pytest.raises(UserError, match=r"nor a run folder with gguf/\*\.Q5_K_M\.gguf"):
        runs.find_gguf(run, "Q5_K_M")


def test_latest_exports_are_newest_first_and_of_the_quant_asked(tmp_path):
    old = touch(tmp_path / "a" / "gguf" / "a.Q8_0.gguf", mtime=1_000)
    new = touch(tmp_path / "b" / "gguf" / "b.Q8_0.gguf", mtime=2_000)
    touch(tmp_path / "c" / "gguf" / "c.Q4_K_M.gguf", mtime=3_000)
    touch(tmp_path / "d" / "d.Q8_0.gguf", mtime=4_000)  # not an export folder
    assert runs.latest_exports(tmp_path) == [new, old]


def test_run_info_round_trips_and_a_foreign_folder_has_none(tmp_path):
    runs.write_run_info(tmp_path / "run", "embedded:smollm2-135m-instruct", "data/finetome-sample.jsonl")
    assert runs.read_run_info(tmp_path / "run") == {"base_model": "embedded:smollm2-135m-instruct",
                                                    "dataset_name": "data/finetome-sample.jsonl"}
    assert runs.read_run_info(tmp_path) == {}
    assert not list((tmp_path / "run").glob(".*partial"))
