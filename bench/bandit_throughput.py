"""Arm pulls per second of the course's vectorised bandit learners, against mabwiser.

Each learner of ``helpers.bandits`` plays a Bernoulli bandit with K = 10 arms in R = 1,000
independent runs for T = 10,000 rounds (10 million pulls, all runs stepped together). The
reference is mabwiser's sequential API (``predict`` then ``partial_fit`` for one decision at a
time) timed on a few thousand pulls of the same problem, in the same process, so the ratio
does not depend much on the machine. A bare-bones vectorised numpy UCB1 (no checks, no tie
breaking) shows what the course's checks and bookkeeping cost; it is timed right after the
course's UCB1. Every rate is the best of ten consecutive blocks (the course's learners and the
bare UCB1 keep learning from one block to the next; mabwiser's pulls are split alike), the way
``timeit`` reports the minimum of its repeats: on a machine shared with other jobs the best block
is the one least disturbed, for every side alike.
For Beta Thompson sampling the bench also times numpy's Beta sampler alone on the (R, K)
posterior: one draw per arm and run is what every step must make, so it bounds the rate.

``--helpers PATH`` times the ``helpers`` package found in PATH (a checkout of another commit,
for before/after tables) instead of this repository's.

Usage, from the repository root::

    python bench/bandit_throughput.py                 # full run, prints a table
    python bench/bandit_throughput.py --write         # ... and updates bench/RESULTS.md
    python bench/bandit_throughput.py --horizon 1000  # quick look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
if "--helpers" in sys.argv:  # must happen before helpers is imported
    _ROOT = Path(sys.argv[sys.argv.index("--helpers") + 1]).resolve()
sys.path.insert(0, str(_ROOT))

from helpers import bandits as B  # noqa: E402
from helpers.config import REPO_ROOT, package_version  # noqa: E402
from helpers.envs import BernoulliBandit, simulate  # noqa: E402

SECTION = "## Bandit throughput (`bench/bandit_throughput.py`)"


def problem_means(n_arms: int) -> np.ndarray:
    """Click-rate-like arm means: 0.5% to 5%, evenly spaced."""
    return np.linspace(0.005, 0.05, n_arms)


BLOCKS = 10


def ours(cls, kwargs: dict, means: np.ndarray, n_runs: int, horizon: int) -> float:
    """Pulls per second of one course learner: ``simulate`` (wall clock) in ``BLOCKS`` consecutive
    blocks of horizon / BLOCKS rounds, the learner going on learning; the best block counts."""
    learner = cls(means.size, n_runs, rng=1, **kwargs)
    env = BernoulliBandit(means, n_runs, rng=2)
    block = max(1, horizon // BLOCKS)
    best = 0.0
    for _ in range(BLOCKS):
        start = time.perf_counter()
        simulate(learner, env, block)
        best = max(best, n_runs * block / (time.perf_counter() - start))
    return best


def naive_ucb1(means: np.ndarray, n_runs: int, horizon: int) -> float:
    """Pulls per second of a minimal vectorised UCB1: no validation, first-index ties, no trace
    (best of ``BLOCKS`` consecutive blocks, as :func:`ours`)."""
    rng = np.random.default_rng(3)
    n_arms = means.size
    counts = np.zeros((n_runs, n_arms))
    sums = np.zeros((n_runs, n_arms))
    rows = np.arange(n_runs)
    block = max(1, horizon // BLOCKS)
    best = 0.0
    for b in range(BLOCKS):
        start = time.perf_counter()
        for t in range(b * block, (b + 1) * block):
            if t < n_arms:
                arms = np.full(n_runs, t)
            else:
                arms = np.argmax(sums / counts + np.sqrt(2.0 * math.log(t) / counts), axis=1)
            rewards = rng.random(n_runs) < means[arms]
            counts[rows, arms] += 1
            sums[rows, arms] += rewards
        best = max(best, n_runs * block / (time.perf_counter() - start))
    return best


def beta_floor(means: np.ndarray, n_runs: int, steps: int = 100) -> float:
    """Pulls per second if a Beta Thompson step cost nothing but its posterior draw: numpy's
    ``Generator.beta`` on (n_runs, n_arms) parameters like those of a long run (best of ``BLOCKS``)."""
    rng = np.random.default_rng(6)
    plays = 1000.0
    alpha = 1.0 + rng.binomial(int(plays), np.broadcast_to(means, (n_runs, means.size)))
    beta = 2.0 + plays - alpha
    best = 0.0
    for _ in range(BLOCKS):
        start = time.perf_counter()
        for _ in range(steps):
            rng.beta(alpha, beta)
        best = max(best, n_runs * steps / (time.perf_counter() - start))
    return best


def mabwiser_rate(policy, means: np.ndarray, pulls: int, repeats: int = BLOCKS) -> float:
    """Pulls per second of mabwiser's sequential predict / partial_fit loop: the best of
    ``repeats`` blocks of ``pulls // repeats`` pulls."""
    from mabwiser.mab import MAB

    rng = np.random.default_rng(4)
    arms = list(range(means.size))
    mab = MAB(arms=arms, learning_policy=policy, seed=5)
    mab.fit(decisions=arms, rewards=[float(rng.random() < m) for m in means])  # each arm once
    block = max(1, pulls // repeats)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(block):
            arm = mab.predict()
            mab.partial_fit([arm], [float(rng.random() < means[arm])])
        best = max(best, block / (time.perf_counter() - start))
    return best


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {cores} cores available{load}; Python {platform.python_version()}, numpy {np.__version__}, "
            f"mabwiser {package_version('mabwiser')}")


