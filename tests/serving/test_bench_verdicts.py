"""The serving benchmark's verdict arithmetic (`make bench`), on hand-made rows: no timing here."""

from __future__ import annotations

import pytest

from benchmarks.serving import Row, main, markdown, verdicts


def _rows(runs: list[tuple[float, float, float, int]]) -> list[Row]:
    """e5 int8 rows: a roofline of 60 before the first run, then per run (c=16 posts/s, roofline
    after it, half-load p99 ms, errors); naive 6 posts/s, half-load and c=1 p50 10 ms, c=1 p99 20 ms."""
    rows = [
        Row("e5", "fp32", "naive", 6.0),
        Row("e5", "int8", "roofline", 60.0),
        Row("e5", "int8", "in-process, batches of 4", 50.0),
    ]
    for run, (ts16, after, half_p99, errors) in enumerate(runs, start=1):
        rows += [
            Row("e5", "int8", "torchserve c=1", 20.0, 10.0, 15.0, 20.0, run=run),
            Row("e5", "int8", "torchserve c=16", ts16, 100.0, 150.0, 200.0, errors=errors, run=run),
            Row("e5", "int8", "torchserve open loop 25.0/s", 25.0, 10.0, 20.0, half_p99, run=run),
            Row("e5", "int8", "roofline after", after, run=run),
        ]
    return rows


def test_one_run_is_checked_against_the_higher_roofline() -> None:
    (line,) = verdicts(_rows([(45.0, 50.0, 30.0, 0)]))
    assert "c=16 = 7.5x naive" in line
    assert "75% of roofline" in line  # 45 / max(60 before, 50 after)
    assert "90% of the in-process, batches of 4 rate" in line
    assert "p99/p50 at half load 3.00" in line and "2.00 at c=1" in line
    assert "errors 0" in line and "median" not in line


def test_several_runs_give_the_median_and_range_each_against_its_own_rooflines() -> None:
    # Run 1: 45 / max(60, 50) = 75%; run 2: 54 / max(50, 54) = 100%; run 3: 48 / max(54, 60) = 80%.
    (line,) = verdicts(_rows([(45.0, 50.0, 30.0, 0), (54.0, 54.0, 20.0, 1), (48.0, 60.0, 25.0, 0)]))
    assert "80% (median of 3 runs, 75% to 100%) of roofline" in line
    assert "8.0x (median of 3 runs, 7.5x to 9.0x) naive" in line
    assert "p99/p50 at half load 2.50 (median of 3 runs, 2.00 to 3.00)" in line
    assert "60.00 before / 50.00 after, 50.00 before / 54.00 after, 54.00 before / 60.00 after" in line
    assert "errors 1" in line


def test_the_table_names_the_run_of_repeated_rows_only() -> None:
    table = markdown(_rows([(45.0, 50.0, 30.0, 0), (54.0, 54.0, 20.0, 0)]), "header", [])
    assert "| torchserve c=16 (run 2) |" in table and "| roofline after (run 1) |" in table
    assert "| torchserve open loop 25.0/s (run 1) |" in table
    assert "| roofline |" in table and "| naive |" in table
    single = markdown(_rows([(45.0, 50.0, 30.0, 0)]), "header", [])
    assert "(run " not in single


def test_runs_below_one_are_refused_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--runs", "0"])
    assert exc.value.code == 2 and "--runs must be at least 1, got 0" in capsys.readouterr().err
