"""The BERT + MLP two-tower scorer of notebook 03: features, model, training, checkpoints.

The model rates item i for a visit by customer u on day t as

    s(u, i, t) = <f(h_u, x_u), g(e_i, p_i)> + q(z_i(t), x_u)

- ``e_i``: the BERT embedding of the item's description (:mod:`helpers.text`), ``p_i`` its log
  price; ``g`` is the **item tower** (an MLP).
- ``h_u``: the mean BERT embedding of everything u bought before the visit, ``x_u``: recency and
  frequency features of u (items bought, earlier visits, days since the first and the last
  visit); ``f`` is the **user tower** (an MLP). The dot product is the two-tower score
  (Covington, Adams and Sargin 2016; Yi et al. 2019).
- ``z_i(t)``: the item's popularity **as of the day before the visit** (purchases, one per customer
  and day, over the last 7 and 30 days and all time; days since its first sale); ``q`` is a small MLP, the recent-popularity
  term, learned jointly with the towers. Without it a scorer loses to the plain trending list
  on this data (the test month is the run-up to Christmas).

Training examples are visits in time order: each visit's history is what the customer bought
before it, its targets are the items in it that are new to the customer, and every feature is
computed as of the visit's day (:class:`FeatureSpace`). The loss is the cross-entropy of each
target against negatives sampled uniformly from the catalogue (a sampled softmax; Bengio and
Senécal 2008; Jean et al. 2015), items the customer already bought or also bought in the visit
masked out. AdamW (Loshchilov and Hutter 2019), seeded, with early stopping on validation NDCG@10
(:func:`train_scorer`); :func:`fit_scorer` then refits on train + validation for the chosen
number of epochs.

Device-agnostic: on CUDA it trains under mixed precision (bfloat16 where supported, else float16
with loss scaling) and, with ``fine_tune="auto"``, fine-tunes the top BERT layers of the item
tower (:class:`FineTunedText`); on a CPU BERT stays frozen and its embeddings are cached.
Checkpoints are safetensors with a manifest (:func:`save_checkpoint`, :func:`load_checkpoint`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers import config, metrics
from helpers import tables as tb
from helpers import visits as vs

DYNAMIC_FEATURES = ("log purchases last 7 days", "log purchases last 30 days", "log purchases all time",
                    "log days since first sale", "sold before")
USER_FEATURES = ("log items bought", "log earlier visits", "log days since first visit",
                 "log days since last visit")
STATIC_FEATURES = ("log median price",)
CHECKPOINT_FILE = "scorer.safetensors"
CONFIG_FILE = "scorer_config.json"


# ---------------------------------------------------------------------------------------------
# Features as of a day


class FeatureSpace:
    """Everything the scorer knows about items and customers, as of any day.

    Built once from the course tables and the items' text embeddings; then :meth:`examples`
    turns a :class:`helpers.visits.VisitBatch` into model inputs whose features use only
    purchases **before the visit's day** (item popularity) or **before the visit** (the
    customer's history and visits).

    Attributes:
        text: (n_items, d) float32 item text embeddings (BERT), item-id order.
        static: (n_items, 1) float32 log median price.
        dynamic: (n_days + 1, n_items, 5) float32 table of :data:`DYNAMIC_FEATURES` by day offset.
        start: the first day (datetime64[D]); day offset = day - start, clipped to the table.
    """

    def __init__(self, tables: tb.CourseTables, text_embeddings: np.ndarray):
        text = np.asarray(text_embeddings, dtype=np.float32)
        if text.shape[0] != tables.n_items or text.ndim != 2 or not np.isfinite(text).all():
            raise ValueError(f"text_embeddings must be a finite ({tables.n_items}, d) array, got {text.shape}")
        self.n_items = tables.n_items
        self.text = text
        price = tables.catalogue[tb.PRICE].to_numpy(np.float64)
        self.static = np.log(np.maximum(price, 0.01)).astype(np.float32)[:, None]
        counts = vs.DailyCounts(tables.interactions, tables.n_items)
        self.start = counts.start
        prefix = counts.prefix  # (n_days + 1, n_items): purchases on days before offset d
        n_rows = len(prefix)
        offsets = np.arange(n_rows)[:, None]
        sold = prefix > 0
        first_day = np.where(sold.any(axis=0), sold.argmax(axis=0) - 1, n_rows)  # day offset of first sale
        age = np.where(sold, offsets - first_day[None, :], 0).astype(np.float32)
        last7 = prefix - prefix[np.maximum(offsets[:, 0] - 7, 0)]
        last30 = prefix - prefix[np.maximum(offsets[:, 0] - 30, 0)]
        self.dynamic = np.stack([np.log1p(last7), np.log1p(last30), np.log1p(prefix), np.log1p(age),
                                 sold.astype(np.float32)], axis=-1).astype(np.float32)
        visits = tables.visits.sort_values([tb.CUSTOMER_ID, tb.TIMESTAMP], kind="stable")
        self._visit_customer = visits[tb.CUSTOMER_ID].to_numpy(np.int64)
        self._visit_time = visits[tb.TIMESTAMP].to_numpy("datetime64[ns]")

    def day_offsets(self, days) -> np.ndarray:
        """Row of :attr:`dynamic` for each day (datetime64), clipped to the table."""
        offset = (np.asarray(days, dtype="datetime64[D]") - self.start).astype(np.int64)
        return np.clip(offset, 0, len(self.dynamic) - 1)

    def user_features(self, batch: vs.VisitBatch) -> np.ndarray:
        """(n, 4) float32 :data:`USER_FEATURES` of each visit's customer, from visits before it."""
        start = np.searchsorted(self._visit_customer, batch.customer_ids, side="left")
        end = np.searchsorted(self._visit_customer, batch.customer_ids, side="right")
        out = np.zeros((len(batch), len(USER_FEATURES)), dtype=np.float32)
        day = np.timedelta64(1, "D")
        for row, (s, e, when) in enumerate(zip(start, end, batch.timestamps, strict=True)):
            n_before = int(np.searchsorted(self._visit_time[s:e], when, side="left"))
            out[row, 0] = np.log1p(len(batch.history[row]))
            out[row, 1] = np.log1p(n_before)
            if n_before:
                out[row, 2] = np.log1p((when - self._visit_time[s]) / day)
                out[row, 3] = np.log1p((when - self._visit_time[s + n_before - 1]) / day)
        return out

    def history_text(self, batch: vs.VisitBatch) -> np.ndarray:
        """(n, d) float32 mean text embedding of each visit's history (zeros for an empty one)."""
        counts = np.asarray(batch.seen.sum(axis=1), dtype=np.float32).reshape(-1, 1)
        return (np.asarray(batch.seen @ self.text) / np.maximum(counts, 1.0)).astype(np.float32)

    def examples(self, batch: vs.VisitBatch) -> Examples:
        """Model inputs for the visits of ``batch`` (see :class:`Examples`)."""
        if batch.n_items != self.n_items:
            raise ValueError(f"batch has {batch.n_items} items, the feature space {self.n_items}")
        return Examples(history=self.history_text(batch), user=self.user_features(batch),
                        day=self.day_offsets(batch.days), seen=batch.seen.tocsr(),
                        targets=batch.targets)


