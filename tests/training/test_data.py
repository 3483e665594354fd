"""The training data format: one CSV layout for seed, user, moderator-export and development data."""

from pathlib import Path

import pytest

from training.data import DataError, load_posts, parse_label, split_train_dev

SEED = Path(__file__).resolve().parents[2] / "training" / "data" / "seed_posts.csv"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_set_is_large_distinct_and_about_forty_percent_ads() -> None:
    posts = load_posts(SEED)
    assert len(posts) >= 400
    assert len(set(posts.texts)) == len(posts.texts)
    assert 0.35 <= posts.ad_ratio <= 0.45


@pytest.mark.parametrize(("raw", "label"), [("1", 1), ("0", 0), ("ad", 1), ("normal", 0), ("광고", 1), ("1.0", 1)])
def test_label_spellings(raw: str, label: int) -> None:
    assert parse_label(raw) == label


def test_body_only_text_alias_and_weights(tmp_path: Path) -> None:
    posts = load_posts(write(tmp_path, "text,label,weight\n맛집 후기,0,1.0\n특가 문의 주세요,1,0.3\n"))
    assert posts.texts == ["맛집 후기", "특가 문의 주세요"]
    assert posts.weights == [1.0, 0.3]


def test_rows_empty_after_cleaning_are_dropped(tmp_path: Path) -> None:
    posts = load_posts(write(tmp_path, "title,body,label\n,   ,0\n제목,본문,1\n제목2,본문2,0\n"))
    assert len(posts) == 2


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("title,label\n제목,1\n", "needs columns"),
        ("body,label\n본문,maybe\n본문2,0\n", "unknown label"),
        ("body,label\n본문,1\n본문2,1\n", "both ad and normal"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, content: str, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        load_posts(write(tmp_path, content))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_posts(tmp_path / "nope.csv")


def test_split_is_stratified_and_deterministic() -> None:
    posts = load_posts(SEED)
    train_a, dev_a = split_train_dev(posts, 0.2, 1)
    train_b, dev_b = split_train_dev(posts, 0.2, 1)
    assert dev_a.texts == dev_b.texts and train_a.texts == train_b.texts
    assert not set(train_a.texts) & set(dev_a.texts)
    assert abs(dev_a.ad_ratio - posts.ad_ratio) < 0.03


def test_mixture_scales_weights_per_file(tmp_path: Path) -> None:
    from training.data import load_mixture

    careful = tmp_path / "careful.csv"
    careful.write_text("text,label\n정성 라벨 글,0\n정성 광고 글,1\n", encoding="utf-8")
    weak = tmp_path / "weak.csv"
    weak.write_text("text,label\n약한 라벨 글,1\n약한 일반 글,0\n", encoding="utf-8")
    mixed = load_mixture([str(careful), f"{weak}:0.25"])
    assert len(mixed) == 4
    assert mixed.weights == [1.0, 1.0, 0.25, 0.25]
    assert mixed.digest != load_mixture([str(careful)]).digest


def test_a_folder_is_its_csvs_in_name_order_as_one_set(tmp_path: Path) -> None:
    """One file may hold only ads: the folder as a whole needs both labels."""
    (tmp_path / "b_round.csv").write_text("body,label\n둘째 파일 광고,1\n", encoding="utf-8")
    (tmp_path / "a_round.csv").write_text("body,label\n첫째 파일 일상,0\n첫째 파일 광고,1\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data", encoding="utf-8")
    posts = load_posts(tmp_path)
    assert posts.texts == ["첫째 파일 일상", "첫째 파일 광고", "둘째 파일 광고"]
    assert posts.source == str(tmp_path) and posts.digest == load_posts(tmp_path).digest
    (tmp_path / "a_round.csv").unlink()
    with pytest.raises(DataError, match="both ad and normal"):
        load_posts(tmp_path)
    (tmp_path / "b_round.csv").unlink()
    with pytest.raises(DataError, match=r"no \.csv file"):
        load_posts(tmp_path)
