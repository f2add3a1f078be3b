"""escalation: an agent-based model of escalation and deterrence in Iraq, 2020, on Mesa 3."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escalation")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"
