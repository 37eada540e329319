"""Slates per second of the course's MMR and greedy-DPP re-rankers on the real catalogue embeddings.

The items are the course catalogue (BERT embeddings of its product descriptions, from
``helpers.text.embed``, cached). Each visit gets a content-based relevance score (cosine to the
mean embedding of five random catalogue items), and k = 10 items are chosen

* from each visit's best ``m = 100`` candidates (what notebook 05 does, via ``helpers.rerank.rerank``),
* and from the whole catalogue (m = n_items), the case where the O(k^2 m) update matters.

References timed in the same run, on the same inputs, one slate at a time:

* DPP: brute-force greedy MAP, which at every step evaluates ``log det L_{Y+i}`` of every candidate
  from scratch (numpy's batched ``slogdet``), O(k^4 m) per slate instead of O(k^2 m);
* MMR: the textbook loop that builds each slate's m x m similarity matrix and then picks greedily.

The benchmark also checks that the fast and the reference slates agree. Ratios (course / reference)
travel better between machines than raw rates.

Usage, from the repository root::

    python bench/rerank_throughput.py            # prints a table
    python bench/rerank_throughput.py --write    # ... and updates bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import rerank  # noqa: E402
from helpers.config import REPO_ROOT, package_version  # noqa: E402

SECTION = "## Re-ranking throughput (`bench/rerank_throughput.py`)"
K = 10


def catalogue_embeddings() -> np.ndarray:
    """(n_items, 384) float32 unit BERT embeddings of the course catalogue (cached artifact)."""
    from helpers import tables, text

    catalogue = tables.load_course_tables().catalogue
    return text.embed(catalogue["description"], progress=False)


def visit_scores(emb: np.ndarray, n_visits: int, rng: np.random.Generator) -> np.ndarray:
    """(n_visits, n_items) content-based relevance: cosine to the mean of 5 random items."""
    picks = rng.integers(0, len(emb), size=(n_visits, 5))
    profile = emb[picks].mean(axis=1)
    profile /= np.linalg.norm(profile, axis=1, keepdims=True)
    return profile @ emb.T


def reference_dpp(emb: np.ndarray, logq: np.ndarray, k: int) -> np.ndarray:
    """Greedy MAP by recomputing every candidate's log det from scratch (one slate)."""
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    q = np.exp(logq - logq.max())  # a common factor of q changes no decision
    picked: list[int] = []
    for _ in range(k):
        rest = np.setdiff1d(np.arange(len(emb)), picked)
        idx = np.concatenate([np.tile(np.array(picked, dtype=np.int64), (len(rest), 1)), rest[:, None]], axis=1)
        vec = unit[idx] * q[idx][..., None]
        sign, logdet = np.linalg.slogdet(vec @ np.swapaxes(vec, 1, 2))
        picked.append(int(rest[np.argmax(np.where(sign > 0, logdet, -np.inf))]))
    return np.array(picked)


def reference_mmr(emb: np.ndarray, rel: np.ndarray, k: int, lam: float) -> np.ndarray:
    """Textbook MMR for one slate: the full similarity matrix, then a greedy loop."""
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sim = unit @ unit.T
    picked = [int(np.argmax(rel))]
    while len(picked) < k:
        objective = lam * rel - (1 - lam) * sim[:, picked].max(axis=1)
        objective[picked] = -np.inf
        picked.append(int(np.argmax(objective)))
    return np.array(picked)


