"""Bad or edge inputs never yield a wrong number: each case fails with a message naming the argument.

One test (or one parametrised case) per reproducer of issue 16; the data registry's cases are in
``test_data_registry.py`` and the scorer's in ``test_scorer.py``.
"""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from helpers import check, cleaning, config, metrics, ope, tables, text, validation
from helpers import data as raw_data
from helpers.check import nb03, nb04, nb05

# --- the shared validation helpers ---------------------------------------------------------


@pytest.mark.parametrize(("value", "error"), [(True, TypeError), (2.0, TypeError), ("3", TypeError),
                                             (0, ValueError), (11, ValueError)])
def test_check_int_names_the_argument_and_the_range(value, error):
    with pytest.raises(error, match="size"):
        validation.check_int("size", value, 1, 10)
    assert validation.check_int("size", np.int64(4), 1, 10) == 4


def test_check_no_missing_counts_and_locates():
    with pytest.raises(ValueError, match=r"when has 2 missing value\(s\) of 4 \(first at position 1\)"):
        validation.check_no_missing("when", pd.to_datetime(["2011-01-01", None, "2011-01-02", None]))
    validation.check_no_missing("when", pd.to_datetime(["2011-01-01"]))


def test_check_choice_lists_the_choices():
    with pytest.raises(ValueError, match=r"policy must be one of \('a', 'b'\), got 'c'"):
        validation.check_choice("policy", "c", ("a", "b"))


# --- item 3: size arguments ----------------------------------------------------------------


@pytest.mark.parametrize("chunk", [0, -3, True, 1.5])
def test_intra_list_diversity_refuses_a_bad_chunk(chunk):
    emb = np.eye(4)
    with pytest.raises((ValueError, TypeError), match="chunk"):
        metrics.intra_list_diversity([[0, 1], [2, 3]], emb, chunk=chunk)


@pytest.mark.parametrize("chunk", [0, -3, True])
def test_bootstrap_interval_refuses_a_bad_chunk(chunk):
    with pytest.raises((ValueError, TypeError), match="chunk"):
        ope.bootstrap_interval(np.arange(20.0), rng=np.random.default_rng(0), n_bootstrap=50, chunk=chunk)


def test_cross_fit_rewards_refuses_a_bad_chunk():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="chunk_rows"):
        ope.cross_fit_rewards(LogisticRegression(), lambda r, a, p: np.c_[a], [0, 1, 0, 1], [0, 1, 1, 0],
                              n_actions=2, n_folds=2, rng=np.random.default_rng(0), chunk_rows=-1)


def test_a_bool_is_not_a_size():
    """True used to pass as 1 (bool is a subclass of int)."""
    with pytest.raises(TypeError, match="n_rounds"):
        ope.broadcast_policy(np.full(4, 0.25), True)
    with pytest.raises(TypeError, match="batch_size"):
        text.embed(["MUG"], text.load_encoder(device="cpu"), batch_size=True, cache=False)


def test_ranking_summary_refuses_zero_visits():
    with pytest.raises(ValueError, match="at least one visit"):
        metrics.ranking_summary(np.zeros((0, 3), dtype=np.int64), [], n_items=5)


# --- item 4: missing times ------------------------------------------------------------------


def _interactions() -> pd.DataFrame:
    return pd.DataFrame({tables.CUSTOMER_ID: [1, 1], tables.ITEM_ID: [0, 1],
                         tables.TIMESTAMP: pd.to_datetime(["2011-01-01", "2011-06-01"])})


def test_history_before_refuses_a_missing_time():
    """A NaT 'before' sorted after every purchase: the visit saw the customer's future."""
    with pytest.raises(ValueError, match="before has 1 missing value"):
        tables.history_before(_interactions(), [1, 1], pd.to_datetime(["2011-03-01", None]))
    with pytest.raises(ValueError, match="before"):
        tables.history_before(_interactions(), [1], pd.NaT)
    assert tables.history_before(_interactions(), [1], pd.Timestamp("2011-03-01"))[0].tolist() == [0]


def test_history_before_refuses_undated_purchases():
    inter = _interactions()
    inter.loc[1, tables.TIMESTAMP] = pd.NaT
    with pytest.raises(ValueError, match="timestamp"):
        tables.history_before(inter, [1], pd.Timestamp("2011-03-01"))


def test_assign_split_refuses_a_missing_time():
    with pytest.raises(ValueError, match="timestamps has 1 missing value"):
        tables.assign_split(pd.to_datetime(["2011-01-01", None]))


