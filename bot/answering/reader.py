"""The reader: a cross-encoder that scores how well a candidate passage answers a question.

It is multilingual-e5-small (the embedding model `make install` builds locally) read as a
cross-encoder: the question and one candidate go through the transformer together, and a
linear head on the mean-pooled output corrects the embedding model's own cosine between
them. Its score is a logit against "not in the documents" (0): `sigmoid(score)` is the
probability that the candidate answers.

    score = scale * (cosine - offset) + head(mean_pool(e5(question + candidate)))
            + overlap_weight * (share of the question's keywords in the candidate)

Starting from cosine, the head only has to learn what cosine gets wrong; at the start of
training (head at zero) the reader ranks exactly as cosine does. Training
(`python -m tools.train_reader`, `make train-reader`) updates the top layers, the head and
the two scalars on PIAF's `train` split; those weights are committed in
`bot/reader_model/` (bf16) and applied on the locally built e5 weights at load time;
`overlap_weight`, chosen on PIAF's `dev` split after training, is in the model card.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from bot.answering.reader_layers import Probe, read_pruned, use_bmm_attention
from kb.settings import DEFAULT_MODEL_DIR, PROJECT_ROOT
from kb.text import keyword_terms

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

READER_DIR = PROJECT_ROOT / "bot" / "reader_model"
WEIGHTS_FILE = "reader.safetensors"
CARD_FILE = "card.json"
PROBE_FILE = "probe.json"
MAX_TOKENS = 192
# Layers from this one up are trained; below it the e5 weights are used as built.
FIRST_TRAINED_LAYER = 6
# Tokens of one batch once padded to its longest text: 768 rather than 1,536 pads less (a unit
# of 190 tokens no longer pads seven of 100) and reads the same units in 12-15 % less time on
# 1 or 2 threads, with the same best unit (README, *What to expect*).
BATCH_TOKENS = 768
# (question, unit) pairs whose logits a reader remembers (Settings.reader_cache): ~1 kB each.
CACHE_SIZE = 4096


class ReaderError(RuntimeError):
    """The reader model cannot be loaded; the message says what is missing and how to fix it."""


def reader_text(question: str, context: str, candidate: str) -> str:
    """The one sequence the reader reads: the question, then the candidate with its context
    (document title, date, section)."""
    head = f"{context}: " if context else ""
    return f"query: {question.strip()}\npassage: {head}{candidate.strip()}"


def overlap_share(question_terms: set[str], context: str, candidate: str) -> float:
    """Share of the question's keyword terms (stemmed, stopwords out) found in the candidate
    or its context: the lexical evidence the cross-encoder weighs too little on its own."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(keyword_terms(f"{context} {candidate}"))) / len(question_terms)


def _mean_pool(hidden: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def build_network(e5_dir: Path, first_trained_layer: int = FIRST_TRAINED_LAYER, layers: int | None = None) -> Any:
    """The reader network on the e5 weights in `e5_dir`, head at zero (ranks as cosine).

    Parameters below `first_trained_layer` are frozen. With `layers`, only the first `layers`
    transformer layers are kept (a shallower, faster reader; the cosine still comes from the
    whole embedding model)."""
    import torch
    from torch import nn
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    class ReaderNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(e5_dir), local_files_only=True, add_pooling_layer=False)
            if layers is not None:
                _keep_layers(self.encoder, layers)
            hidden = self.encoder.config.hidden_size
            self.head = nn.Linear(hidden, 1)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
            # e5's cosines are compressed (related and unrelated texts lie within ~0.7-0.95):
            # a wide scale turns their differences into logits.
            self.log_scale = nn.Parameter(torch.tensor(float(np.log(40.0))))
            self.offset = nn.Parameter(torch.tensor(0.84))
            for name, param in self.encoder.named_parameters():
                param.requires_grad = _trained(name, first_trained_layer)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, cosine: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return self.score(hidden, attention_mask, cosine)

        def score(self, hidden: torch.Tensor, attention_mask: torch.Tensor, cosine: torch.Tensor) -> torch.Tensor:
            """The logits from the last layer's hidden states (a padded batch)."""
            return self.from_pooled(_mean_pool(hidden, attention_mask), cosine)

        def from_pooled(self, pooled: torch.Tensor, cosine: torch.Tensor) -> torch.Tensor:
            """The logits from the mean of each text's last hidden states."""
            correction = self.head(pooled.to(self.head.weight.dtype)).squeeze(-1)
            return self.log_scale.exp() * (cosine - self.offset) + correction

    return ReaderNetwork()


