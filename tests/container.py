"""Build and run Duta's container image without a Docker engine, with buildah.

In: the repository's files and the machine's buildah, podman and debootstrap
(scripts/test.sh installs them). Out: a local base image made by debootstrap and
cached on this machine, the image built from the Dockerfile on it, and working
containers to run commands in as the image's user.

The base image has no registry to come from: Debian is bootstrapped once into a
tarball under `CACHE_DIR` and imported; later runs reuse the imported image, or
re-import the tarball if the image store was wiped. `buildah bud --layers` keeps the
dependency layer between runs, so a rebuild after a code change skips `pip install`.
Commands run with `--isolation chroot`: inside the image's files, as its user, on the
host's network (the default OCI runtime cannot start here).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(os.environ.get("DUTA_TEST_CACHE_DIR", "/var/cache/duta-test"))
BASE_IMAGE = "localhost/duta-base:bookworm"
IMAGE = "localhost/duta-test"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
TOOLS = ("buildah", "podman", "debootstrap")
ISOLATION = ("--isolation", "chroot")


class ContainerError(RuntimeError):
    """A buildah, podman or debootstrap command failed; carries what it printed."""


def _run(argv: Sequence[str], *, timeout: float, **kwargs: Any) -> str:
    """Run one tool command; its stdout, or ContainerError with its output."""
    done = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if done.returncode != 0:
        raise ContainerError(
            f"{' '.join(argv[:3])} … exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return str(done.stdout)


def missing_tools() -> list[str]:
    """The container tools not on PATH (scripts/test.sh installs them)."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def unavailable() -> str | None:
    """Why images cannot be built on this machine at all (a skip reason), or None.

    Missing tools are not such a reason when running as root: they can be installed,
    and the caller should fail saying so (`missing_tools`).
    """
    if os.geteuid() != 0:
        return "building images with buildah needs root (chroot isolation, image store)"
    if shutil.which("buildah") is None:
        return None
    probe = subprocess.run(
        ["buildah", "info"], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        return f"buildah cannot run on this machine: {probe.stderr.strip()[-500:]}"
    return None


def image_exists(name: str) -> bool:
    """Whether the local image store (shared by buildah and podman) holds `name`."""
    done = subprocess.run(
        ["podman", "image", "exists", name], capture_output=True, timeout=60, check=False
    )
    return done.returncode == 0


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`, so two test runs do not bootstrap at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_base_image(cache_dir: Path = CACHE_DIR, name: str = BASE_IMAGE) -> str:
    """The debootstrapped Debian base image, imported once and then reused; its name."""
    if image_exists(name):
        return name
    with _locked(cache_dir / "base.lock"):
        if image_exists(name):  # another run made it while this one waited
            return name
        tarball = cache_dir / f"duta-base-{DEBIAN_SUITE}.tar"
        if not tarball.exists():
            _bootstrap(tarball)
        _run(["podman", "import", str(tarball), name], timeout=600)
    return name


def _bootstrap(tarball: Path) -> None:
    """debootstrap a minimal Debian with python3 and pack it as `tarball`."""
    rootfs = tarball.with_suffix(".rootfs")
    partial = tarball.with_suffix(".partial")
    shutil.rmtree(rootfs, ignore_errors=True)
    try:
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={BASE_PACKAGES}",
                DEBIAN_SUITE,
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            timeout=1200,
        )
        _run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], timeout=600)
        partial.replace(tarball)  # only a complete tarball is ever reused
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
        partial.unlink(missing_ok=True)


def copy_context(repo: Path, dest: Path) -> Path:
    """Copy the repository's files (tracked, or new and not ignored) to `dest`; `dest`.

    Whatever git ignores (.venv, data, caches, node_modules) and whatever was deleted
    never reaches the build; .dockerignore then narrows the context further.
    """
    listed = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        timeout=60,
        cwd=repo,
    )
    for relative in sorted(set(filter(None, listed.split("\0")))):
        source = repo / relative
        if not source.is_file():  # deleted in the work tree, or a submodule
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


def build_image(context: Path, *, base: str = BASE_IMAGE, tag: str = IMAGE) -> None:
    """`buildah bud` the Dockerfile in `context` on `base` as CONTAINER.md does, tagged `tag`.

    The `deps` stage is tagged too (`tag`-deps), so removing the images earlier builds
    left behind keeps the layer with the installed dependencies for the next build.
    """
    argv = ["buildah", "bud", *ISOLATION, "--format", "docker", "--layers", "--pull=never"]
    if CA_BUNDLE.exists():  # pip in the build must trust this machine's CA; not kept in the image
        argv += ["--volume", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "--build-arg", f"PIP_CERT={CA_BUNDLE}"]
    argv += ["--build-arg", f"BASE_IMAGE={base}"]
    _run([*argv, "--target", "deps", "-t", f"{tag}-deps", str(context)], timeout=1200)
    _run([*argv, "-t", tag, str(context)], timeout=1200)
    # untagged leftovers of earlier builds: each holds a copy of the virtual environment
    _run(["buildah", "rmi", "--prune"], timeout=300)


def image_config(image: str) -> dict[str, Any]:
    """The image's Docker configuration (Entrypoint, Cmd, User, Healthcheck, ExposedPorts…)."""
    inspected = json.loads(_run(["buildah", "inspect", "--type", "image", image], timeout=60))
    config: dict[str, Any] = inspected["Docker"]["config"]
    return config


@dataclass(frozen=True)
class Container:
    """A buildah working container; commands run in it as `user`."""

    name: str
    user: str

    def argv(self, command: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
        """The `buildah run` command line that runs `command` in this container."""
        argv = ["buildah", "run", *ISOLATION, "--user", self.user]
        for key, value in (env or {}).items():
            argv += ["--env", f"{key}={value}"]
        return [*argv, self.name, "--", *command]

    def run(
        self, command: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` to completion; its exit status and output, whatever they are."""
        return subprocess.run(
            self.argv(command, env), capture_output=True, text=True, timeout=timeout, check=False
        )

    def copy(self, source: Path, destination: str) -> None:
        """Copy a host file into the container, owned by the container's user."""
        _run(
            ["buildah", "copy", "--chown", self.user, self.name, str(source), destination],
            timeout=60,
        )


@contextmanager
def working_container(image: str, user: str) -> Iterator[Container]:
    """A fresh working container of `image`, removed afterwards whatever happened."""
    name = _run(["buildah", "from", "--pull=never", image], timeout=300).strip()
    try:
        yield Container(name=name, user=user)
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True, timeout=120, check=False)


def chroot_child(runner_pid: int) -> int | None:
    """The pid of the command `buildah run` started in the chroot, once it is running.

    `buildah run` answers SIGTERM by killing its command outright, so a graceful stop
    is sent to the command itself: the child of buildah's `buildah-chroot-exec` helper.
    """
    for pid in _descendants(runner_pid):
        parent = _parent(pid)
        if parent is not None and _command(parent).startswith("buildah-chroot-exec"):
            return pid
    return None


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := _parent(int(entry.name))) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended meanwhile
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    return int(stat.rpartition(")")[2].split()[1])


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def scratch_dir() -> Path:
    """A fresh temporary directory for a build context (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix="duta-context-"))
