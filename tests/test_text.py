"""helpers.text: BERT embeddings equal to sentence-transformers, order, cache, clusters, bad inputs."""

import json

import numpy as np
import pytest

from helpers import text

TEXTS = [
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "mug",
    "SET OF 3 CAKE TINS PANTRY DESIGN",
    "JUMBO BAG RED RETROSPOT",
    "REGENCY CAKESTAND 3 TIER",
    "PACK OF 72 RETROSPOT CAKE CASES",
    "a",
    "ASSORTED COLOUR BIRD ORNAMENT, VERY LONG DESCRIPTION WITH MANY WORDS TO PAD THE BATCH",
    "LUNCH BAG RED RETROSPOT",
    "PAPER CHAIN KIT 50'S CHRISTMAS",
]


@pytest.fixture(scope="module")
def encoder():
    return text.load_encoder(device="cpu")


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    return tmp_path


def test_equal_to_sentence_transformers(encoder):
    # the reference is a dev-leg tool (requirements-dev.txt); the Colab and minimum legs skip this cross-check
    SentenceTransformer = pytest.importorskip("sentence_transformers").SentenceTransformer  # noqa: N806

    reference = SentenceTransformer(str(text.default_model_dir()), device="cpu")
    expected = reference.encode(TEXTS, convert_to_numpy=True, batch_size=4)
    got = text.embed(TEXTS, encoder, batch_size=3, cache=False)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-5
    raw = text.embed(TEXTS, encoder, normalize=False, cache=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)  # mean pooling alone is not unit-norm
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), expected, atol=1e-5)


def test_order_is_restored_after_length_sorting(encoder):
    full = text.embed(TEXTS, encoder, batch_size=4, cache=False)
    permutation = np.random.default_rng(0).permutation(len(TEXTS))
    shuffled = text.embed([TEXTS[i] for i in permutation], encoder, batch_size=4, cache=False)
    np.testing.assert_allclose(shuffled, full[permutation], atol=1e-6)
    # each row is the embedding of its own text, whatever it was batched (and padded) with
    alone = np.vstack([text.embed([t], encoder, cache=False) for t in TEXTS[:3]])
    np.testing.assert_allclose(full[:3], alone, atol=1e-5)


def test_cache_is_reused_and_keyed_by_texts(encoder, artifacts, monkeypatch):
    first = text.embed(TEXTS, encoder)
    folders = list((artifacts / text.EMBEDDINGS_DIR).iterdir())
    assert len(folders) == 1
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    assert manifest["n_texts"] == len(TEXTS) and manifest["weights_sha256"] == encoder.weights_sha256

    def fail(*args, **kwargs):
        raise AssertionError("the model ran although the result was cached")

    monkeypatch.setattr(text, "encode_batches", fail)
    np.testing.assert_array_equal(text.embed(TEXTS, encoder), first)
    with pytest.raises(AssertionError, match="model ran"):
        text.embed(TEXTS[:-1] + ["something else"], encoder)


def test_cache_hit_does_not_load_the_model(encoder, artifacts):
    first = text.embed(TEXTS[:3], encoder)
    fresh = text.load_encoder(device="cpu")  # weights checked, model not loaded yet
    assert "not loaded" in repr(fresh)
    np.testing.assert_array_equal(text.embed(TEXTS[:3], fresh), first)
    assert "not loaded" in repr(fresh), "a cache hit loaded the BERT model"
    assert fresh.dim == 384 and "not loaded" not in repr(fresh)  # first real use loads it


def test_damaged_cache_is_recomputed(encoder, artifacts):
    first = text.embed(TEXTS[:4], encoder)
    folder = next((artifacts / text.EMBEDDINGS_DIR).iterdir())
    np.save(folder / "embeddings.npy", np.zeros_like(first))
    again = text.embed(TEXTS[:4], encoder)
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_bfloat16_is_close_to_float32(encoder):
    fp32 = text.embed(TEXTS, encoder, cache=False)
    bf16 = text.embed(TEXTS, encoder, dtype="bfloat16", cache=False)
    cosine = (fp32 * bf16).sum(axis=1) / np.linalg.norm(bf16, axis=1)
    assert cosine.min() > 0.99


def test_empty_input_gives_an_empty_matrix(encoder):
    assert text.embed([], encoder, cache=False).shape == (0, 384)


def test_wrong_weights_are_rejected():
    with pytest.raises(text.WeightsMismatchError, match="sha256"):
        text.load_encoder(str(text.default_model_dir()), sha256="0" * 64, device="cpu")


@pytest.mark.parametrize("bad, error", [("one string", TypeError), (["ok", 3], TypeError), (42, TypeError)])
def test_bad_texts_are_rejected(encoder, bad, error):
    with pytest.raises(error):
        text.embed(bad, encoder, cache=False)


def test_bad_settings_are_rejected(encoder):
    with pytest.raises(ValueError, match="batch_size"):
        text.embed(TEXTS, encoder, batch_size=0, cache=False)
    with pytest.raises(ValueError, match="dtype"):
        text.embed(TEXTS, encoder, dtype="int8", cache=False)
    with pytest.raises(ValueError, match="max_length"):
        text.load_encoder(max_length=0)


def test_mean_pool_by_hand():
    import torch

    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    np.testing.assert_allclose(text.mean_pool(hidden, mask).numpy(), [[2.0, 3.0]])
    with pytest.raises(ValueError, match="batch"):
        text.mean_pool(hidden[0], mask)


def test_clusters_find_separated_groups(rng):
    centres = np.eye(3, 8)
    points = np.vstack([c + 0.05 * rng.normal(size=(20, 8)) for c in centres])
    result = text.cluster_embeddings(points, k_range=[2, 3, 4, 5], seed=0)
    assert result.k == 3
    assert list(result.selection["k"]) == [2, 3, 4, 5]
    # each true group is one cluster
    for g in range(3):
        assert len(set(result.labels[20 * g:20 * (g + 1)])) == 1
    np.testing.assert_allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)


def test_top_words_by_hand():
    texts = ["red heart mug", "red heart box", "blue cake tin", "blue cake stand"]
    words = text.top_words(texts, np.array([0, 0, 1, 1]), n_words=2)
    assert words == [["heart", "red"], ["blue", "cake"]]
    with pytest.raises(ValueError, match="one per text"):
        text.top_words(texts, np.array([0, 1]))


def test_catalogue_clusters_are_cached(encoder, artifacts, rng):
    descriptions = [f"{c} {w}" for c in ("red mug", "blue cake tin", "paper lantern") for w in ("small", "large", "set")]
    first = text.catalogue_clusters(descriptions, k=3, encoder=encoder)
    assert first.labels.shape == (9,) and first.k == 3 and len(first.names()) == 3
    again = text.catalogue_clusters(descriptions, k=3, encoder=encoder)
    np.testing.assert_array_equal(again.labels, first.labels)
    assert len(list((artifacts / text.CLUSTERS_DIR).iterdir())) == 1
