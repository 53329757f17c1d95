"""`python -m kiosk`, and the entry script PyInstaller freezes into `simulcast-kiosk`."""

# Absolute import: PyInstaller runs this file as a top-level script, not as part of the package.
from kiosk.cli import main

raise SystemExit(main())
