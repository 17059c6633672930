"""The app's overhead and behaviour under load, against raw llama-cpp-python on the same GGUF, in one run.

    python benchmarks/app_bench.py [--gguf runs/demo/gguf/NAME.Q8_0.gguf] [--tokens 256] [--rounds 5] [--users 20]
                                   [--server_python .venv-space/bin/python]

0. This machine's memory bandwidth (numpy sums of a 1 GiB array on every core, best of 5): decoding one token reads
   every weight once, so bandwidth / GGUF size is the decode limit in tokens/s.
1. Raw llama-cpp-python: time to first token and decode tokens/s for the app's own prompt (temperature 0), with
   the app's length steering, and once more without it (what the steering costs).
2. The same through the running app's API (`gradio_client`, /generate). The app streams at most 20 updates a
   second, so its decode rate is the raw run's token count (the same greedy letter) over first-to-last update.
   Raw and app runs alternate for `--rounds` rounds (medians reported): each side runs while the other is idle.
   Time to first token again with a long job ad pasted in (its prompt is evaluated before the first word).
3. `--users` concurrent clients on loopback, one short letter each (bounded: the run stops by itself):
   all served?, p50/p95 latency, and the server's peak RSS (the kernel's high-water mark) against the GGUF's size.

`--server_python` runs the app under another interpreter: a virtual environment made from
huggingface/requirements.txt alone measures the Space's own footprint, without the training stack. Run the script
itself with that interpreter too (`PYTHONPATH=src .venv-space/bin/python benchmarks/app_bench.py ...`), so that raw
and app use the same llama.cpp build (two builds of one version differed by 7% here).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORM = dict(name="Maria Lopez", job_title="Data Analyst", company_name="Northwind Logistics",
            skills="SQL, Python, Tableau dashboards", reasons="I admire Northwind's route-optimisation work.",
            job_description="", tone="formal", length="short")
LONG_AD = " ".join([
    "Northwind Logistics moves fresh food for 400 independent grocers across the north of England, and our data team "
    "decides where 230 vans go every morning.", "About the role: you will own the dashboards that dispatchers, "
    "buyers and the board read every day, and turn their questions into analyses they can act on.",
    "What you will do: build and maintain Tableau dashboards on our Snowflake warehouse; write the SQL and Python "
    "(pandas) behind weekly demand forecasts; design and read A/B tests of delivery windows with the product team; "
    "explain what the numbers mean to people who do not work with data; document definitions so that every team "
    "counts a late delivery the same way.", "What you bring: two or more years of analytics work; fluent SQL; "
    "Python for data cleaning and modelling; a dashboard tool (Tableau, Power BI or Looker); care for data "
    "quality; the habit of checking a surprising number before sharing it.", "Nice to have: logistics or retail "
    "experience, dbt, basic statistics for experiments, and experience mentoring junior analysts.",
    "What we offer: a hybrid week (two days in our Leeds office), 28 days of holiday plus bank holidays, a "
    "learning budget of 1,500 pounds a year, a pension with 6% employer contribution, and a team that reviews "
    "each other's work kindly.", "How to apply: send a CV and a cover letter that tells us about an analysis "
    "that changed a decision. We read every application and reply within two weeks.",
] * 2)  # about 2,900 characters, half the form's limit: a long pasted ad


def default_gguf() -> Path:
    """What the app would serve from this checkout: the newest export, else the embedded model."""
    from coverletter.embedded import embedded_gguf
    from coverletter.runs import latest_exports

    exports = latest_exports(ROOT / "runs")
    return exports[0] if exports else embedded_gguf("smollm2-135m-instruct")


def memory_bandwidth_gbs(threads: int, gib: int = 1) -> float:
    """Read bandwidth in GB/s: numpy sums (which release the GIL) of `threads` slices of one array, best of 5."""
    import numpy as np

    data = np.ones(gib * 2**28, dtype=np.float32)
    parts = np.array_split(data, threads)
    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(5):
            started = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - started)
    return data.nbytes / best / 1e9


def raw_speed(llm, tokens: int, steer: bool = True, form: dict = FORM) -> tuple[float, float, int, str]:
    """Time to first token, decode tok/s, tokens generated, and the cleaned letter: llama.cpp alone, with the same
    settings and length steering as the app (steer=False: without the steering, to measure what it costs)."""
    from coverletter import generate, letter, steering, vocabulary

    profile = letter.make_profile(**form)
    steered = [steering.LengthSteering(llm, profile, vocabulary.AnswerReader(llm))] if steer else None
    # raw letters start from an empty cache; the app keeps its shared start (its first token may come sooner)
    llm.reset()
    started, stamps, text = time.perf_counter(), [], ""
    for chunk in llm.create_chat_completion(letter.build_messages(profile), stream=True, temperature=0.0,
                                            max_tokens=tokens, repeat_penalty=generate.REPEAT_PENALTY,
                                            logits_processor=steered):
        if chunk["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
            text += chunk["choices"][0]["delta"]["content"]
    return (stamps[0] - started, (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps),
            letter.clean_letter(text, profile))


def api_speed(client, tokens: int, generated: int, form: dict = FORM) -> tuple[float, float, str]:
    """Time to first update, decode tok/s over `generated` tokens, and the final letter."""
    started = time.perf_counter()
    job = client.submit(**form, temperature=0.0, max_new_tokens=tokens, api_name="/generate")
    stamps = [time.perf_counter() for update in job if update]  # blocks between updates: no busy polling
    return stamps[0] - started, (generated - 1) / (stamps[-1] - stamps[0]), job.result()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), as the kernel counts it: no polling, no missed spike."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(gguf: Path, python: str = sys.executable, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """The app serving `gguf`, started as the Space starts it; (process, URL) once it answers."""
    port = free_port()
    env = {**os.environ, "MODEL_PATH": str(gguf), "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           **(extra_env or {})}
    server = subprocess.Popen([python, "huggingface/app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return server, url


def main() -> None:
    from gradio_client import Client
    from llama_cpp import Llama

    from coverletter import generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--server_python", "--server-python", default=sys.executable,
                        help="interpreter that runs huggingface/app.py")
    parser.add_argument("--server_env", nargs="*", default=[], metavar="KEY=VALUE",
                        help="environment variables for the app only (a setting to compare with raw's default)")
    args = parser.parse_args()
    gguf = args.gguf or default_gguf()
    bandwidths = [memory_bandwidth_gbs(os.cpu_count() or 1)]  # before the server loads, and again after the rounds

    server, url = start_app(gguf, args.server_python, dict(pair.split("=", 1) for pair in args.server_env))
    llm = Llama(str(gguf), **generate.llama_settings())
    try:
        client = Client(url, verbose=False)
        raw_speed(llm, 4)  # warm-ups: each side's first request pays for lazy set-up
        api_speed(client, 64, 64)  # (64: the slider's minimum)
        raw, api, unsteered = [], [], []
        for _ in range(args.rounds):
            raw.append(raw_speed(llm, args.tokens))
            api.append(api_speed(client, args.tokens, raw[-1][2]))
            unsteered.append(raw_speed(llm, args.tokens, steer=False))
        bandwidths.append(memory_bandwidth_gbs(os.cpu_count() or 1))  # the machine is shared: the best is the limit
        long_form = {**FORM, "job_description": LONG_AD}
        long_raw, long_api = [], []
        for _ in range(3):
            long_raw.append(raw_speed(llm, 8, form=long_form)[0])
            long_api.append(api_speed(client, 64, 64, form=long_form)[0])  # first update: the rest is not timed
        idle_rss = peak_rss_mb(server.pid)

        def one_user(i: int) -> tuple[bool, float]:
            started = time.perf_counter()
            try:
                Client(url, verbose=False).predict(**{**FORM, "name": f"User {i}"}, max_new_tokens=64,
                                                   api_name="/generate")
                return True, time.perf_counter() - started
            except Exception:
                return False, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(args.users) as pool:
            results = list(pool.map(one_user, range(args.users), timeout=600))
        load_seconds = time.perf_counter() - started
        rss_mb = peak_rss_mb(server.pid)
    finally:
        llm.close()
        server.terminate()
        server.wait(timeout=30)

    served = sum(ok for ok, _ in results)
    latencies = sorted(t for ok, t in results if ok)
    size_mb = gguf.stat().st_size / 2**20
    median = statistics.median
    ratios = [a[1] / r[1] for r, a in zip(raw, api)]
    print(f"\nmodel: {gguf.name} ({size_mb:.0f} MB), {os.cpu_count()} threads, up to {args.tokens} tokens "
          f"({raw[0][2]} generated), temperature 0, {args.rounds} alternating rounds, medians\n")
    print("| path | time to first token s | decode tok/s |")
    print("|---|---:|---:|")
    print(f"| raw llama-cpp-python | {median(r[0] for r in raw):.3f} | {median(r[1] for r in raw):.1f} |")
    print(f"| app API (gradio_client, /generate) | {median(a[0] for a in api):.3f} | {median(a[1] for a in api):.1f} |")
    print(f"| raw, without length steering | {median(u[0] for u in unsteered):.3f} | "
          f"{median(u[1] for u in unsteered):.1f} |")
    print(f"| raw, long job ad ({len(LONG_AD):,} characters), 3 rounds | {median(long_raw):.3f} | |")
    print(f"| app API, long job ad, 3 rounds | {median(long_api):.3f} | |")
    limit = max(bandwidths) * 1e9 / gguf.stat().st_size
    decode = median(r[1] for r in raw)
    print(f"\nmemory bandwidth {' and '.join(f'{b:.1f}' for b in bandwidths)} GB/s on {os.cpu_count()} threads -> "
          f"decode limit {limit:.1f} tok/s for this file; raw decode {decode:.1f} tok/s = {decode / limit:.2f}x the "
          "limit (goal >= 0.6x)")
    print(f"\nsame letter through both paths, every round: {all(a[2] == r[3] for r, a in zip(raw, api))}")
    print(f"app / raw decode per round: {', '.join(f'{x:.2f}' for x in ratios)}; median {median(ratios):.2f}x "
          f"(goal >= 0.95x)")
    steering = [r[1] / u[1] for r, u in zip(raw, unsteered)]
    print(f"length steering: steered / unsteered raw decode per round: {', '.join(f'{x:.2f}' for x in steering)}; "
          f"median {median(steering):.2f}x")
    print(f"{args.users} concurrent users: {served}/{args.users} served in {load_seconds:.1f} s; latency p50 "
          f"{median(latencies):.1f} s, p95 {latencies[max(0, int(0.95 * len(latencies)) - 1)]:.1f} s")
    print(f"server ({args.server_python}) peak RSS: {idle_rss:.0f} MB after the speed rounds, {rss_mb:.0f} MB after "
          f"the load test; GGUF {size_mb:.0f} MB: limit 1.5 x file + 200 MB = {1.5 * size_mb + 200:.0f} MB -> "
          f"{'met' if rss_mb <= 1.5 * size_mb + 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
