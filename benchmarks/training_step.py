"""Time one CPU training step of the e5 classifier, word embeddings trainable vs frozen.

    python -m benchmarks.training_step [--batch 8] [--tokens 128] [--repeats 6] [--threads 2]

Prints the median seconds of forward+backward and of a whole step (with AdamW) for both settings:
the measurement behind freezing e5's word embeddings by default (docs/model.md).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def time_steps(frozen: bool, batch: int, tokens: int, repeats: int) -> tuple[float, float, int]:
    from training.backbones import build_e5

    built = build_e5([], seed=0)
    model = built.model
    if not frozen:
        model.roberta.embeddings.word_embeddings.weight.requires_grad_(True)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, model.config.vocab_size - 100, (batch, tokens), generator=generator)
    labels = torch.randint(0, 2, (batch,), generator=generator)
    backward, whole = [], []
    for _ in range(repeats + 1):  # the first step warms up and is not counted
        started = time.perf_counter()
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        loss.backward()
        middle = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        backward.append(middle - started)
        whole.append(time.perf_counter() - started)
    return statistics.median(backward[1:]), statistics.median(whole[1:]), sum(p.numel() for p in trainable)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"e5 classifier, batch {args.batch} x {args.tokens} tokens, {args.threads} threads, "
        f"median of {args.repeats} steps"
    )
    print(f"{'word embeddings':<16} {'trainable params':>17} {'fwd+bwd s':>10} {'step s':>8}")
    for frozen in (False, True):
        backward, whole, trainable = time_steps(frozen, args.batch, args.tokens, args.repeats)
        print(f"{'frozen' if frozen else 'trainable':<16} {trainable:>17,} {backward:>10.2f} {whole:>8.2f}")


if __name__ == "__main__":
    main()
