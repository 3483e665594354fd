"""The board in a real headless Chromium (Debian's chromium driven by Playwright), on a phone
(390x844) and a desktop (1280x800) viewport.

A person writes an everyday post and an ad and lands on each, comments, goes back to the list,
opens posts by clicking titles and by URL, pages through the feed, and never scrolls sideways;
script in a title shows as text without running. A moderator logs in, labels and exports.
"""

from __future__ import annotations

import csv
import re
import shutil
import uuid
from pathlib import Path

import pytest

from handlers.text import model_text
from tests.helpers import SEED_DATA
from training.data import load_posts, split_train_dev

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
WAIT_MS = 30_000


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


@pytest.fixture(params=list(VIEWPORTS))
def readers(request, browser):
    """Opens pages of distinct readers (each its own browser context: own storage) at each viewport size."""
    contexts = []

    def open_reader():
        context = browser.new_context(locale="ko-KR", viewport=VIEWPORTS[request.param])
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield open_reader
    for context in contexts:
        context.close()


@pytest.fixture
def page(readers):
    return readers()


def seed_examples() -> tuple[dict, dict]:
    """An ad and an everyday post the session's tiny model was trained on (same split and seed)."""
    train, _ = split_train_dev(load_posts(SEED_DATA), 0.2, 7)
    seen = set(train.texts)
    with open(SEED_DATA, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if model_text(r["title"], r["body"]) in seen]
    return next(r for r in rows if r["label"] == "1"), next(r for r in rows if r["label"] == "0")


def open_board(page, url: str) -> None:
    page.goto(url)
    page.locator("#feed .board-post, #feed .board-empty, #post-detail .board-post").first.wait_for(timeout=WAIT_MS)


def write_post(page, title: str, body: str) -> int:
    """Write a post from the list; returns its id once the page has landed on it."""
    page.locator("#write-open").click()
    page.locator("#post-title").get_by_role("textbox").fill(title)
    page.locator("#post-body").get_by_role("textbox").fill(body)
    page.locator("#post-submit").click()
    page.locator("#post-detail h3", has_text=title).wait_for(timeout=WAIT_MS)
    page.wait_for_url(re.compile(r"\?post=\d+$"), timeout=WAIT_MS)
    return int(page.url.rsplit("=", 1)[1])


def back_to_list(page) -> None:
    page.locator("#back-to-list").click()
    page.locator("#feed").wait_for(state="visible", timeout=WAIT_MS)


def assert_no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_write_land_comment_and_go_back(board, page, tmp_path: Path) -> None:
    ad, normal = seed_examples()
    open_board(page, board.url)
    normal_id = write_post(page, normal["title"], normal["body"])
    page.locator("#comment-body").get_by_role("textbox").fill("저도 가보고 싶네요")
    page.locator("#comment-submit").click()
    page.locator("#post-detail .board-comment", has_text="저도 가보고 싶네요").wait_for(timeout=WAIT_MS)
    assert_no_horizontal_scroll(page)
    back_to_list(page)
    write_post(page, ad["title"], ad["body"])
    back_to_list(page)

    service = board.board.service
    assert service.post(normal_id).label == "normal"
    labels = {p.title: p.label for p in service.feed(page_size=50).posts}
    assert labels[ad["title"]] == "ad"
    newest_ad = page.locator(".board-post", has_text=ad["title"]).first
    newest_ad.wait_for(timeout=WAIT_MS)
    assert page.locator(".board-post", has_text=normal["title"]).first.locator(".ad-badge").count() == 0
    badge = newest_ad.locator(".ad-badge")
    assert badge.inner_text() == "광고"
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(220, 38, 38)"
    title_box = newest_ad.locator("h3").bounding_box()
    assert badge.bounding_box()["y"] < title_box["y"]

    xss = "<img src=x onerror=alert('xss')> 제목"
    write_post(page, xss, "<script>alert('body')</script>")
    back_to_list(page)
    page.locator("#feed .board-post", has_text="onerror").first.wait_for(timeout=WAIT_MS)
    assert xss in page.locator("#feed").inner_text()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    assert page.dialogs == []


