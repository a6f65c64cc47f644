"""`make bench`: run every benchmark module in this folder (each has a `main()`), or the ones named.

python -m benchmarks                    # all
python -m benchmarks inbox              # just benchmarks/inbox.py
python -m benchmarks sync --part sim    # options after the names go to each benchmark
"""

import importlib
import os
import pkgutil
import sys
from pathlib import Path

import django


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    django.setup()
    folder = Path(__file__).resolve().parent
    split = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = argv[:split], argv[split:]
    names = names or sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== benchmarks/{name}.py", flush=True)
        module.main(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
