"""pyproject.toml is the one source of version pins: make, the image and training read it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement

from stack.requirements import pinned, requirements
from training.train import MODEL_DISTRIBUTIONS


@pytest.mark.parametrize("line", requirements("test", "dev"))
def test_the_environment_satisfies_every_pin(line: str) -> None:
    requirement = Requirement(line)
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is declared in pyproject.toml but not installed (make venv)")
    assert requirement.specifier.contains(installed, prereleases=True), f"{installed} does not satisfy {line}"


def test_a_logged_model_gets_the_same_pins_as_the_project() -> None:
    pins = pinned(*MODEL_DISTRIBUTIONS)
    assert len(pins) == len(MODEL_DISTRIBUTIONS)
    assert set(pins) <= set(requirements())
    assert "torch==2.13.0" in pins


def test_unknown_extras_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown extras"):
        requirements("nonsense")