@dataclass
class Examples:
    """Model inputs for n visits.

    Attributes:
        history: (n, d) float32 mean BERT embedding of each customer's earlier purchases.
        user: (n, 4) float32 user features (:data:`USER_FEATURES`).
        day: (n,) int64 row of the dynamic feature table (the visit's day).
        seen: (n, n_items) CSR 0/1, items bought before (masked out of rankings and negatives).
        targets: n int64 arrays of new items bought in the visit, or None.
    """

    history: np.ndarray
    user: np.ndarray
    day: np.ndarray
    seen: object
    targets: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.day)


# ---------------------------------------------------------------------------------------------
# The model


def mlp(n_in: int, hidden: int, n_out: int, dropout: float = 0.0) -> nn.Sequential:
    """Two-layer perceptron ``Linear -> GELU -> Dropout -> Linear``, shapes (..., n_in) -> (..., n_out)."""
    return nn.Sequential(nn.Linear(n_in, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


class PopularityTerm(nn.Module):
    """``q(z, x) = softplus(a . x + a0) * p(z)``: how hot an item is now, times how much this
    customer follows the crowd.

    ``p`` is an MLP on the item's popularity features ``z`` (one number per item and day), the
    weight a softplus of a linear function of the user features ``x`` (positive, so more heat
    never lowers a score). Factorised this way, ``p`` is computed once per (day, item) and not
    once per (visit, item), which keeps training cheap.
    """

    def __init__(self, n_dyn: int, n_user: int, hidden: int):
        super().__init__()
        self.heat = mlp(n_dyn, hidden, 1)
        self.follow = nn.Linear(n_user, 1)

    def item_heat(self, z: torch.Tensor) -> torch.Tensor:
        """(..., n_dyn) standardised item features -> (...) heat p(z)."""
        return self.heat(z).squeeze(-1)

    def user_weight(self, x: torch.Tensor) -> torch.Tensor:
        """(b, n_user) standardised user features -> (b,) positive weights."""
        return nn.functional.softplus(self.follow(x)).squeeze(-1)


class FineTunedText(nn.Module):
    """Item text embeddings from a BERT whose top ``n_layers`` layers are trained (the rest frozen).

    Holds the tokenised catalogue (padded ids and attention masks, item-id order) as buffers;
    ``forward(items)`` runs BERT on those items and mean-pools (:func:`helpers.text.mean_pool`),
    then L2-normalises, as the cached embeddings are. Meant for a GPU, where a pass over a few
    thousand short titles takes milliseconds; the frozen layers get no gradients.
    """

    def __init__(self, bert: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, n_layers: int = 2):
        super().__init__()
        layers = bert.encoder.layer
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or not 1 <= n_layers <= len(layers):
            raise ValueError(f"n_layers must be an integer in 1..{len(layers)}, got {n_layers!r}")
        self.bert = bert
        for parameter in bert.parameters():
            parameter.requires_grad_(False)
        for layer in layers[len(layers) - n_layers:]:
            for parameter in layer.parameters():
                parameter.requires_grad_(True)
        self.n_layers = n_layers
        self.register_buffer("input_ids", input_ids.long(), persistent=False)
        self.register_buffer("attention_mask", attention_mask.long(), persistent=False)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """(m,) item ids -> (m, d) float32 unit-norm embeddings."""
        from helpers.text import mean_pool

        ids, mask = self.input_ids[items], self.attention_mask[items]
        width = int(mask.sum(dim=1).max().item())  # trim the padding no item of this batch needs
        ids, mask = ids[:, :width], mask[:, :width]
        hidden = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        return nn.functional.normalize(mean_pool(hidden, mask), dim=-1)


class TwoTowerScorer(nn.Module):
    """Two MLP towers on BERT embeddings plus a recent-popularity term (see the module docstring).

    Args:
        text_dim: width d of the BERT embeddings. hidden: towers' hidden width.
        dim: width of the user and item vectors. dropout: in the towers.
        pop_hidden: hidden width of the popularity term ``q``.
    Inputs are standardised with the ``*_mean``/``*_std`` buffers, set by :meth:`set_normalisation`.
    """

    def __init__(self, text_dim: int, hidden: int = 128, dim: int = 64, dropout: float = 0.1, pop_hidden: int = 32):
        super().__init__()
        n_static, n_dyn, n_user = len(STATIC_FEATURES), len(DYNAMIC_FEATURES), len(USER_FEATURES)
        self.item_tower = mlp(text_dim + n_static, hidden, dim, dropout)
        self.user_tower = mlp(text_dim + n_user, hidden, dim, dropout)
        self.pop_term = PopularityTerm(n_dyn, n_user, pop_hidden)
        for name, size in (("static", n_static), ("dynamic", n_dyn), ("user", n_user)):
            self.register_buffer(f"{name}_mean", torch.zeros(size))
            self.register_buffer(f"{name}_std", torch.ones(size))
        self.text_module: FineTunedText | None = None
        self.register_buffer("tuned_text", None)  # (n_items, d) after bake_text()

    @torch.no_grad()
    def bake_text(self, n_items: int, chunk: int = 512) -> None:
        """Replace the fine-tuned BERT by the item text embeddings it now computes (a buffer).

        After fine-tuning, scoring needs only these (n_items, d) vectors, so checkpoints stay small
        and load without BERT.
        """
        if self.text_module is None:
            raise RuntimeError("there is no fine-tuned text module to bake")
        self.text_module.eval()
        device = self.text_module.input_ids.device
        items = torch.arange(n_items, device=device)
        text = torch.cat([self.text_module(items[i:i + chunk]).float() for i in range(0, n_items, chunk)])
        self.text_module = None
        self.tuned_text = text

    def set_normalisation(self, static: np.ndarray, dynamic: np.ndarray, user: np.ndarray) -> None:
        """Set the input standardisation from training data: arrays (n, n_features) each."""
        for name, values in (("static", static), ("dynamic", dynamic), ("user", user)):
            values = torch.as_tensor(np.asarray(values, dtype=np.float32))
            getattr(self, f"{name}_mean").copy_(values.mean(dim=0))
            getattr(self, f"{name}_std").copy_(values.std(dim=0).clamp(min=1e-3))

    def item_vectors(self, text: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        """(m, d) text and (m, 1) static features -> (m, dim) item vectors."""
        return self.item_tower(torch.cat([text, (static - self.static_mean) / self.static_std], dim=-1))

    def user_vectors(self, history: torch.Tensor, user: torch.Tensor) -> torch.Tensor:
        """(b, d) mean history embeddings and (b, 4) user features -> (b, dim) user vectors."""
        return self.user_tower(torch.cat([history, self._user(user)], dim=-1))

    def _user(self, user: torch.Tensor) -> torch.Tensor:
        return (user - self.user_mean) / self.user_std

    def item_heat(self, dynamic: torch.Tensor) -> torch.Tensor:
        """(..., 5) raw popularity features (rows of :attr:`FeatureSpace.dynamic`) -> (...) heat."""
        return self.pop_term.item_heat((dynamic - self.dynamic_mean) / self.dynamic_std)

    def user_weight(self, user: torch.Tensor) -> torch.Tensor:
        """(b, 4) raw user features -> (b,) weight of the popularity term."""
        return self.pop_term.user_weight(self._user(user))

    def forward(self, user_vec: torch.Tensor, item_vec: torch.Tensor, heat: torch.Tensor,
                weight: torch.Tensor) -> torch.Tensor:
        """Scores (b, m): ``user_vec (b, dim) @ item_vec (m, dim)^T + weight (b,) * heat (b, m)``."""
        return user_vec @ item_vec.T + weight[:, None] * heat


# ---------------------------------------------------------------------------------------------
# Training


@dataclass
class ScorerConfig:
    """Hyperparameters of the scorer and its training (defaults: the course's CPU run).

    ``fine_tune``: ``"auto"`` (only on CUDA), True or False: train the top ``fine_tune_layers``
    BERT layers of the item tower at learning rate ``fine_tune_lr``. ``mixed_precision``:
    ``"auto"`` (only on CUDA), True or False.
    """

    hidden: int = 128
    dim: int = 64
    dropout: float = 0.1
    pop_hidden: int = 32
    n_negatives: int = 1024
    batch_size: int = 256
    lr: float = 5e-3
    weight_decay: float = 1e-4
    max_epochs: int = 16
    patience: int = 3
    k: int = 10
    seed: int = config.DEFAULT_SEED
    fine_tune: bool | str = "auto"
    fine_tune_layers: int = 2
    fine_tune_lr: float = 3e-5
    mixed_precision: bool | str = "auto"

    def __post_init__(self):
        for name in ("hidden", "dim", "pop_hidden", "n_negatives", "batch_size", "max_epochs", "k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        for name in ("lr", "fine_tune_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.weight_decay < 0 or self.patience < 0:
            raise ValueError("weight_decay and patience must be non-negative")
        for name in ("fine_tune", "mixed_precision"):
            if getattr(self, name) not in (True, False, "auto"):
                raise ValueError(f"{name} must be True, False or 'auto', got {getattr(self, name)!r}")


def resolve_flags(cfg: ScorerConfig, device: torch.device) -> tuple[bool, bool]:
    """(fine_tune, mixed_precision) actually used on ``device``: ``"auto"`` means "on CUDA only"."""
    on_cuda = torch.device(device).type == "cuda"
    fine = on_cuda if cfg.fine_tune == "auto" else bool(cfg.fine_tune)
    mixed = on_cuda if cfg.mixed_precision == "auto" else bool(cfg.mixed_precision)
    return fine, mixed


@dataclass
class Trained:
    """A trained scorer and its record.

    Attributes:
        model: the :class:`TwoTowerScorer` (best epoch's weights when early stopping).
        history: one row per epoch: ``epoch``, ``loss`` (mean training cross-entropy, nats),
            ``valid_NDCG@k`` and ``valid_HR@k`` (NaN without validation), ``seconds``.
        best_epoch: the epoch whose weights were kept (1-based).
        fine_tune, mixed_precision: what was actually used. device: where it trained.
    """

    model: TwoTowerScorer
    history: pd.DataFrame
    best_epoch: int
    fine_tune: bool
    mixed_precision: bool
    device: str
    config: ScorerConfig = field(repr=False, default_factory=ScorerConfig)


def _tensor(array, device, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array), device=device, dtype=dtype)


def _autocast(device: torch.device, enabled: bool):
    if not enabled:
        return torch.autocast(device.type, enabled=False)
    dtype = torch.bfloat16 if device.type != "cuda" or torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def _item_text(model: TwoTowerScorer, space_text: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    if model.text_module is not None:
        return model.text_module(items).float()
    if model.tuned_text is not None:
        return model.tuned_text[items]
    return space_text[items]


@torch.inference_mode()
def score_examples(model: TwoTowerScorer, space: FeatureSpace, examples: Examples, *, device=None,
                   chunk: int = 256, mixed_precision: bool = False) -> np.ndarray:
    """Scores of every item for every example: float32 array (n_examples, n_items).

    A matrix product of user vectors with all item vectors plus the popularity term, by chunks
    of ``chunk`` visits (seconds for thousands of visits on a CPU).
    """
    from helpers.validation import check_int

    chunk = check_int("chunk", chunk, 1)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    all_items = torch.arange(space.n_items, device=device)
    text = _tensor(space.text, device)
    with _autocast(device, mixed_precision):
        text = torch.cat([_item_text(model, text, all_items[i:i + 512]) for i in range(0, space.n_items, 512)])
        items = model.item_vectors(text, _tensor(space.static, device)).float()
    out = np.empty((len(examples), space.n_items), dtype=np.float32)
    for start in range(0, len(examples), chunk):
        rows = slice(start, start + chunk)
        user = _tensor(examples.user[rows], device)
        days, inverse = np.unique(examples.day[rows], return_inverse=True)
        with _autocast(device, mixed_precision):
            heat = model.item_heat(_tensor(space.dynamic[days], device)).float()  # (n_days, n_items)
            users = model.user_vectors(_tensor(examples.history[rows], device), user).float()
            scores = model(users, items, heat[torch.as_tensor(inverse, device=device)], model.user_weight(user).float())
        out[rows] = scores.float().cpu().numpy()
    return out


def evaluate_examples(model: TwoTowerScorer, space: FeatureSpace, examples: Examples, k: int = 10,
                      **kwargs) -> dict[str, float]:
    """HR@k, Recall@k, NDCG@k and coverage of the model's discovery slates (already-bought masked)."""
    if examples.targets is None:
        raise ValueError("examples have no targets")
    slates = vs.top_k(score_examples(model, space, examples, **kwargs), k, exclude=examples.seen)
    return metrics.ranking_summary(slates, examples.targets, space.n_items)


def build_model(space: FeatureSpace, cfg: ScorerConfig, train: Examples, encoder=None,
                fine_tune: bool = False) -> TwoTowerScorer:
    """A fresh, seeded :class:`TwoTowerScorer` with input standardisation from ``train``.

    With ``fine_tune``, ``encoder`` (a :class:`helpers.text.Encoder`) supplies the BERT whose top
    ``cfg.fine_tune_layers`` layers are trained, on the catalogue tokenised as in
    :func:`helpers.text.embed`; the encoder's model is copied, not changed.
    """
    import copy

    torch.manual_seed(cfg.seed)
    model = TwoTowerScorer(space.text.shape[1], cfg.hidden, cfg.dim, cfg.dropout, cfg.pop_hidden)
    days = np.unique(train.day)
    model.set_normalisation(space.static, space.dynamic[days].reshape(-1, len(DYNAMIC_FEATURES)), train.user)
    if fine_tune:
        if encoder is None or not hasattr(encoder, "item_texts"):
            raise ValueError("fine-tuning needs an encoder with the catalogue texts: pass "
                             "encoder=helpers.scorer.CatalogueEncoder(encoder, descriptions)")
        ids, mask = encoder.tokens()
        bert = copy.deepcopy(encoder.encoder.model).float()
        if bert.config.hidden_size != space.text.shape[1]:
            raise ValueError(f"the encoder's width {bert.config.hidden_size} differs from the text embeddings' "
                             f"{space.text.shape[1]}")
        model.text_module = FineTunedText(bert, ids, mask, cfg.fine_tune_layers)
    return model


@dataclass
class CatalogueEncoder:
    """A :class:`helpers.text.Encoder` with the catalogue's descriptions (item-id order), for fine-tuning."""

    encoder: object
    item_texts: list[str]

    def tokens(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded token ids and attention masks, (n_items, max_tokens) int64 each."""
        from helpers.text import pad_token_ids, validate_texts

        texts = validate_texts(self.item_texts)
        ids = self.encoder.tokenizer(texts, truncation=True, max_length=self.encoder.max_length, padding=False,
                                     return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        return pad_token_ids(ids, self.encoder.tokenizer.pad_token_id or 0)


def _time_batches(n: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Mini-batches of consecutive examples (examples are in time order), cut at a random offset,
    in shuffled order: each batch spans a few days, so item popularity is computed for few days."""
    offset = int(rng.integers(0, min(size, n)))
    edges = np.unique(np.concatenate([[0], np.arange(offset, n, size), [n]]))
    batches = [np.arange(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True) if hi > lo]
    return [batches[i] for i in rng.permutation(len(batches))]


def train_scorer(space: FeatureSpace, train: Examples, valid: Examples | None = None,
                 cfg: ScorerConfig | None = None, *, epochs: int | None = None, device=None, encoder=None,
                 progress: bool = True) -> Trained:
    """Train a two-tower scorer with a sampled-softmax cross-entropy and AdamW.

    Mini-batches are runs of about ``cfg.batch_size`` consecutive visits (shuffled every epoch).
    For each batch, ``cfg.n_negatives`` items are drawn uniformly without replacement (shared by
    the batch); each (visit, target) pair contributes ``-log softmax`` of the target's score
    against those negatives, negatives that the customer bought before or also bought in the
    visit being masked out. Examples must be in time order (as :meth:`FeatureSpace.examples` keeps them).

    Args:
        space: the :class:`FeatureSpace`. train: training :class:`Examples` (with targets).
        valid: validation examples: NDCG@k after every epoch, early stopping with
            ``cfg.patience`` and the best epoch's weights restored. None trains ``epochs`` epochs.
        cfg: :class:`ScorerConfig`. epochs: number of epochs (default ``cfg.max_epochs``).
        device: torch device (default :func:`helpers.config.get_device`).
        encoder: a :class:`CatalogueEncoder`, needed when fine-tuning is on.
        progress: tqdm bar over epochs.

    Returns:
        :class:`Trained`.
    """
    from tqdm.auto import tqdm

    cfg = cfg or ScorerConfig()
    if train.targets is None or not len(train):
        raise ValueError("train examples must be non-empty and have targets")
    if np.any(np.diff(train.day) < 0):
        raise ValueError("train examples must be in time order (visits sorted by timestamp)")
    device = config.get_device(None if device is None else str(device))
    fine_tune, mixed = resolve_flags(cfg, device)
    epochs = cfg.max_epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    rng = np.random.default_rng(cfg.seed)
    model = build_model(space, cfg, train, encoder, fine_tune).to(device)
    tower_params = [p for n, p in model.named_parameters() if not n.startswith("text_module.") and p.requires_grad]
    groups = [{"params": tower_params, "lr": cfg.lr}]
    if model.text_module is not None:
        groups.append({"params": [p for p in model.text_module.parameters() if p.requires_grad], "lr": cfg.fine_tune_lr})
    optimiser = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    use_scaler = mixed and device.type == "cuda" and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)

    text = _tensor(space.text, device)
    static = _tensor(space.static, device)
    dynamic = _tensor(space.dynamic, device)
    history = _tensor(train.history, device)
    user = _tensor(train.user, device)
    day = _tensor(train.day, device, torch.long)
    seen = train.seen.tocsr()
    n_neg = min(cfg.n_negatives, space.n_items)
    rows, best, best_state, stale, best_epoch = [], -math.inf, None, 0, 1
    bar = tqdm(range(1, epochs + 1), desc="training scorer", unit="epoch", disable=not progress)
    for epoch in bar:
        tick = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for idx in _time_batches(len(train), cfg.batch_size, rng):
            targets = [train.targets[i] for i in idx]
            pos_row = np.repeat(np.arange(len(idx)), [len(t) for t in targets])
            if not len(pos_row):
                continue
            pos_item = np.concatenate(targets)
            negatives = np.sort(rng.choice(space.n_items, size=n_neg, replace=False))
            known = seen[idx].toarray().astype(bool)
            known[pos_row, pos_item] = True
            neg_mask = torch.as_tensor(known[:, negatives], device=device)
            days, day_of_row = np.unique(train.day[idx], return_inverse=True)
            idx_t = torch.as_tensor(idx, device=device)
            pos_row_t = torch.as_tensor(pos_row, device=device)
            pos_item_t = torch.as_tensor(pos_item, device=device)
            neg_t = torch.as_tensor(negatives, device=device)
            with _autocast(device, mixed):
                items, inverse = torch.unique(torch.cat([pos_item_t, neg_t]), return_inverse=True)
                item_vec = model.item_vectors(_item_text(model, text, items), static[items]).float()
                pos_vec, neg_vec = item_vec[inverse[: len(pos_item)]], item_vec[inverse[len(pos_item):]]
                users = model.user_vectors(history[idx_t], user[idx_t]).float()
                weight = model.user_weight(user[idx_t]).float()
                pos_heat = model.item_heat(dynamic[day[idx_t][pos_row_t], pos_item_t]).float()
                neg_heat = model.item_heat(dynamic[torch.as_tensor(days, device=device)][:, neg_t]).float()
            pos_score = (users[pos_row_t] * pos_vec).sum(-1) + weight[pos_row_t] * pos_heat
            neg_score = model(users, neg_vec, neg_heat[torch.as_tensor(day_of_row, device=device)], weight)
            # every target of a visit faces the same negatives: log-sum-exp them once per visit, then
            # -log softmax(target) = log(exp(s_pos) + sum exp(s_neg)) - s_pos
            neg_lse = torch.logsumexp(neg_score.masked_fill(neg_mask, -1e9), dim=1)
            loss = (torch.logaddexp(pos_score, neg_lse[pos_row_t]) - pos_score).mean()
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            total += float(loss.detach()) * len(pos_item)
            count += len(pos_item)
        row = {"epoch": epoch, "loss": total / max(count, 1), f"valid_NDCG@{cfg.k}": np.nan,
               f"valid_HR@{cfg.k}": np.nan}
        if valid is not None:
            summary = evaluate_examples(model, space, valid, cfg.k, device=device, mixed_precision=mixed)
            row[f"valid_NDCG@{cfg.k}"] = summary[f"NDCG@{cfg.k}"]
            row[f"valid_HR@{cfg.k}"] = summary[f"HR@{cfg.k}"]
        row["seconds"] = time.perf_counter() - tick
        rows.append(row)
        bar.set_postfix(loss=f"{row['loss']:.3f}", ndcg=f"{row[f'valid_NDCG@{cfg.k}']:.4f}")
        if valid is not None:
            if row[f"valid_NDCG@{cfg.k}"] > best:
                best, stale = row[f"valid_NDCG@{cfg.k}"], 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best_epoch = epoch
            else:
                stale += 1
                if stale > cfg.patience:
                    break
    if valid is not None and best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = rows[-1]["epoch"]
    if model.text_module is not None:
        model.bake_text(space.n_items)
    model.eval()
    return Trained(model=model, history=pd.DataFrame(rows), best_epoch=best_epoch, fine_tune=fine_tune,
                   mixed_precision=mixed, device=str(device), config=cfg)


def fit_scorer(space: FeatureSpace, train: Examples, valid: Examples, train_and_valid: Examples,
               cfg: ScorerConfig | None = None, *, device=None, encoder=None, progress: bool = True
               ) -> tuple[Trained, Trained]:
    """The course's protocol: choose the number of epochs on the held-out month, then refit.

    1. :func:`train_scorer` on ``train`` with early stopping on ``valid`` NDCG@k;
    2. a fresh model (same seed) trained on ``train_and_valid`` for the chosen number of epochs.

    Returns ``(selection, final)``; use ``final.model`` on the test period.
    """
    selection = train_scorer(space, train, valid, cfg, device=device, encoder=encoder, progress=progress)
    final = train_scorer(space, train_and_valid, None, cfg, epochs=selection.best_epoch, device=device,
                         encoder=encoder, progress=progress)
    return selection, final


# ---------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(trained: Trained, folder: str | Path, **info) -> Path:
    """Write ``scorer.safetensors`` (weights), ``scorer_config.json`` and ``manifest.json`` in ``folder``.

    The manifest (:func:`helpers.config.write_manifest`) records both files' sha256, the seed,
    device and library versions; ``info`` adds more (e.g. the text model's sha256).
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    with config.atomic_path(folder / CHECKPOINT_FILE) as tmp:
        save_file(state, str(tmp))
    meta = {"config": asdict(trained.config), "text_dim": int(trained.model.item_tower[0].in_features
                                                                - len(STATIC_FEATURES)),
            "best_epoch": int(trained.best_epoch), "fine_tune": trained.fine_tune,
            "mixed_precision": trained.mixed_precision, "device": trained.device,
            "history": trained.history.to_dict(orient="list")}
    with config.atomic_path(folder / CONFIG_FILE) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, default=float), encoding="utf-8")
    return config.write_manifest(folder, [CHECKPOINT_FILE, CONFIG_FILE], seed=trained.config.seed,
                                 device=trained.device, **info)


def load_checkpoint(folder: str | Path, device=None) -> Trained:
    """Load a scorer saved by :func:`save_checkpoint`, after verifying the manifest's sha256s.

    Raises ``ValueError`` when a file was changed (tampered or damaged) and ``FileNotFoundError``
    when one is missing. A fine-tuned scorer comes back with its baked item text embeddings
    (:meth:`TwoTowerScorer.bake_text`), so loading never needs BERT.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    manifest = config.read_manifest(folder, verify=True)
    if set(manifest.get("files", {})) != {CHECKPOINT_FILE, CONFIG_FILE}:
        raise ValueError(f"{folder}: the manifest does not describe a scorer checkpoint")
    meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    try:  # a config that does not fit its weights is a damaged checkpoint, not a crash
        cfg = ScorerConfig(**meta["config"])
        model = TwoTowerScorer(meta["text_dim"], cfg.hidden, cfg.dim, cfg.dropout, cfg.pop_hidden)
        state = load_file(str(folder / CHECKPOINT_FILE))
        if "tuned_text" in state:
            model.tuned_text = torch.zeros_like(state["tuned_text"])
        model.load_state_dict(state, strict=True)
    except (TypeError, KeyError, RuntimeError) as exc:
        raise ValueError(f"{folder}: {CONFIG_FILE} does not fit {CHECKPOINT_FILE} ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0]}); delete {folder} to retrain") from exc
    device = config.get_device(None if device is None else str(device))
    model.to(device).eval()
    return Trained(model=model, history=pd.DataFrame(meta["history"]), best_epoch=meta["best_epoch"],
                   fine_tune=meta["fine_tune"], mixed_precision=meta["mixed_precision"], device=str(device),
                   config=cfg)


# ---------------------------------------------------------------------------------------------
# The course's scorer, trained once and cached (notebook 03 trains it; 04 and 05 reuse it)

SCORER_VERSION = 1
SCORER_DIR = "scorer"
SPLIT_NAMES = ("train", "valid", "train+valid", "test")


def course_examples(tables: tb.CourseTables, space: FeatureSpace) -> dict[str, Examples]:
    """Examples of the discovery task by split: ``train``, ``valid``, ``train+valid`` and ``test``.

    Each comes from :func:`helpers.tables.discovery_visits` (visits by returning customers with
    at least one new item; targets = the new items), in time order.
    """
    visits = {s: tb.discovery_visits(tables, s) for s in tb.SPLITS}
    visits["train+valid"] = pd.concat([visits["train"], visits["valid"]], ignore_index=True)
    return {name: space.examples(vs.make_batch(tables, visits[name])) for name in SPLIT_NAMES}


@dataclass
class CourseScorer:
    """The course's trained scorer and how it was chosen.

    Attributes:
        space: the :class:`FeatureSpace` (tables and BERT embeddings) it scores with.
        final: the :class:`Trained` model refitted on train + valid (use it on the test period).
        selection_history: per-epoch loss and validation NDCG of the run that chose the epochs.
        folder: where the checkpoint lives (``artifacts/scorer/<key>/``).
        loaded: True when it came from the cache rather than from training in this session.
    """

    space: FeatureSpace
    final: Trained
    selection_history: pd.DataFrame
    folder: Path
    loaded: bool


def _course_key(tables: tb.CourseTables, text_sha: str, cfg: ScorerConfig, fine_tune: bool) -> str:
    import hashlib

    settings = {"scorer_version": SCORER_VERSION, "tables_version": tb.TABLES_VERSION, "n_items": tables.n_items,
                "n_interactions": len(tables.interactions), "text": text_sha, "fine_tune": fine_tune,
                "config": asdict(cfg)}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def course_scorer_dir(tables: tb.CourseTables, encoder, cfg: ScorerConfig, device=None) -> Path:
    """Where the course's scorer for these tables, BERT weights, config and device lives:
    ``artifacts/scorer/<key>/`` (the key also says whether BERT is fine-tuned there)."""
    device = config.get_device(None if device is None else str(device))
    fine_tune, _ = resolve_flags(cfg, device)
    return config.artifacts_dir() / SCORER_DIR / _course_key(tables, encoder.weights_sha256, cfg, fine_tune)[:20]


def save_course_scorer(folder: str | Path, selection: Trained, final: Trained, encoder) -> Path:
    """Save ``final`` as the course's scorer in ``folder``, with the selection run's history.

    The manifest records the text model, its sha256, the tables version and the chosen epochs.
    """
    return save_checkpoint(final, folder, text_model=encoder.name, text_sha256=encoder.weights_sha256,
                           tables_version=tb.TABLES_VERSION, selected_epochs=int(selection.best_epoch),
                           selection_history=selection.history.to_dict(orient="list"))


def course_scorer(tables: tb.CourseTables | None = None, cfg: ScorerConfig | None = None, *, encoder=None,
                  device=None, cache: bool = True, progress: bool = True) -> CourseScorer:
    """Load the course's scorer from ``artifacts/scorer/<key>/``, or train it there and save it.

    Training follows the course's protocol (:func:`fit_scorer`): the number of epochs is chosen
    by early stopping on the October validation visits, then a fresh model is fitted on all
    visits before the test period. The key covers the tables, the BERT weights, the config and
    whether BERT is fine-tuned, so a changed setting retrains. The checkpoint's manifest is
    verified on load (a damaged one is retrained). Notebook 03 trains and saves it step by step.

    Args:
        tables: the course tables (default :func:`helpers.tables.load_course_tables`).
        cfg: :class:`ScorerConfig` (default: the course's settings).
        encoder: a :class:`helpers.text.Encoder` (default: the offline all-MiniLM-L6-v2).
        device: torch device (default: :func:`helpers.config.get_device`).
        cache: load and save the checkpoint; False always trains and saves nothing.
        progress: tqdm bars.
    """
    from helpers import text

    tables = tables or tb.load_course_tables()
    cfg = cfg or ScorerConfig()
    encoder = encoder or text.load_encoder()
    device = config.get_device(None if device is None else str(device))
    fine_tune, _ = resolve_flags(cfg, device)
    descriptions = tables.catalogue[tb.DESCRIPTION].astype(str).tolist()
    space = FeatureSpace(tables, text.embed(descriptions, encoder, progress=progress))
    folder = course_scorer_dir(tables, encoder, cfg, device)
    if cache and (folder / "manifest.json").is_file():
        try:
            trained = load_checkpoint(folder, device=device)
            manifest = config.read_manifest(folder, verify=False)
            history = pd.DataFrame(manifest["selection_history"])
            return CourseScorer(space, trained, history, folder, loaded=True)
        except (ValueError, KeyError, FileNotFoundError, json.JSONDecodeError):
            pass  # damaged or from another version: train again below
    examples = course_examples(tables, space)
    catalogue_encoder = CatalogueEncoder(encoder, descriptions) if fine_tune else None
    selection, final = fit_scorer(space, examples["train"], examples["valid"], examples["train+valid"], cfg,
                                  device=device, encoder=catalogue_encoder, progress=progress)
    if cache:
        save_course_scorer(folder, selection, final, encoder)
    return CourseScorer(space, final, selection.history, folder, loaded=False)


def selection_scorer(tables: tb.CourseTables | None = None, cfg: ScorerConfig | None = None, *, encoder=None,
                     device=None, cache: bool = True, progress: bool = True) -> CourseScorer:
    """The course scorer's **selection** run: trained on the visits before October (2011-10-01)
    with early stopping on October, cached in ``selection/`` beside :func:`course_scorer`'s checkpoint.

    It knows nothing of October's purchases beyond the choice of the epoch, so it can score the
    October visits as a stand-in for the test period (notebook 07 tunes its bandits there).
    Arguments as for :func:`course_scorer`; ``final`` of the result is the selection model.
    """
    from helpers import text

    tables = tables or tb.load_course_tables()
    cfg = cfg or ScorerConfig()
    encoder = encoder or text.load_encoder()
    device = config.get_device(None if device is None else str(device))
    descriptions = tables.catalogue[tb.DESCRIPTION].astype(str).tolist()
    space = FeatureSpace(tables, text.embed(descriptions, encoder, progress=progress))
    folder = course_scorer_dir(tables, encoder, cfg, device) / "selection"
    if cache and (folder / "manifest.json").is_file():
        try:
            trained = load_checkpoint(folder, device=device)
            history = pd.DataFrame(config.read_manifest(folder, verify=False)["selection_history"])
            return CourseScorer(space, trained, history, folder, loaded=True)
        except (ValueError, KeyError, FileNotFoundError, json.JSONDecodeError):
            pass  # damaged or from another version: train again below
    visits = {s: tb.discovery_visits(tables, s) for s in ("train", "valid")}
    examples = {name: space.examples(vs.make_batch(tables, v)) for name, v in visits.items()}
    fine_tune, _ = resolve_flags(cfg, device)
    catalogue_encoder = CatalogueEncoder(encoder, descriptions) if fine_tune else None
    selection = train_scorer(space, examples["train"], examples["valid"], cfg, device=device,
                             encoder=catalogue_encoder, progress=progress)
    if cache:
        save_checkpoint(selection, folder, text_model=encoder.name, text_sha256=encoder.weights_sha256,
                        tables_version=tb.TABLES_VERSION, selected_epochs=int(selection.best_epoch),
                        selection_history=selection.history.to_dict(orient="list"))
    return CourseScorer(space, selection, selection.history, folder, loaded=False)
