"""Install graphsurgeon with its test tools, keeping the TensorFlow that is installed.

    python tools/install.py        # the README's Quick start runs this

`pip install -e '.[test]'` alone keeps an installed TensorFlow that pyproject.toml admits, but the
tests also need tf_keras (it writes and reads the Keras 2 fixtures), and each tf_keras release
requires its own TensorFlow minor: an unpinned tf_keras makes pip replace TensorFlow with the newest.
So this script asks pip for the installed TensorFlow, exactly, and for the tf_keras of its minor.
With no TensorFlow installed, pip first installs the newest one pyproject.toml declares.

A TensorFlow outside the declared range is never replaced: pip refuses, and the script says why.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERSION_OF = "import sys; from importlib import metadata; print(metadata.version(sys.argv[1]))"


def installed(package: str) -> str | None:
    """The installed version of `package` in this interpreter's environment, asked afresh (pip may
    have just installed it)."""
    found = subprocess.run([sys.executable, "-c", VERSION_OF, package], capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else None


def pip_install(*requirements: str) -> int:
    return subprocess.call([sys.executable, "-m", "pip", "install", "-q", *requirements])


def main() -> int:
    if installed("tensorflow") is None and pip_install("-e", str(REPO)) != 0:  # the newest declared TensorFlow
        return 1
    tensorflow = installed("tensorflow")
    if tensorflow is None:
        sys.exit("tools/install.py: pip installed graphsurgeon but not its `tensorflow` dependency")
    minor = ".".join(tensorflow.split(".")[:2])
    if pip_install("-e", f"{REPO}[test]", f"tensorflow=={tensorflow}", f"tf_keras=={minor}.*") != 0:
        sys.exit(f"tools/install.py: pip would not install graphsurgeon beside tensorflow {tensorflow} (its "
                 "reason is above; graphsurgeon's range is the `tensorflow` dependency in pyproject.toml)")
    print(f"graphsurgeon installed beside tensorflow {tensorflow}, tf_keras {installed('tf_keras')}, "
          f"keras {installed('keras')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
