"""helpers.scorer: features as of a day, training, checkpoints and the fine-tuning path (tiny BERT)."""

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import scorer as sc
from helpers import strategies as st
from helpers import tables as tb

N_ITEMS, N_CUSTOMERS, DIM = 40, 60, 16


def synthetic_tables(seed: int = 0) -> tuple[tb.CourseTables, np.ndarray]:
    """Two taste groups (items 0-19 and 20-39) whose text embeddings differ; customers stick to one.

    Visits run from August to November 2011, so the course's split gives train, valid and test.
    Returns the tables and (N_ITEMS, DIM) unit-norm "text embeddings".
    """
    rng = np.random.default_rng(seed)
    group_of_item = np.repeat([0, 1], N_ITEMS // 2)
    directions = np.eye(2, DIM)
    text = directions[group_of_item] + 0.3 * rng.normal(size=(N_ITEMS, DIM))
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    popularity = 1.0 / np.arange(1, N_ITEMS // 2 + 1)  # Zipf within each group
    rows, visits = [], []
    days = pd.date_range("2011-08-01", "2011-11-30", freq="D")
    for customer in range(N_CUSTOMERS):
        group = customer % 2
        for when in np.sort(rng.choice(days, size=8, replace=False)):
            items = group * (N_ITEMS // 2) + rng.choice(N_ITEMS // 2, size=3, replace=False, p=popularity / popularity.sum())
            invoice = f"{customer}-{pd.Timestamp(when):%m%d}"
            timestamp = pd.Timestamp(when) + pd.Timedelta(hours=9 + customer % 8)
            rows += [(customer, int(i), invoice, timestamp, 1, 1.0) for i in items]
            visits.append((invoice, customer, timestamp, "UK", 3, 3.0))
    interactions = pd.DataFrame(rows, columns=[tb.CUSTOMER_ID, tb.ITEM_ID, tb.INVOICE, tb.TIMESTAMP, tb.QUANTITY,
                                               tb.REVENUE]).sort_values(tb.TIMESTAMP, kind="stable")
    visits = pd.DataFrame(visits, columns=[tb.INVOICE, tb.CUSTOMER_ID, tb.TIMESTAMP, tb.COUNTRY, tb.N_ITEMS,
                                           tb.REVENUE]).sort_values(tb.TIMESTAMP, kind="stable").reset_index(drop=True)
    visits[tb.SPLIT] = tb.assign_split(visits[tb.TIMESTAMP])
    catalogue = pd.DataFrame({tb.ITEM_ID: np.arange(N_ITEMS), tb.DESCRIPTION: [f"item {i}" for i in range(N_ITEMS)],
                              tb.PRICE: rng.uniform(0.5, 5.0, N_ITEMS)})
    return tb.CourseTables(catalogue, interactions.reset_index(drop=True), visits, pd.DataFrame()), text.astype(np.float32)


@pytest.fixture(scope="module")
def world():
    tables, text = synthetic_tables()
    space = sc.FeatureSpace(tables, text)
    batches = {s: st.make_batch(tables, tb.discovery_visits(tables, s)) for s in tb.SPLITS}
    examples = {s: space.examples(b) for s, b in batches.items()}
    return tables, space, batches, examples


FAST = dict(hidden=16, dim=8, pop_hidden=8, n_negatives=20, batch_size=32, lr=1e-2, max_epochs=4, patience=1, seed=3)


def test_popularity_features_use_only_days_before(world):
    tables, space, _, _ = world
    inter = tables.interactions
    for day in ("2011-09-15", "2011-10-20"):
        offset = space.day_offsets(np.array([day], dtype="datetime64[D]"))[0]
        before = inter[inter[tb.TIMESTAMP] < pd.Timestamp(day)]
        # a purchase counts once per (customer, day)
        buyers = (before.assign(day=before[tb.TIMESTAMP].dt.floor("D"))
                  .drop_duplicates([tb.ITEM_ID, tb.CUSTOMER_ID, "day"]).groupby(tb.ITEM_ID).size()
                  .reindex(range(N_ITEMS), fill_value=0))
        np.testing.assert_allclose(space.dynamic[offset, :, 2], np.log1p(buyers.to_numpy()), rtol=1e-6)
        recent = before[before[tb.TIMESTAMP] >= pd.Timestamp(day) - pd.Timedelta(days=7)]
        week = (recent.assign(day=recent[tb.TIMESTAMP].dt.floor("D"))
                .drop_duplicates([tb.ITEM_ID, tb.CUSTOMER_ID, "day"]).groupby(tb.ITEM_ID).size()
                .reindex(range(N_ITEMS), fill_value=0))
        np.testing.assert_allclose(space.dynamic[offset, :, 0], np.log1p(week.to_numpy()), rtol=1e-6)
        np.testing.assert_array_equal(space.dynamic[offset, :, 4], (buyers.to_numpy() > 0).astype(np.float32))


def test_user_features_by_hand(world):
    tables, space, batches, examples = world
    batch = batches["valid"]
    row = 0
    customer, when = batch.customer_ids[row], batch.timestamps[row]
    earlier = tables.visits[(tables.visits[tb.CUSTOMER_ID] == customer) & (tables.visits[tb.TIMESTAMP] < when)]
    expected = [np.log1p(len(batch.history[row])), np.log1p(len(earlier)),
                np.log1p((when - earlier[tb.TIMESTAMP].min().to_datetime64()) / np.timedelta64(1, "D")),
                np.log1p((when - earlier[tb.TIMESTAMP].max().to_datetime64()) / np.timedelta64(1, "D"))]
    np.testing.assert_allclose(examples["valid"].user[row], expected, rtol=1e-5)
    history_mean = space.text[batch.history[row]].mean(axis=0)
    np.testing.assert_allclose(examples["valid"].history[row], history_mean, rtol=1e-5, atol=1e-6)


def test_training_reduces_the_loss_and_is_seeded(world):
    _, space, _, examples = world
    cfg = sc.ScorerConfig(**FAST)
    first = sc.train_scorer(space, examples["train"], examples["valid"], cfg, device="cpu", progress=False)
    losses = first.history["loss"].to_numpy()
    assert losses[-1] < losses[0]
    assert first.best_epoch == int(first.history.loc[first.history["valid_NDCG@10"].idxmax(), "epoch"])
    assert (first.fine_tune, first.mixed_precision) == (False, False)
    again = sc.train_scorer(space, examples["train"], examples["valid"], cfg, device="cpu", progress=False)
    pd.testing.assert_series_equal(first.history["loss"], again.history["loss"])


def test_learned_scorer_beats_random_on_the_synthetic_tastes(world):
    _, space, _, examples = world
    cfg = sc.ScorerConfig(**{**FAST, "max_epochs": 6})
    trained = sc.train_scorer(space, examples["train"], None, cfg, device="cpu", progress=False)
    summary = sc.evaluate_examples(trained.model, space, examples["test"], k=5)
    # random slates of 5 from ~37 unseen items hit a visit's ~2-3 new items far less than half the time;
    # the tastes (two groups) and the popularity skew make the learned scorer do much better
    rng = np.random.default_rng(0)
    scores = rng.random((len(examples["test"]), N_ITEMS))
    random_hits = np.mean([bool(set(s) & set(t)) for s, t in
                           zip(st.top_k(scores, 5, exclude=examples["test"].seen), examples["test"].targets,
                               strict=True)])
    assert summary["HR@5"] > random_hits + 0.15


def test_early_stopping_stops(world):
    _, space, _, examples = world
    cfg = sc.ScorerConfig(**{**FAST, "lr": 0.5, "max_epochs": 12, "patience": 0})
    trained = sc.train_scorer(space, examples["train"], examples["valid"], cfg, device="cpu", progress=False)
    history = trained.history
    best = history["valid_NDCG@10"].max()
    assert len(history) <= 12
    if len(history) < 12:  # it stopped: the last epoch did not improve on the best
        assert history["valid_NDCG@10"].iloc[-1] <= best


def test_checkpoint_round_trip_and_tampering(world, tmp_path):
    _, space, _, examples = world
    trained = sc.train_scorer(space, examples["train"], None, sc.ScorerConfig(**{**FAST, "max_epochs": 1}),
                              device="cpu", progress=False)
    sc.save_checkpoint(trained, tmp_path / "ckpt", text_model="synthetic")
    loaded = sc.load_checkpoint(tmp_path / "ckpt", device="cpu")
    np.testing.assert_allclose(sc.score_examples(loaded.model, space, examples["test"]),
                               sc.score_examples(trained.model, space, examples["test"]), atol=1e-6)
    assert loaded.config == trained.config
    weights = tmp_path / "ckpt" / sc.CHECKPOINT_FILE
    original = weights.read_bytes()
    data = bytearray(original)
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="manifest"):
        sc.load_checkpoint(tmp_path / "ckpt")
    weights.write_bytes(original)
    sc.load_checkpoint(tmp_path / "ckpt")  # restored: loads again
    (tmp_path / "ckpt" / sc.CONFIG_FILE).unlink()
    with pytest.raises(FileNotFoundError):
        sc.load_checkpoint(tmp_path / "ckpt")


def test_neural_scorer_strategy_excludes_history(world):
    _, space, batches, examples = world
    trained = sc.train_scorer(space, examples["train"], None, sc.ScorerConfig(**{**FAST, "max_epochs": 1}),
                              device="cpu", progress=False)
    slates = st.NeuralScorer(trained.model, space).recommend(batches["test"], 5)
    assert slates.shape == (len(batches["test"]), 5)
    for row, history in zip(slates, batches["test"].history, strict=True):
        assert not set(row) & set(history)


def test_mixed_precision_path_trains_on_cpu(world):
    _, space, _, examples = world
    cfg = sc.ScorerConfig(**{**FAST, "mixed_precision": True, "max_epochs": 3})
    trained = sc.train_scorer(space, examples["train"], examples["valid"], cfg, device="cpu", progress=False)
    assert trained.mixed_precision and np.isfinite(trained.history["loss"]).all()
    assert trained.history["loss"].iloc[-1] < trained.history["loss"].iloc[0]


def test_flags_resolve_by_device():
    auto = sc.ScorerConfig()
    assert sc.resolve_flags(auto, torch.device("cpu")) == (False, False)
    assert sc.resolve_flags(auto, torch.device("cuda")) == (True, True)
    assert sc.resolve_flags(sc.ScorerConfig(fine_tune=True), torch.device("cpu")) == (True, False)


@pytest.mark.parametrize("field, value", [("dim", 0), ("dropout", 1.0), ("lr", 0.0), ("fine_tune", "yes"),
                                          ("batch_size", 2.5), ("patience", -1)])
def test_bad_config_is_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        sc.ScorerConfig(**{field: value})


def test_inputs_are_validated(world):
    tables, space, _, examples = world
    with pytest.raises(ValueError, match="text_embeddings"):
        sc.FeatureSpace(tables, np.zeros((N_ITEMS - 1, DIM)))
    shuffled = sc.Examples(history=examples["train"].history[::-1], user=examples["train"].user[::-1],
                           day=examples["train"].day[::-1], seen=examples["train"].seen[::-1],
                           targets=examples["train"].targets[::-1])
    with pytest.raises(ValueError, match="time order"):
        sc.train_scorer(space, shuffled, None, sc.ScorerConfig(**FAST), device="cpu", progress=False)


# ---------------------------------------------------------------------------------------------
# The fine-tuning path (what a GPU runs), on a tiny randomly initialised BERT


@pytest.fixture(scope="module")
def tiny_encoder():
    from transformers import AutoTokenizer, BertConfig, BertModel

    from helpers import text

    tokenizer = AutoTokenizer.from_pretrained(text.default_model_dir())
    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=DIM, num_hidden_layers=2,
                                num_attention_heads=2, intermediate_size=32, max_position_embeddings=64),
                     add_pooling_layer=False).eval()
    return text.Encoder("tiny-bert", tokenizer, bert, weights_sha256="random", max_length=32)