def _raw_lines() -> pd.DataFrame:
    frame = pd.DataFrame({
        raw_data.INVOICE: ["500001", "C500002"], raw_data.STOCK_CODE: ["10001", "10001"],
        raw_data.DESCRIPTION: ["MUG", "MUG"], raw_data.QUANTITY: [5, -5],
        raw_data.INVOICE_DATE: pd.to_datetime([None, "2011-02-01"]), raw_data.UNIT_PRICE: [1.0, 1.0],
        raw_data.CUSTOMER: [1.0, 1.0], raw_data.COUNTRY: ["United Kingdom"] * 2,
    })
    for column in (raw_data.INVOICE, raw_data.STOCK_CODE, raw_data.DESCRIPTION, raw_data.COUNTRY):
        frame[column] = frame[column].astype("string")
    return frame


def test_cleaning_refuses_an_undated_purchase():
    """It used to net the undated purchase against a dated cancellation."""
    with pytest.raises(ValueError, match="'InvoiceDate' has 1 missing value"):
        cleaning.clean_transactions(_raw_lines())


def test_cleaning_needs_a_unique_index():
    frame = _raw_lines()
    frame[raw_data.INVOICE_DATE] = pd.Timestamp("2011-01-01")
    frame.index = [7, 7]
    with pytest.raises(ValueError, match="reset_index"):
        cleaning.clean_transactions(frame)


@pytest.mark.parametrize("bad", [True, 2.5, 0, -1])
def test_max_quantity_must_be_a_count(bad):
    frame = _raw_lines().assign(**{raw_data.INVOICE_DATE: pd.Timestamp("2011-01-01")})
    with pytest.raises(ValueError, match="max_quantity"):
        cleaning.drop_extreme_quantities(frame, max_quantity=bad)
    with pytest.raises(ValueError, match="max_quantity"):
        cleaning.default_rules(max_quantity=bad)


# --- item 7: cache permissions, PermissionError ---------------------------------------------


def test_atomic_path_respects_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with config.atomic_path(tmp_path / "cache.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cache.bin").stat().st_mode) == 0o644


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_cache_is_explained(tmp_path):
    folder = tmp_path / "artifact"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"abc")
    config.write_manifest(folder, ["weights.bin"])
    (folder / "weights.bin").chmod(0)
    try:
        with pytest.raises(PermissionError, match=r"cannot read .*weights\.bin.*chmod"):
            config.read_manifest(folder)
    finally:
        (folder / "weights.bin").chmod(0o644)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes everywhere")
def test_an_unwritable_cache_folder_is_explained(tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match="COURSE_CACHE_DIR"), config.atomic_path(tmp_path / "x" / "y"):
            pass
    finally:
        tmp_path.chmod(0o755)


def test_a_permission_error_names_the_path_and_the_fix(tmp_path, monkeypatch):
    """The same checks as above, where the tests run as root: the errors are simulated."""
    (tmp_path / "weights.bin").write_bytes(b"abc")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(config, "open", denied, raising=False)
    with pytest.raises(PermissionError, match=r"cannot read .*weights\.bin.*chmod -R a\+rX"):
        config.sha256_of(tmp_path / "weights.bin")
    monkeypatch.undo()
    monkeypatch.setattr(config.tempfile, "mkstemp", denied)
    with pytest.raises(PermissionError, match=r"cannot write .*cache\.bin.*COURSE_CACHE_DIR"):
        with config.atomic_path(tmp_path / "cache.bin"):
            pass


# --- also: config ----------------------------------------------------------------------------


