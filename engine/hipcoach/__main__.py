"""``python -m hipcoach``: the ``hipcoach`` command, for when its script is not on PATH."""

from .cli import cli

cli()
