"""The board's ASGI app: the Gradio Blocks (ui/blocks.py) mounted in a FastAPI app that also
serves /metrics and /healthz, with the background classifier and drift monitor wired in."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stack.settings import Settings, apply_offline_env, settings
from ui import render
from ui.actions import BoardActions
from ui.auth import Sessions, load_credentials, session_key
from ui.blocks import build_blocks
from ui.classifier_client import TorchServeClient
from ui.db import make_engine, make_sessions, migrate
from ui.drift import DriftMonitor, mlflow_reference_loader
from ui.limits import BoardLimits, LoginGuard, Rate
from ui.metrics import BoardMetrics
from ui.moderation import Moderation
from ui.repository import BoardRepository
from ui.service import BoardService, PendingWorker

log = logging.getLogger(__name__)


@dataclass
class Board:
    app: FastAPI
    service: BoardService
    moderation: Moderation
    worker: PendingWorker
    drift: DriftMonitor


def board_limits(cfg: Settings, metrics: BoardMetrics) -> BoardLimits:
    """The per-client limits from the settings; refusals are counted by action."""
    rates = {"post": cfg.limit_posts, "comment": cfg.limit_comments, "report": cfg.limit_reports}
    login = LoginGuard(cfg.login_max_failures, cfg.login_lockout_s)
    refused = metrics.refused
    return BoardLimits(
        {action: Rate.parse(rate) for action, rate in rates.items()},
        cfg.limit_per_address,
        login,
        lambda action: refused.labels(action).inc(),
    )


def create_board(cfg: Settings) -> Board:
    """Wire database, classifier client, metrics, background worker and UI into one ASGI app."""
    engine = make_engine(cfg.board_database_url)
    migrate(engine)
    metrics = BoardMetrics()
    service = BoardService(BoardRepository(make_sessions(engine)), TorchServeClient(cfg), metrics, cfg.report_review_at)
    metrics.pending.set(service.repo.pending_count())
    worker = PendingWorker(service, cfg.pending_poll_s)
    drift = DriftMonitor(service.repo, mlflow_reference_loader(cfg), cfg.drift_window, cfg.low_confidence_margin)
    credentials = load_credentials(cfg.secrets_dir)
    log.info("moderator login: user %r, password from %s", credentials.username, credentials.source)
    moderation = Moderation(service.repo, Sessions(credentials, session_key(cfg.secrets_dir)), metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker.start()
        yield
        worker.stop()

    app = FastAPI(title="ad-guard board", docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        metrics.pending.set(service.repo.pending_count())
        ratio = service.repo.recent_ad_ratio()
        if ratio is not None:
            metrics.ad_ratio.set(ratio)
        reading = drift.read()
        if reading is not None:
            metrics.record_drift(reading)
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "pending": service.repo.pending_count()}

    blocks = build_blocks(BoardActions(service, moderation, board_limits(cfg, metrics), cfg.evidence_public))
    app = gr.mount_gradio_app(app, blocks, path="", css=render.CSS, footer_links=["api"])
    return Board(app, service, moderation, worker, drift)


SHUTDOWN_GRACE_S = 5
"""On stop, how long open connections (browsers' event streams never close by themselves) may
finish before the server closes them; requests already answered are stored either way."""


def main() -> None:
    import uvicorn

    apply_offline_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = settings()
    board = create_board(cfg)
    log.info("board on http://%s:%d (database %s)", cfg.host, cfg.board_port, cfg.board_database_url)
    uvicorn.run(
        board.app,
        host=cfg.host,
        port=cfg.board_port,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


if __name__ == "__main__":
    main()