def _keep_layers(encoder: Any, layers: int) -> None:
    """Cut `encoder` (a BERT-like model) to its first `layers` transformer layers."""
    total = len(encoder.encoder.layer)
    if not 1 <= layers <= total:
        raise ReaderError(f"a reader keeps 1 to {total} layers of the e5 model, not {layers}")
    encoder.encoder.layer = encoder.encoder.layer[:layers]
    encoder.config.num_hidden_layers = layers


def _layer_indexes(state: dict[str, Any]) -> list[int]:
    """The transformer layer index of each layer parameter in a reader's weights."""
    return [int(k.split(".")[3]) for k in state if k.startswith("encoder.encoder.layer.")]


def layer_count(state: dict[str, Any]) -> int:
    """How many transformer layers a reader's weights file expects: trained layers always run
    up to the top one, so the highest layer index it holds, plus one."""
    return 1 + max(_layer_indexes(state))


def _trained(name: str, first_trained_layer: int) -> bool:
    """Is encoder parameter `name` among the trained ones (layers from `first_trained_layer` up)?"""
    parts = name.split(".")
    if "layer" in parts:
        index = parts.index("layer")
        return int(parts[index + 1]) >= first_trained_layer
    return False


def trained_state(network: Any) -> dict[str, "torch.Tensor"]:
    """The parameters training changed, as saved in the weights file (layers in bf16)."""
    import torch

    state = {}
    for name, param in network.named_parameters():
        if param.requires_grad:
            value = param.detach().cpu()
            state[name] = value.to(torch.bfloat16) if name.startswith("encoder.") else value.float()
    return state


@dataclass(frozen=True)
class ReaderScores:
    """Reader output for the candidates of one question, in their order."""

    logits: np.ndarray

    @property
    def probabilities(self) -> np.ndarray:
        """Probability that each candidate answers the question."""
        return 1.0 / (1.0 + np.exp(-self.logits))


