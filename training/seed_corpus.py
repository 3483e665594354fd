"""The team-written seed corpus: its cases, its format and the checks it must pass.

Every row of the CSVs in `training/data/board_corpus/` (one per writing round) is written by the
team (never copied, translated or paraphrased from real posts; see training/data/README.md).
Columns: `kind` (post|comment), `case` (a key of CASES), `title` (empty for comments), `body`,
`label` (1 ad, 0 not ad; must match the case). `python -m training.seed_corpus [CSV or folder]`
prints its composition and every problem.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.data import csv_files

CORPUS = Path(__file__).parent / "data" / "board_corpus"
COLUMNS = ["kind", "case", "title", "body", "label"]
NEAR_DUPLICATE_COSINE = 0.8
"""Two rows whose character 3-5-gram TF-IDF cosine reaches this are near-duplicates (a shared template)."""
PREFIX_SYLLABLES = 25
"""Two rows that share their first this-many Hangul syllables are near-duplicates too."""


@dataclass(frozen=True)
class Case:
    label: int
    kind: str
    what: str


CASES: dict[str, Case] = {
    # ads (LABELING.md: commercial promotion)
    "shop_service": Case(1, "post", "a shop or service promoting itself with prices, contact, booking or shipping"),
    "sponsored_review": Case(
        1, "post", "a review written like a personal one that discloses 협찬/제공받아/원고료/체험단 etc."
    ),
    "group_buy": Case(1, "post", "a 공구 (group buy) run or promoted with a link or price"),
    "mlm": Case(1, "post", "MLM recruiting, member codes, '문의 DM', rank celebrations"),
    "marketing_service": Case(1, "post", "selling followers, likes, reviews, viral marketing"),
    "gambling_adult": Case(1, "post", "gambling sites, adult services, their promotion"),
    "promo_copy": Case(1, "post", "pure promotional copy: feature lists, slogans, third-person restaurant SEO copy"),
    "seller_reposted_review": Case(1, "post", "a seller reposting customers' reviews or thanking customers"),
    "brand_giveaway": Case(1, "post", "a brand or shop running its own giveaway, or a promotional review of a prize"),
    "job_or_ticket_ad": Case(1, "post", "recruitment for the poster's own business, ticketed events it sells"),
    "disclosed_campaign": Case(1, "post", "seeded campaign copy that carries #광고 or 협찬"),
    "hashtag_offer": Case(1, "post", "hashtag-only posts whose tags state a business offer (주문제작, 견적문의)"),
    # not ads
    "honest_review": Case(
        0, "post", "a genuine 내돈내산 review naming brands, no disclosure, no call to buy from the poster"
    ),
    "restaurant_diary": Case(0, "post", "a first-person food or cafe diary with prices and opening hours"),
    "question": Case(0, "post", "a question to the board (recommendations, how-to, where to buy)"),
    "pets": Case(0, "post", "life with a pet"),
    "kids": Case(0, "post", "parenting and kids"),
    "daily_chat": Case(0, "post", "daily life, feelings, chat, work, study"),
    "fan_post": Case(0, "post", "fans of idols, actors, teams, games"),
    "sponsorship_request": Case(0, "post", "a person asking to be sponsored (#협찬문의 on a selfie)"),
    "not_ad_declaration": Case(0, "post", "'광고아님' / '협찬 아님' declarations on a personal post"),
    "noncommercial_notice": Case(0, "post", "schools, clubs, charities, public agencies' notices"),
    "event_winner_thanks": Case(0, "post", "a thank-you or casual mention of a prize won"),
    "seeded_undisclosed": Case(0, "post", "praise of a product tagged 내돈내산, no disclosure, no call to buy"),
    "mlm_personal_purchase": Case(0, "post", "a personal purchase of an MLM brand with no recruiting"),
    "travel_hobby": Case(0, "post", "travel, hobbies, art and photos shared without selling"),
    "news_opinion": Case(0, "post", "news and opinion"),
    # comments
    "comment_spam": Case(1, "comment", "short spam: 부업 DM, 카톡 상담, link drops, shop plugs"),
    "comment_normal": Case(0, "comment", "ordinary replies"),
}


def load_corpus(path: Path = CORPUS) -> pd.DataFrame:
    """The corpus (a CSV or a folder of them) as a frame of strings, one row per post or comment.

    Two columns are added after the corpus' own: `file` (the CSV's name) and `line` (the row's
    line in it), so that every problem names where to fix it.
    """
    frames = [
        pd.read_csv(f, dtype=str, keep_default_na=False).assign(file=f.name, line=lambda x: range(2, len(x) + 2))
        for f in csv_files(path)
    ]
    return pd.concat(frames, ignore_index=True)


def format_problems(frame: pd.DataFrame) -> list[str]:
    """Rows that break the format: unknown case, wrong label or kind, empty body, a comment with a title."""
    problems = []
    if list(frame.columns[: len(COLUMNS)]) != COLUMNS:
        return [f"columns must start with {COLUMNS}, found {list(frame.columns)}"]
    for _, row in frame.iterrows():
        where = f"{row['file']}:{row['line']}"
        case = CASES.get(row["case"])
        if case is None:
            problems.append(f"{where}: unknown case {row['case']!r}")
        elif str(case.label) != row["label"] or case.kind != row["kind"]:
            problems.append(f"{where}: case {row['case']} needs kind={case.kind} label={case.label}")
        if not row["body"].strip():
            problems.append(f"{where}: empty body")
        if row["kind"] == "comment" and row["title"].strip():
            problems.append(f"{where}: a comment has no title")
    return problems


def _hangul_prefix(text: str) -> str:
    return "".join(re.findall(r"[가-힣]", text))[:PREFIX_SYLLABLES]


def near_duplicates(frame: pd.DataFrame) -> list[tuple[int, int, float]]:
    """Pairs of rows (index, index, cosine) that look like one template; prefix twins get cosine 1.0."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = (frame["title"] + "\n" + frame["body"]).tolist()
    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    similarity = (matrix @ matrix.T).tocoo()
    pairs = {
        (int(i), int(j)): float(v)
        for i, j, v in zip(similarity.row, similarity.col, similarity.data, strict=True)
        if i < j and v >= NEAR_DUPLICATE_COSINE
    }
    seen: dict[str, int] = {}
    for index, text in enumerate(texts):
        prefix = _hangul_prefix(text)
        if len(prefix) == PREFIX_SYLLABLES and prefix in seen:
            pairs[(seen[prefix], index)] = 1.0
        seen.setdefault(prefix, index)
    return sorted((i, j, v) for (i, j), v in pairs.items())


def main(argv: list[str]) -> int:
    frame = load_corpus(Path(argv[0]) if argv else CORPUS)
    problems = format_problems(frame)
    for i, j, cosine in near_duplicates(frame):
        a, b = frame.iloc[i], frame.iloc[j]
        left, right = f"{a['file']}:{a['line']} {a['body'][:40]!r}", f"{b['file']}:{b['line']} {b['body'][:40]!r}"
        problems.append(f"near-duplicate ({cosine:.2f}): {left} ~ {right}")
    counts = frame.groupby(["kind", "case"]).size()
    print(counts.to_string())
    kinds = frame["kind"].value_counts()
    print(f"{len(frame)} rows: {kinds.get('post', 0)} posts, {kinds.get('comment', 0)} comments")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
