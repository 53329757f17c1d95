"""`python -m server ...`: the `simulcast` command without installing the package."""

from .cli import main

raise SystemExit(main())
