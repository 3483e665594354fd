"""A max_length beyond the backbone's position embeddings is refused before any training."""

from dataclasses import replace

import pytest

from training import backbones
from training.train import check_max_length


@pytest.mark.parametrize(("max_length", "ok"), [(256, True), (512, True), (513, False), (4, False)])
def test_max_length_must_fit_the_backbone(max_length: int, ok: bool) -> None:
    built = backbones.build("tiny", ["광고 문의 주세요", "오늘 점심은 김치찌개"] * 8, 7)
    assert built.model.config.max_position_embeddings == 512
    built.recipe = replace(built.recipe, max_length=max_length)
    if ok:
        check_max_length(built)
    else:
        with pytest.raises(ValueError, match="between 8 and 512"):
            check_max_length(built)
