"""The app's overhead and behaviour under load, against raw llama-cpp-python on the same GGUF, in one run.

    python benchmarks/app_bench.py [--gguf runs/demo/gguf/NAME.Q8_0.gguf] [--tokens 96] [--users 20]

1. Raw llama-cpp-python: time to first token and decode tokens/s for the app's own prompt (temperature 0).
2. The same through the running app's API (`gradio_client`, /generate). The app streams at most 20 updates a
   second, so its decode rate is the raw run's token count (the same greedy letter) over first-to-last update.
3. `--users` concurrent clients on loopback, one short letter each (bounded: the run stops by itself):
   all served?, p50/p95 latency, and the server's peak RSS against the GGUF's size.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORM = dict(name="Maria Lopez", job_title="Data Analyst", company_name="Northwind Logistics",
            skills="SQL, Python, Tableau dashboards", reasons="I admire Northwind's route-optimisation work.",
            job_description="", tone="formal", length="short")


def default_gguf() -> Path:
    exports = sorted(ROOT.glob("runs/*/gguf/*.Q8_0.gguf"), key=lambda p: p.stat().st_mtime, reverse=True)
    if exports:
        return exports[0]
    from coverletter.model import embedded_gguf

    return embedded_gguf("smollm2-135m-instruct")


def raw_speed(gguf: Path, tokens: int) -> tuple[float, float, int, str]:
    """Time to first token, decode tok/s, tokens generated, and the cleaned letter."""
    from llama_cpp import Llama

    from coverletter import app, letter

    llm = Llama(str(gguf), **app.llama_settings())
    profile = letter.make_profile(**FORM)
    messages = letter.build_messages(profile)
    llm.create_chat_completion(messages, temperature=0.0, max_tokens=4)  # warm-up, as the app's first request
    started, stamps, text = time.perf_counter(), [], ""
    for chunk in llm.create_chat_completion(messages, stream=True, temperature=0.0, max_tokens=tokens,
                                            repeat_penalty=1.1):
        if chunk["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
            text += chunk["choices"][0]["delta"]["content"]
    llm.close()
    return stamps[0] - started, (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps), letter.clean_letter(text, profile)


def api_speed(client, tokens: int, generated: int) -> tuple[float, float, str]:
    """Time to first update, decode tok/s over `generated` tokens, and the final letter."""
    started = time.perf_counter()
    job = client.submit(**FORM, temperature=0.0, max_new_tokens=tokens, api_name="/generate")
    stamps = [time.perf_counter() for update in job if update]  # blocks between updates: no busy polling
    return stamps[0] - started, (generated - 1) / (stamps[-1] - stamps[0]), job.result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    import psutil
    from gradio_client import Client

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    gguf = args.gguf or default_gguf()

    raw_first, raw_rate, generated, raw_letter = raw_speed(gguf, args.tokens)

    port = free_port()
    env = {**os.environ, "MODEL_PATH": str(gguf), "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "huggingface/app.py"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        peak = [0]
        stop = threading.Event()

        def watch_rss():
            process = psutil.Process(server.pid)
            while not stop.is_set():
                peak[0] = max(peak[0], process.memory_info().rss)
                time.sleep(0.05)

        threading.Thread(target=watch_rss, daemon=True).start()
        client = Client(url, verbose=False)
        api_speed(client, 64, 64)  # warm-up: first request pays for lazy set-up (64: the slider's minimum)
        api_first, api_rate, api_letter = api_speed(client, args.tokens, generated)

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
        stop.set()
    finally:
        server.terminate()
        server.wait(timeout=30)

    served = sum(ok for ok, _ in results)
    latencies = sorted(t for ok, t in results if ok)
    size_mb = gguf.stat().st_size / 2**20
    rss_mb = peak[0] / 2**20
    print(f"\nmodel: {gguf.name} ({size_mb:.0f} MB), {os.cpu_count()} threads, {args.tokens} tokens, temperature 0\n")
    print("| path | time to first token s | decode tok/s |")
    print("|---|---:|---:|")
    print(f"| raw llama-cpp-python | {raw_first:.3f} | {raw_rate:.1f} |")
    print(f"| app API (gradio_client, /generate) | {api_first:.3f} | {api_rate:.1f} |")
    print(f"\nsame letter through both paths: {api_letter == raw_letter}")
    print(f"app / raw decode: {api_rate / raw_rate:.2f}x (goal >= 0.95x)")
    print(f"{args.users} concurrent users: {served}/{args.users} served in {load_seconds:.1f} s; latency p50 "
          f"{statistics.median(latencies):.1f} s, p95 {latencies[max(0, int(0.95 * len(latencies)) - 1)]:.1f} s")
    print(f"server peak RSS {rss_mb:.0f} MB vs GGUF {size_mb:.0f} MB: limit 1.5 x file + 200 MB = "
          f"{1.5 * size_mb + 200:.0f} MB -> {'met' if rss_mb <= 1.5 * size_mb + 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
