"""The board in a real headless Chromium (Debian's chromium driven by Playwright).

A person opens the board, writes an everyday post (no badge) and an ad (red 광고 badge),
comments, and script in a title shows as text without running.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from handlers.text import model_text
from tests.helpers import SEED_DATA
from training.data import load_posts, split_train_dev

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def seed_examples() -> tuple[dict, dict]:
    """An ad and an everyday post the session's tiny model was trained on (same split and seed)."""
    train, _ = split_train_dev(load_posts(SEED_DATA), 0.2, 7)
    seen = set(train.texts)
    with open(SEED_DATA, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if model_text(r["title"], r["body"]) in seen]
    return next(r for r in rows if r["label"] == "1"), next(r for r in rows if r["label"] == "0")


def write_post(page, title: str, body: str) -> None:
    page.locator("#post-title").get_by_role("textbox").fill(title)
    page.locator("#post-body").get_by_role("textbox").fill(body)
    page.locator("#post-submit").click()
    page.locator("#feed .board-post h3", has_text=title).wait_for(timeout=30_000)


def test_write_read_comment_in_a_browser(board, browser, tmp_path: Path) -> None:
    ad, normal = seed_examples()
    page = browser.new_page(locale="ko-KR")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(board.url)
    page.locator("#feed").wait_for()

    write_post(page, normal["title"], normal["body"])
    write_post(page, ad["title"], ad["body"])
    service = board.board.service
    labels = {p.title: p.label for p in service.feed(page_size=50).posts}
    assert labels[normal["title"]] == "normal" and labels[ad["title"]] == "ad"
    assert page.locator(".board-post", has_text=normal["title"]).locator(".ad-badge").count() == 0
    badge = page.locator(".board-post", has_text=ad["title"]).locator(".ad-badge")
    assert badge.inner_text() == "광고"
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(220, 38, 38)"

    xss = "<img src=x onerror=alert('xss')> 제목"
    write_post(page, xss, "<script>alert('body')</script>")
    assert xss in page.locator("#feed").inner_text()

    post_id = next(p.id for p in service.feed(page_size=50).posts if p.title == normal["title"])
    page.locator("#post-id").get_by_role("spinbutton").fill(str(post_id))
    page.locator("#post-open").click()
    page.locator("#post-detail h3", has_text=normal["title"]).wait_for(timeout=30_000)
    page.locator("#comment-body").get_by_role("textbox").fill("저도 가보고 싶네요")
    page.locator("#comment-submit").click()
    page.locator("#post-detail .board-comment", has_text="저도 가보고 싶네요").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    assert dialogs == []


def test_moderator_overrides_a_label_and_exports_in_a_browser(board, browser, tmp_path: Path) -> None:
    service = board.board.service
    ad = service.create_post("관리자 검토용 글", "사람이 라벨을 고칠 글입니다", "")
    creds = board.board.moderation.sessions.credentials
    page = browser.new_page(locale="ko-KR")
    page.goto(board.url)
    page.locator("#feed").wait_for()
    page.get_by_text("관리자", exact=True).click()
    page.locator("#mod-user").get_by_role("textbox").fill(creds.username)
    page.locator("#mod-password").locator("input, textarea").first.fill(creds.password)
    page.locator("#mod-login").click()
    page.locator("#mod-notice", has_text="로그인되었습니다").wait_for(timeout=30_000)
    page.locator("#review-queue table").wait_for(timeout=30_000)

    flipped = "normal" if ad.label == "ad" else "ad"
    page.locator("#mod-id").get_by_role("spinbutton").fill(str(ad.id))
    page.locator("#mod-label").get_by_label("일반" if flipped == "normal" else "광고").check()
    page.locator("#mod-apply").click()
    page.locator("#mod-notice", has_text="라벨을 적용했습니다").wait_for(timeout=30_000)
    card = page.locator(".board-post", has_text="관리자 검토용 글")
    card.get_by_text("관리자 판정").wait_for(timeout=30_000)
    assert card.locator(".ad-badge").count() == (1 if flipped == "ad" else 0)
    assert service.post(ad.id).moderator_label == flipped and service.post(ad.id).label == ad.label

    page.locator("#mod-export").click()
    link = page.locator("#mod-export-file a").first
    link.wait_for(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "reviewed.csv"
    download.value.save_as(saved)
    assert "관리자 검토용 글" in saved.read_text(encoding="utf-8")
    page.screenshot(path=str(tmp_path / "moderation.png"), full_page=True)
