#!/usr/bin/env bash
# The README's Quick start and test commands, run as a user would in a fresh venv that already holds
# a TensorFlow; fails if they changed any package the venv held.
#
#   bench/compat.sh TF_VERSION [VENV_DIR]   # a venv holding tensorflow==TF_VERSION, what pip brings with it
#                                           # and the tf_keras of its minor (a Keras 2 user's venv)
#   bench/compat.sh --lowest [VENV_DIR]     # every dependency pyproject.toml declares (test extra included)
#                                           # at its lower bound, on the oldest Python it declares (from pyenv)
#   PYTHON=/path/to/python3 bench/compat.sh ...   # the venv's Python (default: python3, or pyenv's for --lowest)
#   PYTEST_ADDOPTS='--deselect ...' bench/compat.sh ...   # pytest reads it in the README's test command
#
# The checkout (tracked and unignored files, as they are on disk) is copied into VENV_DIR/graphsurgeon,
# beside a link to ../shared, and the commands run there with the venv first on PATH, without
# PYTHONPATH, prebuilt fixtures or the user's op-definition cache. Every package the venv held must
# keep its version; tf_keras may be added, at TensorFlow's minor. .ci/run runs both forms.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: bench/compat.sh TF_VERSION|--lowest [VENV_DIR]}
venv=${2:-/tmp/graphsurgeon-compat-${target#--}}

if [ "$target" = --lowest ]; then
    mapfile -t environment < <(python3 - "$repo/pyproject.toml" <<'PY'
import re, sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
    lower = re.match(r"([A-Za-z0-9_.-]+)>=([^,;]+)", requirement)
    if lower is None:
        sys.exit(f"pyproject.toml: {requirement!r} declares no lower bound")
    print("==".join(lower.groups()))
print("python", re.match(r">=(\d+\.\d+)", project["requires-python"]).group(1))
PY
    )
    oldest_python=${environment[-1]#python }
    unset 'environment[-1]'
    python=${PYTHON:-$(PYENV_VERSION=$(pyenv latest "$oldest_python") pyenv which python3)}
else
    environment=("tensorflow==$target" "tf_keras==${target%.*}.*")
    python=${PYTHON:-python3}
fi

echo "== venv $venv ($("$python" --version)): ${environment[*]}"
"$python" -m venv --clear "$venv"
"$venv/bin/python" -m pip install -q "${environment[@]}"

echo "== copy of the checkout in $venv/graphsurgeon"
mkdir "$venv/graphsurgeon"
(cd "$repo" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$venv/graphsurgeon"
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/.." && pwd)/shared" "$venv/shared"
git -C "$venv/graphsurgeon" init -q && git -C "$venv/graphsurgeon" add -A  # the tests' checkout check needs git

cd "$venv/graphsurgeon"
export PATH="$venv/bin:$PATH" GRAPHSURGEON_CACHE_DIR="$venv/cache"
unset PYTHONPATH GRAPHSURGEON_TEST_FIXTURES PYENV_VERSION
held() { python -m pip freeze --exclude-editable | sort; }
before=$(held)
echo "$before" | grep -iE '^(tensorflow|tf[-_]keras|keras|numpy|protobuf)=='

mapfile -t commands < <(python tools/readme_commands.py)
echo "== ${commands[0]}"
bash -euo pipefail -c "${commands[0]}"

after=$(held)
changed=$(comm -23 <(echo "$before") <(echo "$after"))
if [ -n "$changed" ]; then
    echo "FAIL: the Quick start changed packages the venv held (held, now):"
    for line in $changed; do echo "  $line, $(echo "$after" | grep -i "^${line%%==*}==" || echo removed)"; done
    exit 1
fi
tensorflow=$(python -c "from importlib import metadata; print(metadata.version('tensorflow'))")
tf_keras=$(python -c "from importlib import metadata; print(metadata.version('tf_keras'))")
[ "${tf_keras%.*}" = "${tensorflow%.*}" ] || { echo "FAIL: tf_keras $tf_keras beside tensorflow $tensorflow"; exit 1; }
echo "unchanged: every package the venv held (tensorflow $tensorflow); tf_keras $tf_keras"

echo "== ${commands[1]}"
bash -euo pipefail -c "${commands[1]}"
