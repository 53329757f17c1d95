"""What pyproject.toml cannot say: `pip install .` carries the pages (browser/) and the samples
(static/) inside the server package, as server/web and server/samples, so an installed server
finds them wherever it runs (server/config.py looks there first)."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["server", "server.*", "shared", "shared.*", "kiosk", "kiosk.*"]),
        "server.web",
        "server.samples",
    ],
    package_dir={"server.web": "browser", "server.samples": "static"},
    package_data={
        "server.web": ["**/*"],
        "server.samples": ["*.webm", "README.md"],
        "kiosk": ["assets/*"],
    },
)
