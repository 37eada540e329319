"""Metrics on plain arrays: regret, ranking accuracy and diversity. No model or dataset inside.

Sections: regret summaries (notebook 02), ranking accuracy (notebook 03), diversity (notebook 05).
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------------
# Regret (notebook 02)

# ---------------------------------------------------------------------------------------------
# Ranking accuracy (notebook 03)

# ---------------------------------------------------------------------------------------------
# Diversity (notebook 05)
