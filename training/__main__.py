"""Command line: `python -m training {train,train-real,teacher-check,evaluate,promote,list}`.

python -m training train --data training/data/seed_posts.csv [--backbone tiny] [--dev-data dev.csv]
python -m training train --if-no-champion ...   # what `make run` uses: skip when a champion exists
python -m training list                          # registered versions, aliases and dev macro-F1
python -m training train-real --recipe tag-teacher [--confidence 0.9] [--weak-cap 3000] [--epochs 2]
python -m training train-real --no-lexical-blend # the transformer's score alone (no character n-gram blend)
python -m training teacher-check                 # the tag-teacher's labels vs careful reading on gold_dev
python -m training learning-curve [--repeats 5]  # gold_dev macro-F1 of cheap models vs number of careful labels
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from stack.settings import MODEL_NAME, settings


def _train(args: argparse.Namespace) -> int:
    from training import registry, tracking
    from training.train import TrainConfig, train

    cfg = settings()
    if args.if_no_champion:
        champion = registry.get_alias(tracking.configure(cfg), registry.CHAMPION)
        if champion is not None:
            print(f"champion exists ({MODEL_NAME} version {champion.version}); not retraining")
            return 0
    config = TrainConfig(
        data=args.data or [str(cfg.seed_data)],
        dev_data=Path(args.dev_data) if args.dev_data else None,
        backbone=args.backbone or cfg.backbone,
        seed=args.seed,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        max_length=args.max_length,
        truncation=args.truncation,
        trainable_layers=args.trainable_layers,
        lexical_blend=args.lexical_blend,
        run_name=args.run_name,
    )
    result = train(config, cfg)
    print(
        f"run {result.run_id}: dev macro-F1 {result.dev.macro_f1:.3f} (threshold {result.threshold:.3f}); "
        f"registered {MODEL_NAME} version {result.version}" + (" as champion" if result.became_champion else "")
    )
    return 0


def _train_real(args: argparse.Namespace) -> int:
    """Train a recipe on the development data, evaluate it on gold_dev, promote it if it is better."""
    from training.evaluate import evaluate, format_report
    from training.promotion import promote
    from training.recipes import recipe_config
    from training.train import train

    cfg = settings()
    shared = Path(args.shared)
    try:
        config = recipe_config(
            args.recipe,
            shared,
            cfg.cache_dir,
            confidence=args.confidence,
            cap=args.weak_cap,
            backbone=args.backbone or cfg.backbone,
            epochs=args.epochs,
            lexical_blend=args.lexical_blend,
            seed=args.seed,
            max_length=args.max_length,
            truncation=args.truncation,
        )
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result = train(config, cfg)
    dev = shared / "gold_dev.csv"
    print(format_report(evaluate(result.version, dev, cfg, evasion_seed=0)))
    if not result.became_champion:
        print(promote(result.version, dev, cfg).summary())
    return 0


def _teacher_check(args: argparse.Namespace) -> int:
    from training.recipes import check_teacher

    try:
        print(check_teacher(Path(args.shared), args.confidence).summary(args.confidence))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _learning_curve(args: argparse.Namespace) -> int:
    from training import learning_curve

    curve, run_id = learning_curve.run(Path(args.shared), settings(), args.sizes, args.repeats, args.embeddings)
    print(curve.table())
    print(f"logged as MLflow run {run_id} (learning_curve.png, learning_curve.md)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate, format_report
    from training.registry import champion_uri

    baseline = Path(args.baseline_data) if args.baseline_data else None
    report = evaluate(
        args.model or champion_uri(),
        Path(args.data),
        settings(),
        baseline,
        int8=not args.no_int8,
        truncation=args.truncation,
        evasion_seed=args.evasion,
        decide_precision=args.decide_precision,
    )
    print(format_report(report))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from training.promotion import promote

    print(promote(args.candidate, Path(args.data), settings()).summary())
    return 0


def _list(args: argparse.Namespace) -> int:
    from training import registry, tracking

    client = tracking.configure(settings())
    versions = registry.list_versions(client)
    if not versions:
        print(f"no versions of {MODEL_NAME} registered yet; run `make train`")
        return 0
    print(f"{'version':>7}  {'aliases':<20} {'backbone':<8} {'dev macro-F1':>12}  run")
    for v in versions:
        print(
            f"{v.version:>7}  {','.join(v.aliases) or '-':<20} {v.tags.get('backbone', '?'):<8} "
            f"{v.tags.get('dev_macro_f1', '?'):>12}  {v.run_id}"
        )
    return 0


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None


def _switch(parser: argparse.ArgumentParser, flag: str, default: bool, help_text: str) -> None:
    """A --flag / --no-flag pair."""
    parser.add_argument(
        flag, action=argparse.BooleanOptionalAction, default=default, help=f"{help_text} (default: %(default)s)"
    )


def _add_train(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="fine-tune, track in MLflow, register a version")
    t.add_argument(
        "--data",
        action="append",
        metavar="CSV[:WEIGHT]",
        help="labeled CSV, repeatable; CSV:0.3 scales that file's sample weights "
        "(default: ADS_SEED_DATA, the seed set)",
    )
    t.add_argument("--dev-data", help="separate dev CSV (default: hold out 20%% of --data)")
    t.add_argument("--backbone", help="tiny | e5 | kobert (default: ADS_BACKBONE)")
    t.add_argument("--seed", type=int, default=13)
    t.add_argument("--epochs", type=int)
    t.add_argument("--learning-rate", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--max-length", type=int)
    t.add_argument("--trainable-layers", type=int, help="fine-tune only the top N encoder layers (default: all)")
    t.add_argument("--truncation", choices=["head", "head_tail"], help="how long posts are cut (default: head)")
    t.add_argument("--lexical-blend", action="store_true", help="blend in a lexical component (handlers.lexical)")
    t.add_argument("--run-name")
    t.add_argument("--if-no-champion", action="store_true", help="do nothing when a champion exists")
    t.set_defaults(func=_train)


def _add_train_real(sub: argparse._SubParsersAction) -> None:
    from training.recipes import CONFIDENCE, DEFAULT_RECIPE, LEXICAL_BLEND, RECIPES, TEACHER_CAP

    tr = sub.add_parser("train-real", help="a recipe on ../shared/data: train, evaluate on gold_dev, promote")
    tr.add_argument("--recipe", default=DEFAULT_RECIPE, choices=RECIPES, help="default: %(default)s")
    tr.add_argument("--shared", default="../shared/data", help="folder with gold_train/gold_dev/ads_weak CSVs")
    tr.add_argument("--backbone", help="default: ADS_BACKBONE (e5)")
    tr.add_argument("--epochs", type=int)
    tr.add_argument(
        "--seed", type=int, default=13, help="initialisation, shuffling and dev split (default: %(default)s)"
    )
    tr.add_argument(
        "--confidence",
        type=float,
        default=CONFIDENCE,
        help="keep weak posts the filter/teacher labels with at least this probability (default: %(default)s)",
    )
    tr.add_argument(
        "--weak-cap",
        type=int,
        default=TEACHER_CAP,
        help="tag-teacher: at most this many teacher-labeled posts, even over hashtags (default: %(default)s)",
    )
    tr.add_argument("--max-length", type=int, help="tokens per post (default: the backbone's, 256)")
    tr.add_argument(
        "--truncation", choices=["head", "head_tail"], help="how long posts are cut (default: the backbone's, head)"
    )
    _switch(
        tr, "--lexical-blend", LEXICAL_BLEND, "blend a character n-gram component into the score, weight chosen on dev"
    )
    tr.set_defaults(func=_train_real)


def _add_data_checks(sub: argparse._SubParsersAction) -> None:
    from training.recipes import CONFIDENCE

    tc = sub.add_parser("teacher-check", help="how well the tag-teacher's labels agree with careful reading")
    tc.add_argument("--shared", default="../shared/data", help="folder with gold_train.csv and gold_dev.csv")
    tc.add_argument("--confidence", type=float, default=CONFIDENCE, help="default: %(default)s")
    tc.set_defaults(func=_teacher_check)

    lc = sub.add_parser("learning-curve", help="gold_dev macro-F1 of cheap models vs number of careful labels")
    lc.add_argument("--shared", default="../shared/data", help="folder with gold_train.csv and gold_dev.csv")
    lc.add_argument(
        "--sizes", type=_sizes, help="comma-separated subset sizes (default: 1/8, 1/4, 1/2, 3/4 and all of gold_train)"
    )
    lc.add_argument("--repeats", type=int, default=5, help="random subsets per size (default: %(default)s)")
    _switch(lc, "--embeddings", True, "also the frozen backbone + logistic regression, and the average")
    lc.set_defaults(func=_learning_curve)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("evaluate", help="score a version and the TF-IDF baseline on a CSV, as an MLflow run")
    ev.add_argument("--data", required=True, help="labeled CSV never used for training")
    ev.add_argument("--model", help="alias URI, version URI or number (default: the champion)")
    ev.add_argument("--baseline-data", help="train the baseline on this CSV (default: the version's train_data)")
    ev.add_argument("--no-int8", action="store_true", help="skip scoring the int8 variant")
    ev.add_argument(
        "--truncation", choices=["head", "head_tail"], help="what-if: override the model's truncation (no tags)"
    )
    ev.add_argument(
        "--evasion",
        type=int,
        nargs="?",
        const=0,
        metavar="SEED",
        help="also score the CSV with its ads disguised by training.evasion (seed, default 0)",
    )
    ev.add_argument(
        "--decide-precision",
        action="store_true",
        help="override: set the version's cpu_precision tag from this evaluation (training's validation run sets it)",
    )
    ev.set_defaults(func=_evaluate)


def _add_registry(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("promote", help="move champion to the candidate only if it scores higher")
    pr.add_argument("--data", required=True, help="labeled CSV both versions are compared on")
    pr.add_argument("--candidate", default="latest", help="version number, alias or `latest`")
    pr.set_defaults(func=_promote)
    ls = sub.add_parser("list", help="registered versions and aliases")
    ls.set_defaults(func=_list)


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per task."""
    root = argparse.ArgumentParser(
        prog="python -m training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = root.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_train_real, _add_data_checks, _add_evaluate, _add_registry):
        add(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("mlflow", "alembic", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
