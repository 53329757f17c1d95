"""A real nginx (the Debian package) on a free port, for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .live import ROOT, stop_process

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EXAMPLE = ROOT / "examples" / "nginx.conf"
NCHAN_EXAMPLE = ROOT / "examples" / "nchan.conf"
NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")

MAIN = """
{modules}
daemon off;
worker_processes {workers};
worker_rlimit_nofile {files};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections {connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{site}
}}
"""


SECURE_LINK_SECRET = "test-secure-link-secret"


def example_site(
    listen: int, app: str, static_dir: Path, upload_dir: Path, *, nchan: bool = False
) -> str:
    """examples/nginx.conf with this machine's ports and folders in place of the samples; with
    `nchan`, its proxied /video-updates block replaced by examples/nchan.conf, as documented."""
    site = EXAMPLE.read_text()
    if nchan:
        start = site.index("    location ~ ^(/c/[a-z0-9][a-z0-9-]*)?/video-updates$ {")
        end = site.index("}", start) + 1
        site = site[:start] + NCHAN_EXAMPLE.read_text() + site[end:]
    for sample, actual in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("server 127.0.0.1:8000;", f"server {app};"),
        ("/srv/simulcast/static/", f"{static_dir.resolve()}/"),
        ("/srv/simulcast/uploads/", f"{upload_dir.resolve()}/"),
        ("change-me-to-MEDIA_SECURE_LINK_SECRET", SECURE_LINK_SECRET),
    ):
        assert sample in site, f"examples/nginx.conf no longer contains {sample!r}"
        site = site.replace(sample, actual)
    return site


class NginxServer:
    def __init__(
        self, workdir: Path, site: str, port: int, workers: int = 1, connections: int = 4096
    ) -> None:
        """`site` is http-context configuration whose server listens on `port`; the nchan
        module is loaded when installed (Debian: libnginx-mod-nchan)."""
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        # As root nginx drops its workers to `nobody`, who cannot read files in test folders.
        user = "user root;" if os.geteuid() == 0 else ""
        self.config = workdir / "nginx.conf"
        workdir.mkdir(parents=True, exist_ok=True)
        modules = f"load_module {NCHAN_MODULE};" if NCHAN_MODULE.exists() else ""
        self.config.write_text(
            MAIN.format(
                modules=modules,
                workers=workers,
                connections=connections,
                files=2 * connections + 100,
                dir=workdir,
                user=user,
                site=site,
            )
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> NginxServer:
        command = [NGINX, "-p", str(self.workdir), "-c", str(self.config)]
        subprocess.run([*command, "-t", "-q"], check=True)
        self.process = subprocess.Popen(command)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / "error.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"nginx did not listen on port {self.port}")

    def stop(self) -> None:
        # TERM, not the graceful QUIT: that one waits for open event streams to end.
        stop_process(self.process)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
