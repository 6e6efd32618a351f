"""Reading TOML files (configs and catalogs) with errors a user can act on."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from riskoff.util.errors import ConfigError


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; a missing file or a syntax error is a ConfigError naming the file.

    Args:
        path: the file.
        what: what the file is, for the message ("config file", "window catalog", ...).
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        from riskoff.util.errors import os_error
        raise os_error(exc, path, f"read the {what}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
