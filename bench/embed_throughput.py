"""Benchmark: BERT embedding throughput of helpers.text.embed versus sentence-transformers.

Embeds the real catalogue descriptions (UCI Online Retail, through helpers.tables, or the raw
table's distinct descriptions when the course tables are not available) with the same model
(all-MiniLM-L6-v2, offline) in the same run:

- ``helpers.text.embed`` (plain transformers, length-sorted batches, no cache) in float32;
- ``SentenceTransformer.encode`` with its defaults (batch size 32);
- ``helpers.text.embed`` under bfloat16 autocast on the first ``--bf16-limit`` titles, with the
  cosine similarity of its vectors to the float32 ones (CPUs without native bf16 emulate it
  slowly, so a subset keeps the run short).

Runs alternate (ours, reference, ours, ...) and the best of ``--repeats`` runs is kept, so
background load hurts both sides alike. Prints a Markdown table for bench/RESULTS.md.

Usage (from the repository root, with COURSE_DATA_MIRROR set or the data cached)::

    python bench/embed_throughput.py --threads 2 --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np


def catalogue_texts() -> list[str]:
    """The catalogue's descriptions, one per product (about 3,600 short titles)."""
    try:
        from helpers import tables

        return tables.load_course_tables().catalogue["description"].astype(str).tolist()
    except ImportError:  # the course tables are not there: distinct raw descriptions instead
        from helpers import data

        raw = data.load_online_retail()
        return sorted(raw[data.DESCRIPTION].dropna().astype(str).str.strip().unique())


def best_time(function, repeats: int) -> tuple[float, object]:
    """Smallest wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method (best kept)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size of helpers.text.embed")
    parser.add_argument("--limit", type=int, default=None, help="embed only the first N texts")
    parser.add_argument("--bf16-limit", type=int, default=512,
                        help="texts for the bfloat16 run (emulated bf16 is slow on CPUs without AVX512-BF16/AMX)")
    args = parser.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    from helpers import config, text

    torch.set_num_threads(args.threads)
    texts = catalogue_texts()[: args.limit]
    encoder = text.load_encoder(device="cpu")
    reference = SentenceTransformer(str(text.default_model_dir()), device="cpu")
    # warm-up: first calls allocate and pick kernels
    text.embed(texts[:64], encoder, cache=False, progress=False)
    reference.encode(texts[:64], show_progress_bar=False)

    bf16_texts = texts[: args.bf16_limit]
    ours_times, ref_times, bf16_times = [], [], []
    ours = ref = bf16 = None
    for repeat in range(args.repeats):  # alternate, so background load hits both sides alike
        t, ours = best_time(lambda: text.embed(texts, encoder, batch_size=args.batch_size, cache=False,
                                               progress=False), 1)
        ours_times.append(t)
        t, ref = best_time(lambda: reference.encode(texts, show_progress_bar=False, convert_to_numpy=True), 1)
        ref_times.append(t)
        t, bf16 = best_time(lambda: text.embed(bf16_texts, encoder, batch_size=args.batch_size, dtype="bfloat16",
                                               cache=False, progress=False), 1)
        bf16_times.append(t)
        print(f"run {repeat + 1}: ours {ours_times[-1]:.1f} s, sentence-transformers {ref_times[-1]:.1f} s, "
              f"bf16 ({len(bf16_texts)} titles) {bf16_times[-1]:.1f} s", flush=True)

    n = len(texts)
    max_diff = float(np.abs(ours - ref).max())
    cosine = (ours[: len(bf16_texts)] * bf16).sum(axis=1) / np.linalg.norm(bf16, axis=1)
    ours_rate, ref_rate, bf16_rate = n / min(ours_times), n / min(ref_times), len(bf16_texts) / min(bf16_times)
    cpu = platform.processor() or platform.machine()
    print(f"{n:,} catalogue titles, torch {torch.__version__}, {args.threads} threads, {cpu}, "
          f"best of {args.repeats} alternating runs, batch size {args.batch_size} (ours) / 32 (reference)\n")
    print("| method | titles/s | ratio to sentence-transformers | agreement |")
    print("|---|---:|---:|---|")
    print(f"| sentence-transformers `encode` (fp32) | {ref_rate:,.0f} | 1.00 | reference |")
    print(f"| `helpers.text.embed` fp32 | {ours_rate:,.0f} | {ours_rate / ref_rate:.2f} | "
          f"max abs difference {max_diff:.1e} |")
    print(f"| `helpers.text.embed` bf16 autocast (first {len(bf16_texts):,} titles) | {bf16_rate:,.0f} | "
          f"{bf16_rate / ref_rate:.2f} | "
          f"cosine to fp32: min {cosine.min():.6f}, mean {cosine.mean():.6f} |")
    print(f"\nversions: {config.banner()}")


if __name__ == "__main__":
    main()
