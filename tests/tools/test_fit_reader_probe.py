"""Fitting the reader's probe: a ridge regression of the reader's logits."""

from __future__ import annotations

import numpy as np

from tools.fit_reader_probe import agreement, fit


def _questions(rng: np.random.Generator, noise: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    found = []
    for _ in range(60):
        means = rng.normal(size=(8, 5)).astype(np.float32)
        cosines = rng.uniform(0.7, 0.95, size=8).astype(np.float32)
        logits = (3 * means[:, 0] - 2 * means[:, 3] + 10 * cosines + noise * rng.normal(size=8)).astype(np.float32)
        found.append((means, cosines, logits))
    return found


def test_a_linear_reader_is_learned_and_its_best_unit_always_kept() -> None:
    rng = np.random.default_rng(0)
    probe = fit(_questions(rng, 0.05), layer=8, keep=3, margin=1.0, ridge=1e-3)
    figures = agreement(probe, _questions(rng, 0.05))
    assert figures["r2"] > 0.99
    assert figures["best_unit_kept"] == 1.0
    assert 3 / 8 <= figures["units_read_whole"] < 1.0
    assert (probe.layer, probe.keep, probe.margin) == (8, 3, 1.0)


def test_noise_the_probe_cannot_see_lowers_its_agreement() -> None:
    rng = np.random.default_rng(1)
    clean = agreement(fit(_questions(rng, 0.05), 8, 1, 0.0), _questions(rng, 0.05))
    noisy = agreement(fit(_questions(rng, 5.0), 8, 1, 0.0), _questions(rng, 5.0))
    assert noisy["r2"] < clean["r2"]
    assert noisy["best_unit_kept"] < clean["best_unit_kept"]
