#!/usr/bin/env bash
# Run graphsurgeon's suite against the oldest TensorFlow pyproject.toml declares, in a venv of its own.
#
#   bench/compat.sh [TF_VERSION] [VENV_DIR]       # default 2.17.1, /tmp/graphsurgeon-compat-<version>
#
# As a user would: TensorFlow (and the tf_keras of the same minor, for Keras 2 .h5 files) is installed
# first, then `pip install -e .[test]`; the script fails if that changed TensorFlow, tf_keras or Keras.
# Then it builds the fixtures and runs the tests. Not run in CI: it downloads TensorFlow (~600 MB).
set -euo pipefail

tf_version=${1:-2.17.1}
venv=${2:-/tmp/graphsurgeon-compat-$tf_version}
repo=$(cd "$(dirname "$0")/.." && pwd)
minor=${tf_version%.*}
python=${PYTHON:-python3}

echo "== venv $venv ($($python --version)), tensorflow==$tf_version, tf_keras==$minor.*"
$python -m venv --clear "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install "tensorflow==$tf_version" "tf_keras==$minor.*"
versions() { "$venv/bin/python" -m pip freeze | grep -iE '^(tensorflow|tf[-_]keras|keras|numpy|protobuf)==' | sort; }
before=$(versions)
echo "$before"

echo "== pip install -e .[test]"
"${pip[@]}" install -e "$repo[test]"
after=$(versions)
if [ "$before" != "$after" ]; then
    echo "FAIL: installing graphsurgeon changed the environment:"
    diff <(echo "$before") <(echo "$after") || true
    exit 1
fi
echo "unchanged: TensorFlow, tf_keras, Keras, numpy and protobuf are as installed"

echo "== fixtures/build.py"
fixtures="$venv/fixtures"
cd "$repo"
# Not the repository's own PYTHONPATH or prebuilt fixtures: this venv's install only.
env -u PYTHONPATH "$venv/bin/python" fixtures/build.py "$fixtures"

echo "== pytest"
env -u PYTHONPATH GRAPHSURGEON_TEST_FIXTURES="$fixtures" GRAPHSURGEON_CACHE_DIR="$venv/cache" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "${@:3}"
