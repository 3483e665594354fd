"""Regenerate docs/board.png: the feed with a 광고 badge (desktop) beside an opened post with its
ad comment collapsed (phone), from a throwaway board seeded with labelled posts.

Run with `make screenshot` (Playwright driving Debian's /usr/bin/chromium, fonts-nanum for the
Korean glyphs; scripts/system-deps.sh --test installs both). Labels are written straight into the
throwaway database, so no model or TorchServe is needed.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import requests
import uvicorn
from PIL import Image
from playwright.sync_api import sync_playwright

from stack.settings import REPO_ROOT, Settings
from ui.app import create_board

OUTPUT = REPO_ROOT / "docs" / "board.png"
CHROMIUM = "/usr/bin/chromium"
SETTLE_MS = 1500
"""Lets Gradio's loading shade fade after the last update before the picture is taken."""
POSTS = [
    ("동네 도서관 주말 운영 시간 바뀌었어요", "이번 달부터 토요일은 6시까지 연다고 하네요.", "normal", 0.04),
    ("★최저가 보장★ 중고폰 매입 카톡 문의", "카톡 문의 주시면 당일 입금! 010-1234-5678", "ad", 0.97),
    ("강아지 산책 같이 하실 분", "저녁 7시쯤 한강공원에서 산책해요. 소형견 환영합니다.", "normal", 0.08),
    ("아파트 앞 붕어빵 트럭 다시 왔어요", "팥이랑 슈크림 두 가지예요. 줄이 좀 길어요.", "normal", 0.03),
]
COMMENTS = [("저도 자주 가요! 주말엔 사람이 많더라고요.", "normal", 0.05), ("부업 문의는 카톡 주세요 ☆", "ad", 0.93)]


def seed(board) -> int:
    """The posts and comments of the screenshot; returns the post to open."""
    repo = board.service.repo
    for title, body, label, score in POSTS:
        repo.record_result(repo.add_post("이웃", title, body), label, score, "ad-classifier/3", 0.5)
    opened = repo.list_posts().posts[-1]
    for body, label, score in COMMENTS:
        repo.record_result(repo.add_comment(opened.id, "댓글러", body), label, score, "ad-classifier/3", 0.5)
    return opened.id


def serve(cfg: Settings, board) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(board.app, host=cfg.host, port=cfg.board_port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(300):
        try:
            requests.get(f"http://{cfg.host}:{cfg.board_port}/healthz", timeout=1)
            return server
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("board did not start")


def capture(url: str, post_id: int, folder: Path) -> list[Path]:
    shots = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for name, viewport, path, ready in (
            ("feed", {"width": 1280, "height": 800}, "/", "#feed .ad-badge"),
            ("post", {"width": 390, "height": 844}, f"/?post={post_id}", "#post-detail details.ad-comments"),
        ):
            page = browser.new_page(locale="ko-KR", viewport=viewport)
            page.goto(url + path)
            page.locator(ready).first.wait_for(timeout=60_000)
            page.wait_for_timeout(SETTLE_MS)
            shots.append(folder / f"{name}.png")
            page.screenshot(path=str(shots[-1]))
        browser.close()
    return shots


def side_by_side(images: list[Path], output: Path) -> None:
    opened = [Image.open(p) for p in images]
    canvas = Image.new("RGB", (sum(i.width for i in opened) + 24, max(i.height for i in opened)), "white")
    x = 0
    for image in opened:
        canvas.paste(image, (x, 0))
        x += image.width + 24
    canvas.save(output, optimize=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="board-screenshot-"))
    cfg = Settings.from_env({"ADS_RUN_DIR": str(root), "ADS_BOARD_PORT": str(free_port())})
    board = create_board(cfg)
    post_id = seed(board)
    server = serve(cfg, board)
    try:
        side_by_side(capture(f"http://{cfg.host}:{cfg.board_port}", post_id, root), OUTPUT)
    finally:
        server.should_exit = True
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
