"""Functions short enough to read at once: none longer than MAX_LINES in the checked packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

MAX_LINES = 80
CHECKED = ("handlers", "serving", "training", "stack", "ui")


def long_functions(folder: Path, max_lines: int = MAX_LINES) -> list[str]:
    """`path:line name (n lines)` for every function or method in `folder` longer than max_lines."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > max_lines:
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


@pytest.mark.parametrize("package", CHECKED)
def test_no_function_is_longer_than_the_limit(package: str) -> None:
    assert long_functions(REPO_ROOT / package) == [], f"split these functions (at most {MAX_LINES} lines)"


def test_the_check_sees_long_functions(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    return 1\n", encoding="utf-8")
    assert [line.split()[1] for line in long_functions(tmp_path)] == ["long"]


ENVIRONMENT_READER = Path("stack") / "settings.py"


def test_only_the_settings_module_reads_the_environment() -> None:
    """Every variable goes through stack.settings.Settings (tests aside)."""
    readers = [
        str(path.relative_to(REPO_ROOT))
        for package in (*CHECKED, "benchmarks")
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if path.relative_to(REPO_ROOT) != ENVIRONMENT_READER
        and any(word in path.read_text(encoding="utf-8") for word in ("os.environ", "os.getenv", "getenv("))
    ]
    assert readers == []