def run(n_arms: int, n_runs: int, horizon: int, mab_pulls: int) -> tuple[list[tuple], float, float]:
    from mabwiser.mab import LearningPolicy as LP

    means = problem_means(n_arms)
    cases = [
        ("ε-greedy (ε = 0.1)", B.EpsilonGreedy, {"epsilon": 0.1}, "EpsilonGreedy(0.1)", LP.EpsilonGreedy(epsilon=0.1)),
        ("UCB1", B.UCB1, {}, "UCB1(alpha=1)", LP.UCB1(alpha=1.0)),
        ("KL-UCB", B.KLUCB, {}, "UCB1(alpha=1)*", LP.UCB1(alpha=1.0)),
        ("Thompson (Beta)", B.BernoulliThompson, {}, "ThompsonSampling", LP.ThompsonSampling()),
        ("Thompson (Gaussian)", B.GaussianThompson, {"sigma": 0.2}, "ThompsonSampling*", LP.ThompsonSampling()),
        ("EXP3", B.EXP3, {"gamma": 0.05}, "Softmax*", LP.Softmax(tau=1.0)),
        ("gradient bandit", B.GradientBandit, {"step_size": 0.5}, "Softmax*", LP.Softmax(tau=1.0)),
    ]
    reference_rates: dict[str, float] = {}
    rows = []
    naive = floor = math.nan
    for label, cls, kwargs, ref_name, policy in cases:
        if ref_name.rstrip("*") not in reference_rates:
            reference_rates[ref_name.rstrip("*")] = mabwiser_rate(policy, means, mab_pulls)
        ref = reference_rates[ref_name.rstrip("*")]
        rate = ours(cls, kwargs, means, n_runs, horizon)
        rows.append((label, rate, ref_name, ref, rate / ref))
        print(f"{label:22s} {rate / 1e6:8.2f} M pulls/s   mabwiser {ref_name:18s} {ref:9,.0f} pulls/s   "
              f"ratio {rate / ref:9,.0f}", flush=True)
        if cls is B.UCB1:  # the bare version right after, on the same machine state
            naive = naive_ucb1(means, n_runs, horizon)
            print(f"{'naive numpy UCB1':22s} {naive / 1e6:8.2f} M pulls/s   course at {rate / naive:.0%}", flush=True)
        if cls is B.BernoulliThompson:
            floor = beta_floor(means, n_runs)
            print(f"{'Beta draws alone':22s} {floor / 1e6:8.2f} M pulls/s   ratio at most {floor / ref:,.0f}",
                  flush=True)
    return rows, naive, floor


