#!/usr/bin/env bash
# Everything the offline tests need from the network, fetched while it is there:
# - every workspace member built (its sdist, then the wheel from that sdist) into DIST_DIR, and the
#   third-party wheels uv.lock pins (hash-checked, from PyPI) into WHEELHOUSE:
#   tests/test_distributions.py and tests/test_wheel_install.py read the two folders
#   (REFORMATTERS_WHEEL_DIR, REFORMATTERS_WHEELHOUSE);
# - the registry metadata of every locked package, into uv's cache: tests/test_scaffold.py re-locks
#   a copy of the workspace with a new member offline (`uv run --frozen` never fetches it). This
#   also fails if uv.lock is out of date.
# Used by .ci/run and .github/workflows/ci.yml; run from anywhere in the repository.
#
#   .github/scripts/build-distributions.sh DIST_DIR WHEELHOUSE
set -euo pipefail
dist_dir="$1"
wheelhouse="$2"
cd "$(dirname "$0")/../.."
mkdir -p "$dist_dir" "$wheelhouse"

uv lock --locked --refresh --quiet

for pyproject in core/pyproject.toml tools/pyproject.toml packages/*/pyproject.toml tests/example-plugin/pyproject.toml; do
  name="$(sed -n 's/^name = "\(.*\)"/\1/p' "$pyproject" | head -n 1)"
  uv build --quiet --package "$name" --out-dir "$dist_dir"
done

# pip only downloads here (uv has no download command); the machine's pip configuration (extra
# indexes, find-links) is ignored so that every file comes from PyPI with the lock's hashes.
uv export --frozen --no-emit-workspace --no-dev --all-packages --no-header --no-annotate \
  --output-file "$wheelhouse/requirements.txt" >/dev/null
env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
  uv tool run --python 3.13 --from 'pip>=24.2' pip download --quiet --disable-pip-version-check \
  --only-binary :all: --no-deps --require-hashes \
  --requirement "$wheelhouse/requirements.txt" --dest "$wheelhouse"
