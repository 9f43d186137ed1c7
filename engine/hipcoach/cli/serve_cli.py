"""``hipcoach serve``: the questionnaire and the plan as web pages (the ``web`` extra)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import engine_options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on. Anything but this machine's own (127.0.0.1) "
                   "lets others reach the pages: put it behind a reverse proxy with HTTPS.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="The port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes; each plans for one request at a time.")
@engine_options
def serve(host: str, port: int, workers: int, kb: Path | None, rules: Path | None) -> None:
    """Serve the questionnaire, the plan and the six-week programme as web pages.

    Open http://127.0.0.1:8000/ in a browser. Nothing a runner enters is kept: the answers
    travel in the pages, and the files (handout, plan, answers, journal, calendar) are
    downloaded. Stop it with Ctrl+C. Needs `pip install 'hipcoach[web]'`.
    """
    try:
        from ..web.server import exposure_warning
        from ..web.server import serve as run
    except ImportError as exc:
        raise click.ClickException(f"hipcoach serve needs the web extra ({exc.name} is not "
                                   "installed): pip install 'hipcoach[web]'") from None
    warning = exposure_warning(host)
    if warning:
        click.echo(warning, err=True)
    click.echo(f"hipcoach: serving on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    run(host, port, workers, kb, rules)