def test_open_a_post_by_clicking_its_title_and_by_url(board, page) -> None:
    service = board.board.service
    title = f"제목을 눌러 여는 글 {uuid.uuid4().hex[:6]}"
    post = service.create_post(title, "클릭해서 읽는 본문입니다", "")
    open_board(page, board.url)
    page.locator("#feed a.post-link", has_text=title).click()
    page.locator("#post-detail p", has_text="클릭해서 읽는 본문입니다").wait_for(timeout=WAIT_MS)
    assert f"post={post.id}" in page.url
    page.locator("#comment-body").wait_for(state="visible")

    open_board(page, f"{board.url}/?post={post.id}")
    page.locator("#post-detail h3", has_text=title).wait_for(timeout=WAIT_MS)
    assert not page.locator("#feed").is_visible()
    back_to_list(page)
    page.locator("#feed a.post-link", has_text=title).wait_for(timeout=WAIT_MS)


@pytest.mark.parametrize("bad", ["abc", "-3", str(2**63), "999999"])
def test_a_bad_or_missing_post_url_says_so(board, page, bad: str) -> None:
    page.goto(f"{board.url}/?post={bad}")
    page.locator("#post-detail", has_text="게시글을 열 수 없습니다").wait_for(timeout=WAIT_MS)
    page.get_by_text(re.compile("존재하지 않는 게시글|숫자로 입력해")).first.wait_for(timeout=WAIT_MS)


def test_a_hidden_post_does_not_open_by_url(board, page) -> None:
    post = board.board.service.create_post("주소로도 못 여는 숨긴 글", "숨김", "")
    board.board.service.repo.set_hidden(post.id, True, "mod")
    page.goto(f"{board.url}/?post={post.id}")
    page.locator("#post-detail", has_text="게시글을 열 수 없습니다").wait_for(timeout=WAIT_MS)
    assert "주소로도 못 여는" not in page.content()


def test_paginate_with_the_buttons(board, page) -> None:
    service = board.board.service
    for i in range(11):
        service.repo.add_post("u", f"페이지 넘김 {i}", "목록을 채우는 글")
    pages = service.feed().pages
    open_board(page, board.url)
    indicator = page.locator("#page-indicator")
    indicator.get_by_text(f"1 / {pages} 페이지").wait_for(timeout=WAIT_MS)
    assert page.locator("#page-prev").is_disabled()
    first = page.locator("#feed .board-post").first.get_attribute("data-post-id")
    page.locator("#page-next").click()
    indicator.get_by_text(f"2 / {pages} 페이지").wait_for(timeout=WAIT_MS)
    assert page.locator("#feed .board-post").first.get_attribute("data-post-id") != first
    page.locator("#feed a.post-link").first.click()
    page.locator("#post-detail h3").wait_for(timeout=WAIT_MS)
    back_to_list(page)
    indicator.get_by_text(f"2 / {pages} 페이지").wait_for(timeout=WAIT_MS)
    page.locator("#page-prev").click()
    indicator.get_by_text(f"1 / {pages} 페이지").wait_for(timeout=WAIT_MS)
    assert page.locator("#feed .board-post").first.get_attribute("data-post-id") == first
    assert_no_horizontal_scroll(page)


def log_in_as_moderator(board, page) -> None:
    creds = board.board.moderation.sessions.credentials
    page.get_by_text("관리자", exact=True).click()
    page.locator("#mod-user").get_by_role("textbox").fill(creds.username)
    page.locator("#mod-password").locator("input, textarea").first.fill(creds.password)
    page.locator("#mod-login").click()
    page.locator("#mod-notice", has_text="로그인되었습니다").wait_for(timeout=WAIT_MS)
    page.locator("#review-queue table").wait_for(timeout=WAIT_MS)