def markdown(rows: list[tuple], naive: float, floor: float, n_arms: int, n_runs: int, horizon: int,
             mab_pulls: int, before: dict | None = None) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {date.today().isoformat()} on {machine()}.",
        "",
        f"Bernoulli arms with means 0.5% to 5% (K = {n_arms}); the course's learners step R = {n_runs:,} "
        f"runs together for T = {horizon:,} rounds ({n_runs * horizon:,} pulls each, `simulate` timed "
        f"in {BLOCKS} consecutive blocks); mabwiser's sequential `predict` / `partial_fit` is timed on "
        f"{mab_pulls:,} pulls of the same problem in the same run, in {BLOCKS} blocks too. Each rate is the "
        "best of its blocks (as `timeit` takes the minimum of its repeats), so background load on a shared "
        "machine disturbs every side alike. Regenerate with `python bench/bandit_throughput.py --write`.",
        "",
    ]
    if before is None:
        lines += ["| learner | course (M pulls/s) | mabwiser reference | mabwiser (pulls/s) | ratio |",
                  "|---|---:|---|---:|---:|"]
        for label, rate, ref_name, ref, ratio in rows:
            lines.append(f"| {label} | {rate / 1e6:.2f} | {ref_name} | {ref:,.0f} | {ratio:,.0f} |")
    else:
        lines += [f"*Before* is {before['label']}, timed by this script just before, on the same machine.", ""]
        lines += ["| learner | before (M pulls/s) | before: ratio | course (M pulls/s) | mabwiser reference "
                  "| mabwiser (pulls/s) | ratio |", "|---|---:|---:|---:|---|---:|---:|"]
        old = {row[0]: row for row in before["rows"]}
        for label, rate, ref_name, ref, ratio in rows:
            b_rate, b_ratio = (old[label][1] / 1e6, old[label][4]) if label in old else (math.nan, math.nan)
            lines.append(f"| {label} | {b_rate:.2f} | {b_ratio:,.0f} | {rate / 1e6:.2f} | {ref_name} | {ref:,.0f} "
                         f"| {ratio:,.0f} |")
    lines += [
        "",
        "\\* mabwiser has no KL-UCB, Gaussian Thompson sampling, EXP3 or gradient bandit; the "
        "closest sequential policy is given for scale.",
        "",
        f"A minimal vectorised numpy UCB1 (no argument checks, first-index ties, no trace) makes "
        f"{naive / 1e6:.1f} M pulls/s on the same problem: the course's UCB1 runs at "
        f"{rows[1][1] / naive:.0%} of that while checking every update, breaking ties at random "
        "and recording the trace" + (f" (before: {before['rows'][1][1] / before['naive']:.0%} of "
                                      f"{before['naive'] / 1e6:.1f} M pulls/s)." if before else "."),
        "",
        f"Beta Thompson sampling must draw one Beta variate per arm and run at every step: numpy's "
        f"`Generator.beta` alone, on the same (R, K) = ({n_runs:,}, {n_arms}) posterior, makes "
        f"{floor / 1e6:.2f} M pulls/s, so no implementation built on it can exceed "
        f"{floor / rows[3][3]:,.0f} times mabwiser here; the course's Beta Thompson runs at "
        f"{rows[3][1] / floor:.0%} of that bound (the two are timed moments apart on a shared machine).",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, path: Path) -> None:
    """Replace this benchmark's section of RESULTS.md (up to the next ``## `` heading)."""
    content = path.read_text(encoding="utf-8")
    start = content.index(SECTION)
    end = content.find("\n## ", start + len(SECTION))
    end = len(content) if end < 0 else end + 1
    path.write_text(content[:start] + text + ("\n" if end < len(content) else "") + content[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--horizon", type=int, default=10_000)
    parser.add_argument("--mabwiser-pulls", type=int, default=3000)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--helpers", metavar="PATH", help="time the helpers package of another checkout")
    parser.add_argument("--json", metavar="FILE", help="also save the rates as JSON (for --before)")
    parser.add_argument("--label", default="this run", help="what the JSON's rates are of (e.g. a commit)")
    parser.add_argument("--before", metavar="FILE", help="JSON of an earlier run: add its rates to the table")
    args = parser.parse_args(argv)
    rows, naive, floor = run(args.arms, args.runs, args.horizon, args.mabwiser_pulls)
    before = json.loads(Path(args.before).read_text(encoding="utf-8")) if args.before else None
    text = markdown(rows, naive, floor, args.arms, args.runs, args.horizon, args.mabwiser_pulls, before)
    if args.json:
        Path(args.json).write_text(json.dumps({"label": args.label, "rows": rows, "naive": naive, "floor": floor}),
                                   encoding="utf-8")
    if args.write:
        write_section(text, REPO_ROOT / "bench" / "RESULTS.md")
        print("updated bench/RESULTS.md")
    else:
        print()
        print(text)


if __name__ == "__main__":
    main()
