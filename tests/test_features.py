"""Context features of visits (helpers.features), on a tiny hand-built shop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import features, visits
from helpers import tables as tb


def _tiny_shop():
    ts = pd.to_datetime(["2011-01-01 10:00", "2011-01-05 10:00", "2011-01-05 10:00", "2011-01-10 12:00",
                         "2011-01-11 09:00"])
    interactions = pd.DataFrame({
        tb.CUSTOMER_ID: [1, 1, 1, 2, 1], tb.ITEM_ID: [0, 1, 2, 1, 3],
        tb.INVOICE: ["a", "b", "b", "c", "d"], tb.TIMESTAMP: ts,
        tb.QUANTITY: [1, 2, 1, 5, 1], tb.REVENUE: [1.0, 4.0, 3.0, 10.0, 2.0]})
    visit_rows = pd.DataFrame({tb.INVOICE: ["a", "b", "c", "d"], tb.CUSTOMER_ID: [1, 1, 2, 1],
                           tb.TIMESTAMP: ts[[0, 1, 3, 4]], tb.COUNTRY: "United Kingdom"})
    catalogue = pd.DataFrame({tb.ITEM_ID: np.arange(4)})
    tables = tb.CourseTables(catalogue=catalogue, interactions=interactions, visits=visit_rows, ledger=pd.DataFrame())
    query = pd.DataFrame({tb.CUSTOMER_ID: [1, 2, 1], tb.TIMESTAMP: pd.to_datetime(
        ["2011-01-11 09:00", "2011-01-10 12:00", "2011-01-05 10:00"])})
    return tables, visits.make_batch(tables, query)


def test_visit_features_count_only_what_happened_before(rng):
    tables, batch = _tiny_shop()
    emb = rng.normal(size=(4, 6))
    feat = features.VisitFeaturizer(emb, n_components=0)
    raw = feat._raw(tables, batch)
    # customer 1 on Jan 11 09:00: items {0,1,2}, visits a and b before, the last 5 days 23 hours earlier
    np.testing.assert_allclose(raw[0, :3], np.log1p([3, 2, 5 + 23 / 24]))
    # customer 2's first visit: nothing before
    np.testing.assert_allclose(raw[1, :3], [0.0, 0.0, 0.0])
    # customer 1 on Jan 5 (visit b itself): only visit a counts ("strictly before")
    np.testing.assert_allclose(raw[2, :3], np.log1p([1, 1, 4]))
    np.testing.assert_allclose(raw[0, 5:], emb[:3].mean(axis=0))  # mean history embedding
    angle = 2 * np.pi * 10 / 365.25  # Jan 11 is day 10 of the year
    np.testing.assert_allclose(raw[0, 3:5], [np.sin(angle), np.cos(angle)])


def test_visit_featurizer_standardises_on_the_fitting_visits(rng):
    tables, batch = _tiny_shop()
    feat = features.VisitFeaturizer(rng.normal(size=(4, 6)), n_components=2).fit(tables, batch)
    x = feat.transform(tables, batch)
    assert x.shape == (3, feat.n_features) == (3, 8) and len(feat.names) == 8
    np.testing.assert_array_equal(x[:, 0], 1.0)
    np.testing.assert_allclose(x[:, [1, 2, 3, 6, 7]].mean(axis=0), 0.0, atol=1e-12)
    with pytest.raises(RuntimeError, match="fit"):
        features.VisitFeaturizer(np.ones((4, 6)), 0).transform(tables, batch)
    with pytest.raises(ValueError, match="items"):
        features.VisitFeaturizer(np.ones((5, 6)), 0).fit(tables, batch)
    with pytest.raises(ValueError, match="n_components"):
        features.VisitFeaturizer(np.ones((4, 6)), 7)


def test_principal_axes_match_the_singular_value_decomposition(rng):
    data = rng.normal(size=(200, 5)) @ np.diag([5.0, 3.0, 2.0, 1.0, 0.5]) @ np.linalg.qr(rng.normal(size=(5, 5)))[0]
    mean, axes = features.principal_axes(data, 3)
    np.testing.assert_allclose(mean, data.mean(axis=0))
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    np.testing.assert_allclose(np.abs(axes @ vt[:3].T), np.eye(3), atol=1e-8)  # same axes up to sign
    assert np.all(axes[np.arange(3), np.abs(axes).argmax(axis=1)] > 0)  # sign convention
    with pytest.raises(ValueError, match="n_components"):
        features.principal_axes(data, 6)
    with pytest.raises(ValueError, match="finite"):
        features.principal_axes(np.ones((1, 3)), 1)
