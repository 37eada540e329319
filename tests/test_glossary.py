"""The glossary of notebook 00 (English and Chinese) covers the terms the course notebooks use.

Two checks, because a term can be an acronym or a phrase:

- every acronym in the course notebooks' prose (outside code, maths and links; product
  descriptions in capitals and proper names aside) has a glossary entry;
- every phrase of the course vocabulary below that a notebook uses has a glossary entry. When a
  notebook introduces a new term, add it here and to the glossary.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.config import REPO_ROOT

GLOSSARY_NOTEBOOK = REPO_ROOT / "notebooks" / "00_setup_and_roadmap.ipynb"
COURSE = sorted((REPO_ROOT / "notebooks").glob("0[1-9]_*.ipynb"))

#: Capitalised words that are names, not terms: venues, data sets, columns, software, units, places.
NOT_TERMS = {"CC", "GBP", "UK", "UCI", "ICML", "JAMA", "JASA", "JCGS", "NeurIPS", "WSDM", "KDD", "RecSys",
             "ZOZOTOWN", "NaN", "PyTorch", "CustomerID", "StockCode", "InvoiceNo", "UnitPrice", "McClave",
             "MiniLM", "ReLU", "README", "GitHub", "JupyterLab", "OK", "FAIL", "JSON"}

#: Phrases the notebooks use (regular expression, case-insensitive) -> the glossary entry that defines them.
VOCABULARY = {
    r"multi-armed bandit": "multi-armed bandit", r"pseudo-regret": "pseudo-regret",
    r"cumulative regret": "cumulative regret", r"regret decomposition": "regret decomposition",
    r"explor(e|ation)": "exploration", r"\bgreedy\b": "greedy", r"optimism": "optimism",
    r"hoeffding": "Hoeffding", r"chernoff": "Chernoff", r"thompson sampling": "Thompson sampling",
    r"\bposterior": "posterior", r"\bprior\b": "prior", r"conjugate": "conjugate prior",
    r"\bbeta\b": "Beta distribution", r"adversar": "adversarial bandit", r"softmax": "softmax",
    r"\blogits?\b": "logit", r"policy gradient": "policy gradient", r"\bbaseline\b": "baseline",
    r"\bentropy\b": "entropy", r"consistent": "consistent policy", r"contextual bandit": "contextual bandit",
    r"linear thompson": "linear Thompson sampling", r"ridge": "ridge regression", r"sherman": "Sherman-Morrison",
    r"cholesky": "Cholesky", r"\breplay": "replay", r"\boracle\b": "oracle", r"headroom": "headroom",
    r"common random numbers": "common random numbers", r"non-stationar": "non-stationarity",
    r"delayed": "delayed feedback", r"cold[- ]start": "cold start", r"\bbaskets?\b": "basket",
    r"cancellation": "cancellation", r"ledger": "cleaning ledger", r"season": "seasonality",
    r"time split": "time split", r"validation": "validation", r"discovery": "discovery task",
    r"transformer": "Transformer", r"attention": "attention", r"tokenis": "tokenisation",
    r"embedding": "embedding", r"cosine": "cosine similarity", r"mean[- ]pool": "mean pooling",
    r"fine-tun": "fine-tuning", r"frozen": "frozen layers", r"two-tower": "two-tower model",
    r"(user|item) tower": "item tower", r"negative sampl": "negative sampling", r"sampled softmax": "sampled softmax",
    r"cross-entropy": "cross-entropy", r"\bepochs?\b": "epoch", r"learning rate": "learning rate",
    r"early stopping": "early stopping", r"logistic regression": "logistic regression",
    r"collaborative filtering": "collaborative filtering", r"item-cf": "item-CF",
    r"content-based": "content-based recommendation", r"popularity": "popularity", r"trending": "trending",
    r"\bslates?\b": "slate", r"relevance": "relevance", r"re-rank": "re-ranking", r"hit rate": "hit rate",
    r"\brecall\b": "recall", r"diversity": "diversity", r"intra-list": "intra-list diversity",
    r"coverage": "coverage", r"long tail|long-tail": "long tail", r"\bgini\b": "Gini coefficient",
    r"lorenz": "Lorenz curve", r"exposure": "exposure", r"novelty": "novelty", r"filter bubble": "filter bubble",
    r"rich-get-richer": "rich-get-richer", r"marginal relevance": "MMR", r"determinant": "DPP",
    r"reciprocal rank": "reciprocal rank fusion", r"plackett": "Plackett-Luce", r"pareto": "Pareto front",
    r"operating point": "operating point", r"k-means": "k-means", r"silhouette": "silhouette",
    r"off-policy": "off-policy evaluation", r"logging policy": "logging policy", r"target policy": "target policy",
    r"counterfactual": "counterfactual", r"a/b test": "A/B test", r"propensit": "propensity score",
    r"importance weight": "importance weight", r"importance sampling": "importance sampling",
    r"self-normalis": "self-normalised IPS", r"clipping": "weight clipping", r"reward model": "reward model",
    r"direct method": "direct method", r"doubly robust": "doubly robust", r"cross-fit": "cross-fitting",
    r"\bbias": "bias", r"variance": "variance", r"unbiased": "unbiased", r"standard error": "standard error",
    r"bootstrap": "bootstrap confidence interval", r"paired bootstrap": "paired bootstrap",
    r"confidence band": "confidence band", r"effective sample size": "effective sample size",
    r"mixed precision": "mixed precision", r"autocast": "autocast", r"bfloat16": "bfloat16",
    r"semi-bandit": "semi-bandit feedback", r"combinatorial": "combinatorial semi-bandit",
    r"submodular": "submodular function", r"ranked bandit": "ranked bandits",
    r"strategy diversity": "strategy diversity", r"pseudo-inverse": "pseudo-inverse estimator",
    r"conditional contextual bandit": "conditional contextual bandit",
}

ACRONYM = re.compile(r"(?<![\w`/.@-])([A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*(?:-[A-Z][A-Za-z0-9]*)?)(?![\w`/])")
#: Two or more capitalised words in a row: a product description (e.g. JUMBO BAG RED RETROSPOT).
PRODUCT_NAME = re.compile(r"\b[A-Z0-9'&]{2,}(?:[ ,'-]+[A-Z0-9'&]+)*[ ,'-]+[A-Z0-9'&]{2,}\b")


def _glossary() -> dict[str, str]:
    """English entry -> Chinese entry, from the glossary table of notebook 00."""
    notebook = nbformat.read(GLOSSARY_NOTEBOOK, as_version=4)
    cell = next(c.source for c in notebook.cells if c.cell_type == "markdown" and "Glossary" in c.source)
    table = cell[cell.index("Glossary"):]
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ")]
    return {english.strip(): chinese.strip() for english, chinese, _ in rows[1:]}


def _prose(path) -> str:
    """The notebook's markdown without code, maths, links and HTML."""
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    for pattern in (r"```.*?```", r"`[^`]*`", r"\$\$.*?\$\$", r"\$[^$]*\$", r"\]\([^)]*\)", r"https?://\S+", r"<[^>]+>"):
        text = re.sub(pattern, " ", text, flags=re.DOTALL)
    return text


