"""The reader's network read layer by layer: its attention, units laid end to end without
padding, and the probe that stops reading units guessed far below the best.

`bot.answering.reader.Reader` reads a stage's units through the probe's first layers
(`read_pruned`), guesses each unit's logit from them (`Probe`), and reads only the units
guessed best through the rest: most of the reader's work is the linear layers of the units
that do not win. The texts are laid end to end (`Packing`), so no layer computes padding;
attention, which must not look across texts, reads each text on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch


ATTENTION = "passerelle_bmm"


def _bmm_attention(module: Any, query: "torch.Tensor", key: "torch.Tensor", value: "torch.Tensor",
                   attention_mask: "torch.Tensor | None", scaling: float | None = None, dropout: float = 0.0,
                   packing: "Packing | None" = None, **_: Any) -> tuple["torch.Tensor", None]:
    """Attention for reading (no dropout, no gradient needed) as two batched matrix products: on
    the CPU, with e5's 12 heads of 32, the whole reader reads the same units in about 7 % (one
    thread) or 6-13 % (two) less time than with torch's `scaled_dot_product_attention`, whose
    kernels suit larger heads; logits within 0.07 of it (README, *What to expect*).
    `attention_mask` is the boolean padding mask transformers builds for sdpa (True: attend), or
    None when nothing is padded. With `packing`, the texts lie end to end in one row: each
    attends only to itself (`_packed_attention`)."""
    import torch

    if packing is not None:
        return _packed_attention(module, query, key, value, packing, scaling), None
    batch, heads, length, size = query.shape
    keys = key.shape[2]
    scaling = size ** -0.5 if scaling is None else scaling
    if attention_mask is None:
        bias = query.new_zeros((1, 1, 1, keys))
    else:
        bias = query.new_zeros(attention_mask.shape).masked_fill(~attention_mask, torch.finfo(query.dtype).min)
    bias = bias.expand(batch, heads, length, keys).reshape(batch * heads, length, keys)
    scores = torch.baddbmm(bias, query.reshape(batch * heads, length, size),
                           key.reshape(batch * heads, keys, size).transpose(1, 2), alpha=scaling)
    out = torch.bmm(torch.softmax(scores, dim=-1), value.reshape(batch * heads, keys, size))
    return out.reshape(batch, heads, length, size).transpose(1, 2).contiguous(), None


def _packed_attention(module: Any, query: "torch.Tensor", key: "torch.Tensor", value: "torch.Tensor",
                      packing: "Packing", scaling: float | None) -> "torch.Tensor":
    """Attention over texts laid end to end (1 x heads x tokens x size), each text on its own
    (no padding, no mask), laid end to end again (1 x tokens x heads x size)."""
    import torch

    scaling = query.shape[3] ** -0.5 if scaling is None else scaling
    parts = []
    for start, length in zip(packing.starts, packing.lengths):
        q, k, v = (x[0, :, start : start + length] for x in (query, key, value))
        # The same products as `_bmm_attention`'s (scaled inside baddbmm), so that a text reads
        # as it does in a padded batch, to bf16's rounding.
        scores = torch.baddbmm(q.new_zeros((1, 1, 1)).expand(q.shape[0], length, length), q, k.transpose(1, 2),
                               alpha=scaling)
        parts.append(torch.bmm(torch.softmax(scores, dim=-1), v))
    return torch.cat(parts, dim=1).transpose(0, 1)[None]


def use_bmm_attention(network: Any) -> None:
    """Make a reader network (in eval mode, for reading only) attend with `_bmm_attention`."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, _bmm_attention)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)
    network.encoder.set_attn_implementation(ATTENTION)


