"""`python -m idstore` runs the CLI."""

from idstore.cli import main

main()