def candidates(scores: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each visit's m best items (best first) and their relevance min-max scaled to [0, 1]."""
    cand = np.argsort(-scores, axis=1, kind="stable")[:, :m]
    rel = np.take_along_axis(scores, cand, axis=1)
    low, high = rel.min(axis=1, keepdims=True), rel.max(axis=1, keepdims=True)
    return cand, (rel - low) / (high - low)


def rate(fn, n_slates: int, repeat: int = 3) -> float:
    """Best-of-``repeat`` slates per second of ``fn()`` producing ``n_slates`` slates."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n_slates / best


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (f"{cpu}, {os.cpu_count()} logical CPUs, python {platform.python_version()}, "
            f"numpy {package_version('numpy')}")


def run(n_visits: int, n_reference: int, lam: float, seed: int) -> tuple[list[tuple], dict]:
    """Time every configuration; return table rows and the agreement checks."""
    rng = np.random.default_rng(seed)
    emb = catalogue_embeddings()
    n_items = len(emb)
    scores = visit_scores(emb, n_visits, rng)
    theta = lam
    rows, checks = [], {}

    # 1. notebook setting: 100 candidates per visit, all visits batched through rerank()
    cand, rel = candidates(scores, 100)
    for method in ("mmr", "dpp"):
        ours = rate(lambda method=method: rerank.rerank(scores, emb, K, method=method, lam=lam, n_candidates=100),
                    n_visits)
        if method == "dpp":
            ref_fn = [lambda u=u: reference_dpp(emb[cand[u]], rerank.dpp_log_quality(rel[u], theta), K)
                      for u in range(n_reference)]
        else:
            ref_fn = [lambda u=u: reference_mmr(emb[cand[u]], rel[u], K, lam) for u in range(n_reference)]
        ref = rate(lambda fns=ref_fn: [f() for f in fns], n_reference, repeat=1)
        fast = rerank.rerank(scores[:n_reference], emb, K, method=method, lam=lam, n_candidates=100)
        slow = np.stack([cand[u][f()] for u, f in enumerate(ref_fn)])
        checks[f"{method}, m=100"] = float((fast == slow).all(axis=1).mean())
        rows.append((method.upper(), "100 candidates", n_visits, ours, ref, ours / ref))

    # 2. the whole catalogue as candidates (no pre-selection), batches of 64 visits
    n_full = min(n_visits, 256)
    full_rel = (scores[:n_full] - scores[:n_full].min(axis=1, keepdims=True))
    full_rel /= full_rel.max(axis=1, keepdims=True)
    logq = rerank.dpp_log_quality(full_rel, theta)

    def dpp_full():
        return np.concatenate([rerank.dpp_greedy(emb, K, log_quality=logq[s:s + 64]) for s in range(0, n_full, 64)])

    def mmr_full():
        return np.concatenate([rerank.mmr(full_rel[s:s + 64], emb, K, lam) for s in range(0, n_full, 64)])

    n_ref_full = max(1, n_reference // 25)
    for method, fast_fn, ref_one in (
        ("dpp", dpp_full, lambda u: reference_dpp(emb, logq[u], K)),
        ("mmr", mmr_full, lambda u: reference_mmr(emb, full_rel[u], K, lam)),
    ):
        ours = rate(fast_fn, n_full, repeat=2)
        ref = rate(lambda ref_one=ref_one: [ref_one(u) for u in range(n_ref_full)], n_ref_full, repeat=1)
        fast = fast_fn()[:n_ref_full]
        slow = np.stack([ref_one(u) for u in range(n_ref_full)])
        checks[f"{method}, m={n_items}"] = float((fast == slow).all(axis=1).mean())
        rows.append((method.upper(), f"whole catalogue ({n_items:,} items)", n_full, ours, ref, ours / ref))
    return rows, checks


def markdown(rows: list[tuple], checks: dict, lam: float) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Regenerate with "
        "`python bench/rerank_throughput.py --write`.",
        "",
        f"k = {K} items per slate, trade-off lambda = theta = {lam}; relevance = cosine to a random "
        "profile, min-max scaled. *Ours* is `helpers.rerank` vectorised over visits; the DPP "
        "reference recomputes every candidate's log-determinant at each step (brute-force greedy, "
        "one slate at a time), the MMR reference builds each slate's m x m similarity matrix and "
        "loops. Best of a few repeats on a machine shared with other jobs, so rates are indicative.",
        "",
        "| method | candidates per slate | slates timed | ours, slates/s | reference, slates/s | ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for method, setting, n, ours, ref, ratio in rows:
        lines.append(f"| {method} | {setting} | {n:,} | {ours:,.0f} | {ref:,.1f} | {ratio:,.1f}x |")
    lines += ["", "Agreement of the fast and the reference slates (share identical): "
              + ", ".join(f"{name}: {value:.0%}" for name, value in checks.items()) + "."]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path) -> None:
    """Replace this benchmark's section of RESULTS.md (up to the next ``## `` heading), or append it."""
    content = path.read_text(encoding="utf-8")
    start = content.find(SECTION)
    if start < 0:
        path.write_text(content.rstrip("\n") + "\n\n" + text, encoding="utf-8")
        return
    end = content.find("\n## ", start + len(SECTION))
    end = len(content) if end < 0 else end + 1
    path.write_text(content[:start] + text + ("\n" if end < len(content) else "") + content[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2000, help="visits re-ranked in the batched runs")
    parser.add_argument("--reference", type=int, default=50, help="slates timed with the references")
    parser.add_argument("--lam", type=float, default=0.7, help="trade-off lambda (MMR) = theta (DPP)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    rows, checks = run(args.visits, args.reference, args.lam, args.seed)
    text = markdown(rows, checks, args.lam)
    print(text)
    if args.write:
        write_section(text, REPO_ROOT / "bench" / "RESULTS.md")
        print("updated bench/RESULTS.md")


if __name__ == "__main__":
    main()