def test_fine_tuned_text_trains_only_the_top_layers(tiny_encoder):
    import copy

    descriptions = ["red heart mug", "blue cake tin", "paper lantern", "jumbo bag"]
    ids, mask = sc.CatalogueEncoder(tiny_encoder, descriptions).tokens()
    module = sc.FineTunedText(copy.deepcopy(tiny_encoder.model), ids, mask, n_layers=1)
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    optimiser = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=1e-2)
    target = torch.eye(4, DIM)
    losses = []
    for _ in range(8):
        out = module(torch.arange(4))
        loss = ((out - target) ** 2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    for name, param in module.named_parameters():
        moved = not torch.equal(param, before[name])
        assert moved == name.startswith("bert.encoder.layer.1."), name
    with pytest.raises(ValueError, match="n_layers"):
        sc.FineTunedText(tiny_encoder.model, ids, mask, n_layers=3)


def test_fine_tuning_path_end_to_end(world, tiny_encoder, tmp_path):
    from helpers import text

    tables, _, batches, _ = world
    descriptions = tables.catalogue[tb.DESCRIPTION].tolist()
    embeddings = text.embed(descriptions, tiny_encoder, cache=False)
    space = sc.FeatureSpace(tables, embeddings)
    examples = {s: space.examples(batches[s]) for s in ("train", "test")}
    cfg = sc.ScorerConfig(**{**FAST, "max_epochs": 3, "fine_tune": True, "fine_tune_layers": 1, "fine_tune_lr": 1e-3})
    trained = sc.train_scorer(space, examples["train"], None, cfg, device="cpu",
                              encoder=sc.CatalogueEncoder(tiny_encoder, descriptions), progress=False)
    losses = trained.history["loss"].to_numpy()
    assert trained.fine_tune and losses[-1] < losses[0]
    assert trained.model.text_module is None and trained.model.tuned_text.shape == (N_ITEMS, DIM)
    assert not np.allclose(trained.model.tuned_text.numpy(), embeddings, atol=1e-4)  # the text moved
    sc.save_checkpoint(trained, tmp_path / "tuned")
    loaded = sc.load_checkpoint(tmp_path / "tuned", device="cpu")
    np.testing.assert_allclose(sc.score_examples(loaded.model, space, examples["test"]),
                               sc.score_examples(trained.model, space, examples["test"]), atol=1e-5)
    with pytest.raises(ValueError, match="encoder"):
        sc.train_scorer(space, examples["train"], None, cfg, device="cpu", progress=False)


def test_course_scorer_is_trained_once_then_loaded(world, tmp_path, monkeypatch):
    from helpers import text

    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    tables = world[0]
    encoder = text.load_encoder(device="cpu")
    cfg = sc.ScorerConfig(**{**FAST, "max_epochs": 2})
    first = sc.course_scorer(tables, cfg, encoder=encoder, device="cpu", progress=False)
    assert not first.loaded and first.folder.is_relative_to(tmp_path)
    assert first.final.best_epoch == first.selection_history.loc[first.selection_history["valid_NDCG@10"].idxmax(),
                                                                 "epoch"]
    again = sc.course_scorer(tables, cfg, encoder=encoder, device="cpu", progress=False)
    assert again.loaded and again.folder == first.folder
    test = sc.course_examples(tables, again.space)["test"]
    np.testing.assert_allclose(sc.score_examples(again.final.model, again.space, test),
                               sc.score_examples(first.final.model, first.space, test), atol=1e-6)
    other = sc.course_scorer(tables, sc.ScorerConfig(**{**FAST, "max_epochs": 1}), encoder=encoder, device="cpu",
                             progress=False)
    assert not other.loaded and other.folder != first.folder  # another config, another checkpoint


@pytest.mark.parametrize("chunk", [0, -1, True, 2.5])
def test_score_examples_refuses_a_bad_chunk(world, chunk):
    """A chunk of 0 or less used to return uninitialised memory as scores."""
    _, space, _, examples = world
    model = sc.TwoTowerScorer(DIM, 16, 8, 0.0, 8)  # the chunk is checked before any work
    with pytest.raises((ValueError, TypeError), match="chunk"):
        sc.score_examples(model, space, examples["test"], chunk=chunk)


def test_a_checkpoint_whose_config_does_not_fit_is_a_value_error(world, tmp_path):
    """course_scorer retrains on ValueError; a shape mismatch used to escape as a RuntimeError."""
    import json

    from helpers import config

    _, space, _, examples = world
    trained = sc.train_scorer(space, examples["train"], None, sc.ScorerConfig(**{**FAST, "max_epochs": 1}),
                              device="cpu", progress=False)
    folder = sc.save_checkpoint(trained, tmp_path / "ckpt").parent
    meta = json.loads((folder / sc.CONFIG_FILE).read_text())
    meta["config"]["hidden"] = 2 * meta["config"]["hidden"]
    (folder / sc.CONFIG_FILE).write_text(json.dumps(meta))
    config.write_manifest(folder, [sc.CHECKPOINT_FILE, sc.CONFIG_FILE])  # consistent manifest, wrong config
    with pytest.raises(ValueError, match="does not fit"):
        sc.load_checkpoint(folder, device="cpu")
