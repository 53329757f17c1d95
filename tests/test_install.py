"""`pip install .` from a clone gives a working `simulcast` command: the pages and samples come
with the package, and it runs from any folder, keeping its data in the working directory.

Quick and offline: the wheel is built with this environment's setuptools, and the fresh venv
sees this one's dependencies through a .pth file instead of downloading them again."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx

from .live import ROOT, free_port, stop_process, wait_for


def run(command: list[str | Path], cwd: Path = ROOT, **env: str) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def clone(target: Path) -> Path:
    """The files a clone has: tracked ones, plus new ones not ignored (work in progress)."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
    return target


def test_pip_install_gives_a_working_simulcast_command(tmp_path: Path) -> None:
    source = clone(tmp_path / "clone")
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, source])
    (wheel,) = wheels.glob("simulcast-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    (Path(site.strip()) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([*pip, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel])

    simulcast = venv / "bin" / "simulcast"
    home = tmp_path / "srv"
    home.mkdir()
    where = run([python, "-c", "import server; print(server.__file__)"], cwd=home)
    assert where.startswith(str(venv)), "the installed package, not the source tree"
    assert "backup" in run([simulcast, "--help"], cwd=home)
    assert "ready to serve" in run([simulcast, "check"], cwd=home)

    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [simulcast, "serve"], cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/healthz", 60, server)
        page = httpx.get(url + "/")
        script = httpx.get(url + "/assets/js/sync.js")
        described = httpx.get(url + "/openapi.json")
        videos = httpx.get(url + "/videos").json()["videos"]
        sample = httpx.get(url + videos[0]["url"])
    finally:
        stop_process(server)
    assert page.status_code == 200 and "<video" in page.text
    assert script.status_code == 200
    assert described.status_code == 200 and "/video-updates" in described.json()["paths"]
    assert script.text == (ROOT / "browser" / "js" / "sync.js").read_text()
    assert [v["title"] for v in videos] == ["Red sample", "Green sample", "Blue sample"]
    assert sample.status_code == 200 and sample.content[:4] == b"\x1a\x45\xdf\xa3"  # WebM
    assert (home / "data" / "simulcast.db").is_file()  # relative to where it runs
    assert (home / "uploads").is_dir()
