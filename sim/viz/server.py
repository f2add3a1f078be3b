"""Serve the browser view with Solara, on the loopback interface and without internet.

Solara fetches its front-end (Vue/Vuetify widgets, fonts) from a CDN unless it proxies it; the
`solara-assets` package installs those files into the environment, and with the proxy on Solara
serves them itself. Telemetry and Solara's "check" request are switched off too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from sim.viz.model import SCENARIO_ENV

APP = Path(__file__).with_name("app.py")

#: Solara settings for running air-gapped (each is an environment variable Solara reads).
OFFLINE_SETTINGS = {
    "SOLARA_ASSETS_PROXY": "True",  # serve the front-end from solara-assets, not the CDN
    # A file missing from solara-assets fails at once instead of being fetched from the internet.
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/npm/",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
}


def server_command(host: str, port: int) -> list[str]:
    """`solara run` for the app: production mode (no reloader), no PyPI version check."""
    return [
        sys.executable, "-m", "solara", "run", str(APP),
        "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version",
    ]  # fmt: skip


def server_environment(scenario: Path) -> dict[str, str]:
    """This process's environment plus the scenario file and the offline settings."""
    return {**os.environ, **OFFLINE_SETTINGS, SCENARIO_ENV: str(scenario)}


def serve(scenario: Path, host: str, port: int) -> NoReturn:
    """Replace this process with the Solara server (so signals reach the server directly)."""
    sys.stdout.flush()
    os.execve(sys.executable, server_command(host, port), server_environment(scenario))
