"""The moderator export reports how many items it holds, not how many lines."""

from __future__ import annotations

import csv
import io

from ui.moderation import Moderation


def test_a_multi_line_body_counts_once() -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", "body", "label"])
    writer.writerow(["제목", "첫 줄\n둘째 줄\n셋째 줄", 1])
    writer.writerow(["", "한 줄", 0])
    assert out.getvalue().count("\n") - 1 > 2
    assert Moderation.exported_rows(out.getvalue()) == 2


def test_an_empty_export_holds_nothing() -> None:
    assert Moderation.exported_rows("title,body,label\r\n") == 0
    assert Moderation.exported_rows("") == 0
