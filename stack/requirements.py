"""The project's requirements, read from pyproject.toml: the one place where versions are pinned.

`python -m stack.requirements [EXTRA ...]` prints them one per line for pip (`make` installs them
this way, with torch first as TORCH_SPEC); training logs the model's own pins with `pinned()`.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def requirements(*extras: str, pyproject: Path = PYPROJECT) -> list[str]:
    """The runtime requirements, then those of each extra (e.g. `test`, `dev`)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = sorted(set(extras) - set(optional))
    if unknown:
        raise ValueError(f"unknown extras {unknown}; pyproject.toml has {sorted(optional)}")
    return [*project["dependencies"], *(line for extra in extras for line in optional[extra])]


def pinned(*names: str) -> list[str]:
    """The runtime requirements of the named distributions, as pyproject.toml pins them."""
    from packaging.requirements import Requirement  # not needed to print the list for pip
    from packaging.utils import canonicalize_name

    wanted = {canonicalize_name(name) for name in names}
    found = [line for line in requirements() if canonicalize_name(Requirement(line).name) in wanted]
    missing = wanted - {canonicalize_name(Requirement(line).name) for line in found}
    if missing:
        raise ValueError(f"not in pyproject.toml's dependencies: {sorted(missing)}")
    return found


if __name__ == "__main__":
    print("\n".join(requirements(*sys.argv[1:])))