class LogitCache:
    """The last `size` logits the network computed, by (question, context, candidate, cosine):
    the same question on the same unit gets the same logit without reading it again (a
    starter question clicked by many users, a question asked again). The key holds the unit's
    text and cosine, so a re-ingested document whose text changed is read afresh. Thread-safe;
    size 0 remembers nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str, float], float] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str, float]) -> float | None:
        """The remembered logit of `key`, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, str, float], value: float) -> None:
        """Remember `value`, forgetting the least recently used entry past `size`."""
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class Reader:
    """The trained reader, loaded lazily once; `score` is thread-safe."""

    def __init__(self, e5_dir: Path | str = DEFAULT_MODEL_DIR, weights_dir: Path | str = READER_DIR,
                 *, bf16: bool | None = None, cache_size: int = CACHE_SIZE) -> None:
        self.e5_dir = Path(e5_dir)
        self.weights_dir = Path(weights_dir)
        self.bf16 = bf16
        self.cache = LogitCache(cache_size)
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None

    @functools.cached_property
    def probe(self) -> Probe | None:
        """The probe that lets the reader stop reading units guessed far below the best
        (`Probe`), or None when its file is absent (every unit is read to the end)."""
        path = self.weights_dir / PROBE_FILE
        return Probe.from_dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None

    @functools.cached_property
    def card(self) -> dict[str, Any]:
        """The model card written by training (data hashes, settings, figures)."""
        path = self.weights_dir / CARD_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._build()
        return self._loaded

    def model(self) -> tuple[Any, Any]:
        """The loaded network (eval mode, bf16 where the CPU has it) and its tokenizer: for a
        caller that batches its own texts (a training run distilling this reader)."""
        return self._load()

    def _build(self) -> tuple[Any, Any]:
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        from kb.embeddings import cpu_has_native_bf16

        weights = self.weights_dir / WEIGHTS_FILE
        if not (self.e5_dir / "config.json").is_file():
            raise ReaderError(f"the e5 model folder {self.e5_dir} is missing: build it with `make install`")
        if not weights.is_file():
            raise ReaderError(f"reader weights not found at {weights}: run `make train-reader`")
        state = load_file(str(weights))
        first, layers = min(_layer_indexes(state)), layer_count(state)
        network = build_network(self.e5_dir, first, layers)
        names = {name for name, _ in network.named_parameters()}
        missing = [k for k in state if k not in names]
        if missing:
            raise ReaderError(f"reader weights {weights} do not fit the e5 model in {self.e5_dir}: {missing[:3]}")
        network.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        network.eval()
        use_bmm_attention(network)
        use_bf16 = cpu_has_native_bf16() if self.bf16 is None else self.bf16
        if use_bf16:
            network.encoder.to(torch.bfloat16)
        tokenizer = AutoTokenizer.from_pretrained(str(self.e5_dir), local_files_only=True)
        log.info("loaded reader weights=%s layers=%d first_trained_layer=%d bf16=%s", weights, layers, first, use_bf16)
        return network, tokenizer

    def score(self, question: str, candidates: Sequence[tuple[str, str]], cosines: Sequence[float],
              batch_tokens: int = BATCH_TOKENS, cached: bool = True, *, first: int = 0,
              clear: float = float("inf"), threads: Callable[[], object] | None = None,
              prune: bool = False) -> ReaderScores:
        """Score `candidates` ((context, text) pairs) for `question`; `cosines` are the
        embedding model's query-passage cosines of the same candidates. With `cached`,
        candidates whose logit the cache remembers are not read again; the others go through
        the network in batches of texts of similar length, at most `batch_tokens` tokens once
        padded.

        With `first`, the candidates (best-preranked first) are read `first` at a time, and
        reading stops after a stage once a logit reaches `clear`: the scores then cover only the
        candidates read, a prefix of `candidates` (`read_in_stages`). With `prune` and a
        `probe` (the answer path's choice; evaluations of the network read every unit whole),
        the units of a stage guessed far below its best after the probe's layer are not read
        further: their score is the guess. `threads`, when given, is called before
        each batch (each layer, when pruning): it sets the calling thread's torch threads
        (`bot.answering.cores.CoreShare.apply`)."""
        return ReaderScores(read_in_stages(
            lambda part: self._stage_logits(question, [candidates[i] for i in part], [cosines[i] for i in part],
                                            batch_tokens, cached, threads, prune),
            len(candidates), first, clear))

    def _stage_logits(self, question: str, candidates: Sequence[tuple[str, str]], cosines: Sequence[float],
                      batch_tokens: int, cached: bool, threads: Callable[[], object] | None = None,
                      prune: bool = False) -> np.ndarray:
        """The logits of `candidates`, remembered ones from the cache, the others read."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        keys = [(question, context, text, round(float(cosine), 6))
                for (context, text), cosine in zip(candidates, cosines)]
        weight = float(self.card.get("overlap_weight", 0.0))
        bonus = np.zeros(len(keys), dtype=np.float32)
        if weight:
            terms = set(keyword_terms(question))
            bonus = weight * np.array([overlap_share(terms, c, t) for c, t in candidates], dtype=np.float32)
        logits = np.zeros(len(keys), dtype=np.float32)
        unread = []
        for i, key in enumerate(keys):
            known = self.cache.get(key) if cached else None
            if known is None:
                unread.append(i)
            else:
                logits[i] = known
        if unread:
            probe = self.probe if prune else None
            fresh, exact = self._network_logits(question, [candidates[i] for i in unread], [cosines[i] for i in unread],
                                                batch_tokens, threads, probe, bonus[unread])
            logits[unread] = fresh
            if cached:
                # A guess is not remembered: asked again, the unit may be read to the end.
                for i, value, whole in zip(unread, fresh, exact):
                    if whole:
                        self.cache.put(keys[i], float(value))
        return logits + bonus

    def _network_logits(self, question: str, candidates: Sequence[tuple[str, str]], cosines: Sequence[float],
                        batch_tokens: int, threads: Callable[[], object] | None = None,
                        probe: Probe | None = None, bonus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The network's logits of `candidates`, without the keyword overlap term, and which of
        them were read to the end: with `probe`, units guessed far below the best (their
        guess plus `bonus`, the overlap term) keep the probe's guess."""
        import torch

        network, tokenizer = self._load()
        texts = [reader_text(question, context, text) for context, text in candidates]
        encoded = tokenizer(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]
        cosine = np.asarray([float(c) for c in cosines], dtype=np.float32)
        with torch.inference_mode():
            # A probe of a deeper reader (stale after a change of weights) would skip no layer.
            if probe is None or len(texts) <= probe.keep or probe.layer >= len(network.encoder.encoder.layer):
                return _read_whole(network, tokenizer, encoded, cosine, batch_tokens, threads), np.ones(len(texts), bool)
            return read_pruned(network, encoded, cosine, probe, bonus, threads)


