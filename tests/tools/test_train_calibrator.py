"""The calibrator's fitting: standardised logistic regressions and the precision threshold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.answering import AnswerConfig
from bot.answering.abstain import Logistic
from kb.settings import Settings
from tools.train_calibrator import fit, precision_threshold, probabilities, reading_folder, reading_key


def test_a_fitted_regression_ranks_like_its_signal_and_reads_back_in_the_product() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    model = fit(x, y)
    p = probabilities(model, x)
    assert ((p > 0.5) == y).mean() > 0.85, "the first signal decides"
    assert abs(model["coef"][0]) > 3 * max(abs(model["coef"][1]), abs(model["coef"][2]))
    product = Logistic.from_dict(model)
    assert np.allclose([product.probability(row) for row in x[:20]], p[:20], atol=1e-5), "the same numbers at run time"


def test_the_threshold_is_the_lowest_that_keeps_the_precision() -> None:
    p = np.linspace(1.0, 0.0, 40, endpoint=False)
    y = np.array([1] * 18 + [0, 1] + [0] * 20)  # 19 right among the first 20
    assert precision_threshold(p, y, 0.9) == p[20], "19 right of the first 21: 0.905"
    assert precision_threshold(p, y, 1.0) == p[17], "18 in a row are right"
    assert precision_threshold(p, np.zeros(40, dtype=int), 0.5) == 1.0, "never reached: nothing is answered"


def test_traces_read_another_way_go_to_another_folder(tmp_path: Path) -> None:
    settings, config = Settings.from_env({}), AnswerConfig(reader=True)
    key = reading_key(settings, config)
    assert key["reader_first"] == settings.reader_first and len(key["reader_weights"]) == 16
    same = reading_folder(tmp_path, reading_key(settings, config))
    assert same == reading_folder(tmp_path, key) and (same / "reading.json").is_file()
    for other in (reading_key(replace(settings, reader_first=settings.reader_first + 1), config),
                  reading_key(settings, replace(config, reader_candidates=config.reader_candidates + 1)),
                  reading_key(settings, config, reader_dir=tmp_path)):  # other (here: no) weights
        assert reading_folder(tmp_path, other) != same, other
