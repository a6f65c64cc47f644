"""DynamoDB Local: AWS's own emulator, fetched from the npm registry.

The jar ships inside the npm package `amplify-dynamodb-simulator` (folder
`emulator/`). We `npm pack` a pinned version into var/, check its sha256 and
unpack only `emulator/`. Needs Java 17+ to run and npm to fetch.

    python -m devstack.dynamodb_local fetch    (what `make dynamodb-local` runs)

prints the folder holding DynamoDBLocal.jar, downloading and verifying it on first use.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from devstack.paths import var_dir as project_var_dir

PACKAGE = "amplify-dynamodb-simulator"
VERSION = "2.9.30"
TARBALL_SHA256 = "3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"


class LocalStackError(RuntimeError):
    """A prerequisite of the local stack is missing; the message says what to install."""


def require_tool(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise LocalStackError(f"`{tool}` was not found on PATH. {hint}")
    return path


def require_java() -> str:
    java = require_tool("java", "Install Java 17 or newer (e.g. `apt-get install openjdk-17-jre-headless`).")
    result = subprocess.run([java, "-version"], capture_output=True, text=True)
    first = (result.stderr or result.stdout).splitlines()[:1]
    version = first[0] if first else ""
    try:
        major = int(version.split('"')[1].split(".")[0])
    except (IndexError, ValueError):
        major = 0
    if major and major < 17:
        raise LocalStackError(f"DynamoDB Local needs Java 17 or newer; found: {version}")
    return java


def emulator_dir(var_dir: Path) -> Path:
    return var_dir / "dynamodb-local" / VERSION / "emulator"


def fetch(var_dir: Path) -> Path:
    """Return the folder holding DynamoDBLocal.jar, downloading it on first use."""
    target = emulator_dir(var_dir)
    if (target / "DynamoDBLocal.jar").exists():
        return target
    npm = require_tool("npm", "Install Node.js and npm (e.g. `apt-get install nodejs npm`) to fetch DynamoDB Local.")
    download_dir = target.parent
    download_dir.mkdir(parents=True, exist_ok=True)
    tarball = download_dir / f"{PACKAGE}-{VERSION}.tgz"
    if not tarball.exists():
        subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=download_dir, check=True, stdout=subprocess.DEVNULL
        )
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != TARBALL_SHA256:
        tarball.unlink()
        raise LocalStackError(f"{tarball.name}: sha256 {digest} does not match the pinned {TARBALL_SHA256}")
    staging = download_dir / "unpack"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("package/emulator/")]
        archive.extractall(staging, members=members, filter="data")
    shutil.rmtree(target, ignore_errors=True)
    (staging / "package" / "emulator").rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    tarball.unlink()
    return target


def command(var_dir: Path, port: int, db_path: Path | None) -> list[str]:
    """The java command line that serves DynamoDB Local on 127.0.0.1:`port`."""
    java = require_java()
    folder = fetch(var_dir)
    storage = ["-dbPath", str(db_path)] if db_path else ["-inMemory"]
    if db_path:
        db_path.mkdir(parents=True, exist_ok=True)
    return [
        java,
        "-Xmx512m",
        f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
        "-jar",
        str(folder / "DynamoDBLocal.jar"),
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        str(port),
        *storage,
    ]


def working_dir(var_dir: Path) -> Path:
    """Where to run DynamoDB Local: it writes dynamodb-local-metadata.json into its working directory."""
    path = var_dir / "dynamodb-local"
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: list[str]) -> int:
    if argv not in ([], ["fetch"]):
        print("usage: python -m devstack.dynamodb_local [fetch]", file=sys.stderr)
        return 2
    try:
        print(fetch(project_var_dir()))
    except (LocalStackError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