def _covers(entries, term: str, case_sensitive: bool) -> bool:
    flags = 0 if case_sensitive else re.IGNORECASE
    return any(re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", entry, flags) for entry in entries)


def test_glossary_rows_are_complete_and_distinct():
    glossary = _glossary()
    assert len(glossary) >= 50
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert all(cjk.search(chinese) for chinese in glossary.values()), "every entry needs a Chinese term"
    words = [w.strip().lower() for english in glossary for w in re.split(r" / |, |\(|\)", english) if w.strip()]
    repeated = {w for w in words if words.count(w) > 1}
    assert not repeated, f"terms defined twice: {repeated}"


@pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])
def test_every_acronym_is_in_the_glossary(path):
    glossary = _glossary()
    prose = PRODUCT_NAME.sub(" ", _prose(path))
    acronyms = {m for m in ACRONYM.findall(prose) if sum(ch.isupper() for ch in m) >= 2} - NOT_TERMS
    singular = {re.sub(r"(?<=[A-Z0-9])s$", "", a) for a in acronyms}  # GPUs -> GPU
    missing = sorted(a for a in singular if not _covers(glossary, a, True))
    assert not missing, f"add to the glossary of notebook 00 (or to NOT_TERMS if a name): {missing}"


@pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])
def test_every_vocabulary_term_used_is_in_the_glossary(path):
    glossary = _glossary()
    prose = _prose(path)
    used = {entry for pattern, entry in VOCABULARY.items() if re.search(pattern, prose, re.IGNORECASE)}
    missing = sorted(entry for entry in used if not _covers(glossary, entry, False))
    assert not missing, f"add to the glossary of notebook 00: {missing}"


def test_the_vocabulary_check_can_fail():
    assert not _covers(_glossary(), "stochastic gradient Langevin dynamics", False)
    assert _covers({"hit rate (HitRate@k), recall": ""}, "HitRate", True)