def test_three_readers_report_a_post_and_a_moderator_decides_in_place(board, readers) -> None:
    service = board.board.service
    title = f"신고받을 글 {uuid.uuid4().hex[:6]}"
    post = service.create_post(title, "독자들이 광고라고 신고하는 글", "")
    service.add_comment(post.id, "이 댓글도 신고합니다", "")
    for n in range(1, 4):
        reader = readers()
        open_board(reader, f"{board.url}/?post={post.id}")
        reader.locator("#report-post").click()
        reader.get_by_text("신고가 접수되었습니다").first.wait_for(timeout=WAIT_MS)
        if n == 1:
            reader.locator("#report-post").click()
            reader.get_by_text("이미 신고하셨습니다").first.wait_for(timeout=WAIT_MS)
            reader.locator(".board-comment button[data-action=report]").click()
            reader.get_by_text("신고가 접수되었습니다").nth(1).wait_for(timeout=WAIT_MS)
        assert service.post(post.id).open_reports == n
    reader.reload()
    reader.locator("#post-detail .board-post .review-badge", has_text="검토 중").wait_for(timeout=WAIT_MS)
    assert service.post(post.id).comments[0].open_reports == 1

    moderator = readers()
    open_board(moderator, board.url)
    log_in_as_moderator(board, moderator)
    first = moderator.locator("#review-queue tr[data-kind]").first
    assert first.get_attribute("data-id") == str(post.id) and first.locator("td").nth(3).inner_text() == "3"
    first.locator("a").click()
    moderator.locator("#post-detail h3", has_text=title).wait_for(timeout=WAIT_MS)
    moderator.locator("#post-detail .board-post button[data-action=ad]").click()
    moderator.get_by_text("광고로 표시했습니다").first.wait_for(timeout=WAIT_MS)
    moderator.locator("#post-detail .board-post .ad-badge").wait_for(timeout=WAIT_MS)
    decided = service.post(post.id)
    assert (decided.moderator_label, decided.open_reports) == ("ad", 0)
    assert moderator.locator("#post-detail .board-post .review-badge").count() == 0
    moderator.locator("#post-detail .board-comment button[data-action=dismiss]").click()
    moderator.get_by_text("신고를 기각했습니다").first.wait_for(timeout=WAIT_MS)
    assert service.post(post.id).comments[0].open_reports == 0
    assert_no_horizontal_scroll(moderator)


def test_moderator_overrides_a_label_and_exports_in_a_browser(board, page, tmp_path: Path) -> None:
    service = board.board.service
    title = f"관리자 검토용 글 {uuid.uuid4().hex[:6]}"
    ad = service.create_post(title, "사람이 라벨을 고칠 글입니다", "")
    open_board(page, board.url)
    log_in_as_moderator(board, page)

    flipped = "normal" if service.post(ad.id).shown_label == "ad" else "ad"
    page.locator("#mod-id").get_by_role("spinbutton").fill(str(ad.id))
    page.locator("#mod-label").get_by_label("일반" if flipped == "normal" else "광고").check()
    page.locator("#mod-apply").click()
    page.locator("#mod-notice", has_text="라벨을 적용했습니다").wait_for(timeout=WAIT_MS)
    card = page.locator(".board-post", has_text=title)
    card.get_by_text("관리자 판정").wait_for(timeout=WAIT_MS)
    assert card.locator(".ad-badge").count() == (1 if flipped == "ad" else 0)
    assert service.post(ad.id).moderator_label == flipped

    page.locator("#mod-export").click()
    link = page.locator("#mod-export-file a").first
    link.wait_for(timeout=WAIT_MS)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "reviewed.csv"
    download.value.save_as(saved)
    assert title in saved.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def explaining_board(blended_bundle: Path, tmp_path_factory):
    """A board whose TorchServe serves the bundle with a lexical component (so explanations have
    evidence), showing the evidence to every reader (ADS_EVIDENCE_PUBLIC)."""
    from serving import torchserve
    from serving.export import export_bundle
    from tests.helpers import ServedBoard, make_settings

    cfg, _ = make_settings(tmp_path_factory.mktemp("explaining"), ADS_EVIDENCE_PUBLIC="true")
    torchserve.start(cfg, export_bundle(blended_bundle, "2", cfg).file_name)
    try:
        with ServedBoard(cfg) as served:
            yield served
    finally:
        torchserve.stop(cfg)


def test_the_phrases_behind_an_ad_are_highlighted(explaining_board, page) -> None:
    ad, _ = seed_examples()
    service = explaining_board.board.service
    post = service.create_post(ad["title"], ad["body"], "")
    assert post.label == "ad"
    phrases = service.evidence(service.post(post.id))
    assert phrases, "the blended bundle's explanations name the n-grams behind the ad"
    open_board(page, f"{explaining_board.url}/?post={post.id}")
    marks = page.locator("#post-detail .board-post mark.evidence")
    marks.first.wait_for(timeout=WAIT_MS)
    assert {m.lower() for m in marks.all_inner_texts()} <= {p.lower() for p in phrases}
    assert page.locator("#post-detail .evidence-note").inner_text().startswith("광고 판단 근거")