def test_a_relative_course_dir_is_anchored_to_the_repository(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", "some/data")
    monkeypatch.setenv("COURSE_CACHE_DIR", "some/cache")
    monkeypatch.chdir(tmp_path)
    assert config.data_dir() == config.REPO_ROOT / "some" / "data"
    assert config.raw_dir() == config.REPO_ROOT / "some" / "cache" / "raw"
    monkeypatch.chdir(config.REPO_ROOT / "notebooks")
    assert config.data_dir() == config.REPO_ROOT / "some" / "data"


@pytest.mark.parametrize("seed", [2**64, -1, True, 1.0, "7"])
def test_seed_everything_checks_the_range_before_seeding(seed):
    import random

    random.seed(123)
    state = random.getstate()
    with pytest.raises(ValueError, match="seed"):
        config.seed_everything(seed)
    assert random.getstate() == state, "Python's random was seeded before the seed was refused"


def test_seed_everything_accepts_the_largest_torch_seed():
    config.seed_everything(2**64 - 1)


@pytest.mark.parametrize("content", ["not json {", json.dumps({"created": "x"}), json.dumps([1, 2]),
                                     json.dumps({"files": {"a": {"bytes": 1}}})])
def test_a_damaged_manifest_is_named(tmp_path, content):
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(ValueError, match=r"manifest\.json.*delete"):
        config.read_manifest(tmp_path)


def test_a_manifest_listing_a_missing_file_is_named(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"a")
    config.write_manifest(tmp_path, ["a.bin"])
    (tmp_path / "a.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"a\.bin.*missing"):
        config.read_manifest(tmp_path)


# --- items 8 and 9: the encoder ------------------------------------------------------------


@pytest.mark.parametrize("max_length", [1, 2, True, 513, 8.0])
def test_max_length_leaves_room_for_text(max_length):
    with pytest.raises(ValueError, match="max_length"):
        text.load_encoder(max_length=max_length)


def test_an_encoder_built_by_hand_also_needs_room_for_text():
    with pytest.raises(ValueError, match="max_length must be at least 3"):
        text.Encoder("tiny", object(), object(), weights_sha256="x", max_length=2)


@pytest.mark.parametrize("name", ["./no_such_model", "models/typo/minilm", "/no/such/folder", "~/no_such_model",
                                  "helpers/no_such_model"])
def test_a_missing_local_folder_is_named_not_sent_to_the_hub(name, monkeypatch):
    def hub(_name):
        raise AssertionError("a local folder was taken for a hub id")

    monkeypatch.setattr(text, "_hub_weights_file", hub)
    with pytest.raises(FileNotFoundError, match="no folder"):
        text.load_encoder(name)


def test_a_local_copy_with_damaged_weights_is_refused_at_load(tmp_path):
    import shutil

    copy = tmp_path / "my-minilm"  # any folder name: the config says it is the course's model
    shutil.copytree(text.default_model_dir(), copy)
    weights = copy / text.WEIGHTS_FILE
    damaged = bytearray(weights.read_bytes())
    damaged[-100] ^= 0xFF  # a flipped bit in the tensor data: the header still reads
    weights.write_bytes(bytes(damaged))
    with pytest.raises(text.WeightsMismatchError, match="sha256"):
        text.load_encoder(str(copy))


def test_an_unknown_local_model_with_truncated_weights_is_refused_at_load(tmp_path):
    import shutil

    copy = tmp_path / "other-model"
    shutil.copytree(text.default_model_dir(), copy)
    (copy / "config.json").write_text((copy / "config.json").read_text() + "\n")  # not the known config
    weights = copy / text.WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(text.WeightsMismatchError, match="not a readable safetensors"):
        text.load_encoder(str(copy))


# --- item 10: checkers ----------------------------------------------------------------------


def test_is_close_judges_values_not_containers():
    assert check.is_close(np.array([0.25]), 0.25)
    assert check.is_close(np.float32(0.5), 0.5)
    assert check.is_close(np.array([1.0, 2.0]), (1.0, 2.0))
    assert check.is_close(np.inf, np.inf)
    assert not check.is_close(np.nan, np.nan)
    assert not check.is_close(np.nan, 1.0)
    assert not check.is_close([1.0, 2.0], 1.0)


def test_a_numpy_answer_is_accepted():
    slate, targets = nb03.inputs_for_exercise_1()
    assert nb03.exercise_1(metrics.ndcg_at_k(slate[None, :], [targets]))  # shape (1,)
    slates, n_items = nb05.data_exercise_2()
    answer = np.array([metrics.exposure_gini(slates, n_items), metrics.exposure_entropy(slates, n_items)])
    assert nb05.exercise_2(answer)


def test_a_nan_answer_on_an_empty_input_is_not_correct():
    empty = np.zeros((0, 3))
    assert not nb04.exercise_1(np.nan, empty)
    assert not nb04.exercise_2(np.nan, empty)


def test_an_incomplete_table_gets_a_hint_not_a_traceback(capsys):
    columns = ["method", "base", "lam", "NDCG@10", "category coverage"]
    table = pd.DataFrame([("mmr", "bert", 0.5, 0.1, 0.4)], columns=columns)
    assert not nb05.exercise_4(("mmr", "bert", 0.5), table, "trending")
    assert "complete sweep" in capsys.readouterr().out
