#!/usr/bin/env bash
# The offline classroom install of docs/offline.md, tested: build a wheelhouse where there is network,
# then install the course from it alone (pip --no-index) in a fresh virtual environment, import the
# package, check the environment and embed one product title with the BERT weights from the wheelhouse.
#
#   bash ci/offline_install.sh WORK_DIR [TORCH_SPEC]
#
# TORCH_SPEC (default torch==2.13.0, the CPU build CI's machine has on disk) picks the torch build the
# wheelhouse carries; a lab of Linux machines without NVIDIA GPUs wants a CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:?usage: ci/offline_install.sh WORK_DIR [TORCH_SPEC]}"
TORCH_SPEC="${2:-torch==2.13.0}"
mkdir -p "$WORK"

# 1. Where there is network: every wheel the course needs, the build backend of `pip install -e .` too.
python3 -m pip download -q -d "$WORK/wheelhouse" -r requirements.txt "$TORCH_SPEC" "setuptools>=68" wheel

# 2. On the lab machine: no index, no network; only the wheelhouse (and the data mirror).
python3 -m venv "$WORK/venv"
env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null \
  "$WORK/venv/bin/python" -m pip install -q --no-index --find-links "$WORK/wheelhouse" \
  -r requirements.txt "$TORCH_SPEC"
env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null \
  "$WORK/venv/bin/python" -m pip install -q --no-index --find-links "$WORK/wheelhouse" -e .

# 3. The course works there: imports, an environment check with no FAIL, BERT offline.
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$WORK/venv/bin/python" - <<'EOF'
from helpers import config, text

report = config.environment_report()
failing = report[~report.status.str.startswith("OK")]
assert failing.empty, failing.to_string()
vector = text.embed(["WHITE HANGING HEART T-LIGHT HOLDER"], text.load_encoder(device="cpu"), cache=False)
assert vector.shape == (1, 384)
print(f"offline install: {len(report)} packages OK, helpers from {config.REPO_ROOT}, "
      f"BERT embedding of shape {vector.shape}")
EOF