@dataclass(frozen=True)
class Probe:
    """A linear guess of the reader's logit from the mean of its hidden states after `layer`
    layers and the embedding model's cosine, fitted to the reader's own logits
    (`python -m tools.fit_reader_probe`, `bot/reader_model/probe.json`). The reader runs every
    unit of a stage through the first `layer` layers, and only the `keep` units guessed best,
    and those guessed within `margin` of the best, through the rest: a unit guessed far below
    them is not the one quoted, and the rest of the network is a third of its work."""

    layer: int
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    keep: int
    margin: float

    def guess(self, pooled: np.ndarray, cosine: np.ndarray) -> np.ndarray:
        """The guessed logits of units whose layer-`layer` means are the rows of `pooled`."""
        features = np.hstack([pooled.astype(np.float32), cosine.astype(np.float32)[:, None]])
        return ((features - self.mean) / self.scale) @ self.weights + self.bias

    def survivors(self, guessed: np.ndarray) -> list[int]:
        """Indexes of the units read to the end: the `keep` best guessed, and any within
        `margin` of the best guess."""
        if len(guessed) == 0:
            return []
        order = np.argsort(-guessed, kind="stable")
        floor = guessed[order[0]] - self.margin
        return sorted(set(order[: self.keep].tolist()) | {int(i) for i in np.flatnonzero(guessed >= floor)})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Probe":
        """From the probe file's form (see `tools.fit_reader_probe`)."""
        return cls(int(data["layer"]), np.asarray(data["mean"], np.float32), np.asarray(data["scale"], np.float32),
                   np.asarray(data["weights"], np.float32), float(data["bias"]), int(data["keep"]), float(data["margin"]))

    def to_dict(self) -> dict[str, Any]:
        """The probe file's form."""
        return {"layer": self.layer, "keep": self.keep, "margin": self.margin, "bias": self.bias,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "weights": self.weights.tolist()}


def read_pruned(network: Any, encoded: Sequence[Sequence[int]], cosine: np.ndarray, probe: Probe,
                 bonus: np.ndarray | None, threads: Callable[[], object] | None) -> tuple[np.ndarray, np.ndarray]:
    """Every unit through the probe's first layers, then the ones it keeps through the rest;
    the texts laid end to end (`Packing`), so no layer computes padding."""
    import torch

    encoder = network.encoder
    lengths = [len(ids) for ids in encoded]
    # XLM-RoBERTa's positions start after its padding index (2 for e5), BERT's at 0.
    padding = getattr(encoder.embeddings, "padding_idx", None)
    packing = Packing.of(lengths, 0 if padding is None else padding + 1)
    ids = torch.tensor([token for text in encoded for token in text], dtype=torch.long)[None]
    states = encoder.embeddings(input_ids=ids, position_ids=packing.positions)
    states = run_layers(encoder, states, None, 0, probe.layer, packing, threads)
    guessed = probe.guess(packing.means(states).numpy(), cosine)
    kept = probe.survivors(guessed + (0.0 if bonus is None else bonus))
    logits, exact = guessed.astype(np.float32), np.zeros(len(encoded), dtype=bool)
    survivors = Packing.of([lengths[i] for i in kept])
    states = torch.cat([states[:, packing.starts[i] : packing.starts[i] + lengths[i]] for i in kept], dim=1)
    states = run_layers(encoder, states, None, probe.layer, len(encoder.encoder.layer), survivors, threads)
    logits[kept] = network.from_pooled(survivors.means(states), torch.from_numpy(cosine[kept])).float().numpy()
    exact[kept] = True
    return logits, exact


@dataclass(frozen=True)
class Packing:
    """Texts laid end to end in one row, so that the linear layers, most of the reader's work,
    compute no padding; attention, which must not look across texts, reads each text on its own
    (`_packed_attention`)."""

    starts: list[int]
    lengths: list[int]
    positions: "torch.Tensor"  # (1, tokens): each token's position id in its own text

    @classmethod
    def of(cls, lengths: Sequence[int], first_position: int = 0) -> "Packing":
        """The packing of texts of `lengths` tokens, in that order, the first token of each at
        position id `first_position`."""
        import torch

        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
        positions = torch.cat([torch.arange(n) for n in lengths])[None] + first_position
        return cls(list(starts), list(lengths), positions)

    def means(self, states: "torch.Tensor") -> "torch.Tensor":
        """The mean of each text's hidden states (`states`: 1 x tokens x hidden), in float32."""
        import torch

        return torch.stack([states[0, a : a + n].float().mean(0) for a, n in zip(self.starts, self.lengths)])


def run_layers(encoder: Any, states: "torch.Tensor", mask: "torch.Tensor | None", start: int, stop: int,
                packing: Packing | None = None, threads: Callable[[], object] | None = None) -> "torch.Tensor":
    """`states` through transformer layers `start` to `stop` (excluded) of `encoder` (a BERT-like
    model attending with `_bmm_attention`): a padded batch, `mask` marking real tokens (1) and
    padding (0), or texts laid end to end as `packing` says. `threads`, when given, is called
    before each layer (`CoreShare.apply`)."""
    attend = None if mask is None or bool(mask.all()) else mask.bool()[:, None, None, :]
    extra = {} if packing is None else {"packing": packing}
    for layer in encoder.encoder.layer[start:stop]:
        if threads is not None:
            threads()
        states = layer(states, attend, **extra)
    return states
