"""`python -m serving {export,start,stop,deploy,status}`: TorchServe operations for operators and containers.

python -m serving export [--model URI|VERSION]   # default: the champion -> <model store>/ad-classifier-vN.mar
python -m serving start [--archive ad-classifier-vN.mar] [--foreground]
python -m serving deploy [--model URI|VERSION]   # switch the running TorchServe to it (default: the champion)
python -m serving status
python -m serving stop
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import requests

from stack.settings import MODEL_NAME, apply_offline_env, settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m serving", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="archive a registry model for TorchServe")
    export.add_argument("--model", help="alias URI, version URI or number (default: the champion)")
    start = sub.add_parser("start", help="start TorchServe and wait for a READY worker")
    start.add_argument("--archive", help="a .mar in the model store (default: export the champion)")
    start.add_argument("--foreground", action="store_true", help="stay attached until TorchServe exits")
    sub.add_parser("stop", help="stop TorchServe and wait for the JVM to exit")
    deploy = sub.add_parser("deploy", help="switch TorchServe to the champion (or --model) version")
    deploy.add_argument("--model", help="alias URI, version URI or number (default: the champion)")
    sub.add_parser("status", help="the served model's workers; exit 0 only when one is READY (a health check)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    apply_offline_env()
    from serving import torchserve
    from serving.export import export_model
    from training.registry import champion_uri

    cfg = settings()
    model = args.model if getattr(args, "model", None) else champion_uri()
    try:
        if args.command == "export":
            print(export_model(model, cfg).path)
        elif args.command == "start":
            archive = args.archive or export_model(model, cfg).file_name
            torchserve.start(cfg, archive)
            print(f"TorchServe ready: {cfg.inference_url} (keys in {cfg.key_file})")
            while args.foreground and torchserve.pid(cfg) is not None:
                time.sleep(2)
        elif args.command == "deploy":
            from serving.rollout import deploy as roll_out

            result = roll_out(cfg, model)
            how = {
                "unchanged": "already served",
                "api": "switched with no downtime (model-control API)",
                "restart": "switched by restarting TorchServe (ADS_TS_MODEL_API=false); pending posts catch up",
            }[result.mode]
            print(f"{MODEL_NAME} version {result.version}: {how} in {result.seconds:.1f}s (was {result.previous})")
        elif args.command == "stop":
            print("stopped" if torchserve.stop(cfg) else "not running")
        else:
            if torchserve.pid(cfg) is None:
                print("TorchServe is not running")
                return 1
            models = torchserve.describe(cfg, torchserve.Keys.read(cfg.key_file))
            print(json.dumps(models, indent=2))
            if not any(w.get("status") == "READY" for model in models for w in model.get("workers", [])):
                print("no READY worker", file=sys.stderr)
                return 1
    except (torchserve.TorchServeError, RuntimeError, ValueError, requests.RequestException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
