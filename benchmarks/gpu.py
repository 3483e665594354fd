"""`python -m benchmarks.gpu`: the served inference path on a CUDA GPU, where one is.

TorchServe gives a GPU worker the same handler as on CPU: `AdClassifier` on `cuda:<gpu_id>` in
half precision (fp16), padding-aware micro-batches. Without Java/TorchServe on a GPU machine this
measures that path in-process, for the two shapes of `make bench` (random weights):

  naive      the original project's way on the same GPU: a transformers pipeline at batch 1,
             padded to 512, fp32;
  served     AdClassifier fp16 on all the posts at once, per micro-batch size and padding slack
             (ADS_TS_MICRO_BATCH, ADS_TS_PADDING_SLACK);
  parity     fp16-on-GPU scores against fp32-on-CPU scores of the same posts (largest difference),
             in the closing notes.

Inputs as `make bench` (real posts from ../shared/data/ads_weak.csv, else the seed set). Writes
`gpu.md` (default .run/bench/) and prints it. A benchmark, not a test; it refuses to run without CUDA.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.serving import Row, e5_bundle, kobert_bundle, load_inputs, markdown, run_naive
from handlers.classifier import AdClassifier
from handlers.text import model_text
from stack.settings import REPO_ROOT

log = logging.getLogger("bench.gpu")

MICRO_BATCHES = "8,32,128"
SLACKS = "0.1,1.0"
PARITY_POSTS = 64


def served_rate(bundle: Path, texts: list[str], micro: int, slack: float) -> float:
    """Posts/s of the served path on CUDA (fp16), all texts at once, after a warm-up pass."""
    classifier = AdClassifier(bundle, "cuda", micro_batch=micro, padding_slack=slack)
    classifier.score_texts(texts[: 2 * micro])
    torch.cuda.synchronize()
    started = time.perf_counter()
    classifier.score_texts(texts)  # returns Python floats: the GPU work is done
    return len(texts) / (time.perf_counter() - started)


def parity(bundle: Path, texts: list[str]) -> float:
    """Largest |fp16 GPU score - fp32 CPU score| over the texts."""
    gpu = AdClassifier(bundle, "cuda").score_texts(texts)
    cpu = AdClassifier(bundle, "cpu", precision="fp32").score_texts(texts)
    return max(abs(a - b) for a, b in zip(gpu, cpu, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="kobert,e5")
    parser.add_argument("--posts", type=int, default=2048)
    parser.add_argument("--naive-posts", type=int, default=64)
    parser.add_argument("--micro-batches", default=MICRO_BATCHES, help="default: %(default)s")
    parser.add_argument("--slacks", default=SLACKS, help="padding slacks; default: %(default)s")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    parser.add_argument(
        "--e5-dir",
        default=str(REPO_ROOT / ".cache" / "backbones" / "multilingual-e5-small"),
        help="folder with the default backbone's config and tokenizer (its weights are not needed)",
    )
    parser.add_argument("--out", default=str(REPO_ROOT / ".run" / "bench" / "gpu.md"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not torch.cuda.is_available():
        parser.error("no CUDA device: this benchmark measures the GPU path (make bench covers the CPU)")
    shared = Path(args.shared)
    posts = load_inputs(shared, max(args.posts, args.naive_posts))
    texts = [model_text(t, b) for t, b in posts]
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            folder = Path(tmp) / shape
            if shape == "kobert":
                bundle = kobert_bundle(folder, shared, texts)
            else:
                bundle = e5_bundle(folder, random_from=Path(args.e5_dir))
            rows.append(run_naive(bundle, posts[: args.naive_posts], shape, device=0))
            drift = parity(bundle, texts[:PARITY_POSTS])
            log.info("%s: fp16 GPU vs fp32 CPU, largest score difference %.5f", shape, drift)
            for micro in (int(m) for m in args.micro_batches.split(",")):
                for slack in (float(x) for x in args.slacks.split(",")):
                    rate = served_rate(bundle, texts, micro, slack)
                    log.info("%s served fp16 micro-batch %d slack %.1f: %.1f posts/s", shape, micro, slack, rate)
                    note = f"{len(texts)} posts at once, micro-batch {micro}, padding slack {slack}"
                    rows.append(Row(shape, "fp16", "served (in-process)", rate, note=note))
            best = max((r for r in rows if r.shape == shape and r.precision == "fp16"), key=lambda r: r.posts_per_s)
            naive = next(r for r in rows if r.shape == shape and r.mode == "naive")
            notes.append(
                f"- {shape}: best served {best.posts_per_s:.0f} posts/s = {best.posts_per_s / naive.posts_per_s:.1f}x "
                f"naive ({best.note}); fp16 GPU vs fp32 CPU scores of {PARITY_POSTS} posts differ by at most "
                f"{drift:.5f}"
            )
    header = f"GPU path, {time.strftime('%Y-%m-%d %H:%M')}, {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    table = markdown(rows, header, notes)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table, encoding="utf-8")
    print(table)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
