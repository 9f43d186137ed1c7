"""Running the pages under uvicorn: N worker processes, each with its own engine process.

uvicorn's supervisor starts ``workers`` processes on one listening socket and starts a new one
when a worker dies; each worker builds the app (:func:`.app.app_from_environment`), whose engine
process loads the knowledge and rule base once (:mod:`.engine`). uvicorn's own access log is
off: it writes query strings. The app's (``hipcoach.web.access``) writes the method, the path,
the status and the time only.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn

from ..errors import HipcoachError
from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.cache import load_bases
from .app import ENV_KB, ENV_RULES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: The app factory each worker imports.
FACTORY = "hipcoach.web.app:app_from_environment"


class CannotListen(HipcoachError):
    """The address cannot be listened on: in use, not this machine's, or not allowed."""

    def __init__(self, host: str, port: int, problem: str) -> None:
        self.host, self.port, self.problem = host, port, problem
        super().__init__(f"cannot listen on {host}:{port}: {problem}")


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` once and let it go, so that a port in use is one clear error before
    any worker starts, not a log line after."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotListen(host, port, f"unknown host ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = "; choose another --port" if exc.errno == 98 else ""
            raise CannotListen(host, port, f"{exc.strerror or exc}{hint}") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """The one-line warning for a server other machines can reach; none on loopback."""
    if is_loopback(host):
        return None
    return (f"warning: listening on {host}: answers about health will cross the network; "
            "serve it to others only behind a reverse proxy with HTTPS (see the README)")


def log_config() -> dict[str, Any]:
    """uvicorn's and hipcoach's loggers to standard error, one line each."""
    handler = {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"line": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {"stderr": handler},
            "loggers": {"uvicorn": quiet, "uvicorn.error": {**quiet, "propagate": False},
                        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
                        "hipcoach": quiet}}


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, workers: int = 1,
          knowledge: Path | None = None, rules: Path | None = None) -> None:
    """Check the address and the knowledge and rule base (a port in use or a bad file is one
    error before anything listens), then serve until interrupted."""
    check_address(host, port)
    load_bases(Path(knowledge or knowledge_dir()), Path(rules or rules_dir()))
    for key, folder in ((ENV_KB, knowledge), (ENV_RULES, rules)):
        if folder is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = str(Path(folder).resolve())
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=log_config(), server_header=False,
                date_header=False, proxy_headers=False)
