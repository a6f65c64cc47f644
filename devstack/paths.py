import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    path = Path(os.environ.get("VAR_DIR") or PROJECT_DIR / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path
