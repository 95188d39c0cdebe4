"""``python -m multidigit`` runs the command-line interface."""

from multidigit.cli import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