def _read_whole(network: Any, tokenizer: Any, encoded: Sequence[Sequence[int]], cosine: np.ndarray,
                batch_tokens: int, threads: Callable[[], object] | None) -> np.ndarray:
    """Every unit through the whole network, in padded batches (`_batches`): the reader as
    trained and evaluated."""
    import torch

    logits = np.zeros(len(encoded), dtype=np.float32)
    for index in _batches([len(ids) for ids in encoded], batch_tokens):
        if threads is not None:
            threads()
        batch = tokenizer.pad({"input_ids": [encoded[i] for i in index]}, return_tensors="pt")
        out = network(batch["input_ids"], batch["attention_mask"], torch.from_numpy(cosine[index]))
        logits[index] = out.float().numpy()
    return logits


def read_in_stages(logits_of: Callable[[range], np.ndarray], count: int, first: int = 0,
                   clear: float = float("inf")) -> np.ndarray:
    """The logits of the first candidates of `count` (best-preranked first), read `first` at a
    time (0: all at once) by `logits_of(range of indexes)`, until a stage ends with a logit at
    or above `clear`: a clear answer is rarely beaten by a unit preranked lower, and the units
    left unread are the costly part of an answer. Returns the logits of the candidates read (a
    prefix)."""
    step = first if first > 0 else max(count, 1)
    logits = np.zeros(0, dtype=np.float32)
    while len(logits) < count:
        part = range(len(logits), min(count, len(logits) + step))
        logits = np.concatenate([logits, np.asarray(logits_of(part), dtype=np.float32)])
        if logits.max() >= clear:
            break
    return logits


def _batches(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Indexes grouped shortest first so that a batch padded to its longest text holds at
    most `budget` tokens (a long list unit no longer pads twenty short sentences)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and lengths[i] * (len(current) + 1) > budget:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


_readers: dict[tuple[str, str], Reader] = {}
_readers_lock = threading.Lock()


def load_reader(e5_dir: Path | str = DEFAULT_MODEL_DIR, weights_dir: Path | str = READER_DIR) -> Reader:
    """The process-wide reader for (e5 folder, weights folder); the weights load on first use."""
    key = (str(e5_dir), str(weights_dir))
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = Reader(e5_dir, weights_dir)
        return reader
