"""What pyproject.toml cannot say: `pip install .` carries the pages (browser/) and the samples
(static/) inside the server package, as server/web and server/samples, and the API description
(docs/openapi.json) as server/openapi.json, so an installed server finds them wherever it runs
(server/config.py looks there first)."""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
MAPPED = {"server.web": "browser", "server.samples": "static"}


def data(package: str, folder: str) -> dict[str, list[str]]:
    """Every file under `folder`, shipped as `package`; setuptools wants each subfolder named
    as a package of its own."""
    root = HERE / folder
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    return {".".join([package, *f.relative_to(root).parts]): ["*"] for f in folders}


package_data = {
    **{
        package: files
        for name, folder in MAPPED.items()
        for package, files in data(name, folder).items()
    },
    **data("kiosk.assets", "kiosk/assets"),
}


class BuildPy(build_py):
    """The one file of docs/ the server serves (`/openapi.json`), without shipping all of docs/."""

    def run(self) -> None:
        super().run()
        self.copy_file(str(HERE / "docs" / "openapi.json"), str(Path(self.build_lib) / "server"))


setup(
    cmdclass={"build_py": BuildPy},
    packages=[
        *find_packages(include=["server", "server.*", "shared", "shared.*", "kiosk", "kiosk.*"]),
        *package_data,
    ],
    package_dir=MAPPED,
    package_data=package_data,
)
