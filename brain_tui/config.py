"""User configuration: `$XDG_CONFIG_HOME/brain-tui/config.toml` (else ~/.config/brain-tui/).

    theme = "brain"            # or any Textual theme: "nord", "gruvbox", "textual-dark", ...

    [keys]                     # binding id = "key[,key...]"; ids are listed in the help (?)
    "audit.follow" = "F"
    "app.quit" = "q,ctrl+q"

A broken file never stops the app: what cannot be used is reported once, as a notification.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_NAME = "config.toml"


def config_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "brain-tui"


def config_path(env: dict[str, str] | None = None) -> Path:
    return config_dir(env) / CONFIG_NAME


@dataclass(frozen=True)
class Config:
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    problems: tuple[str, ...] = ()


def load_config(path: Path | None = None) -> Config:
    path = config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as e:
        return Config(path=path, problems=(f"{path}: unreadable ({e.strerror})",))
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return Config(path=path, problems=(f"{path}: not valid TOML ({e}); using defaults",))
    except RecursionError:
        # tomllib recurses once per nesting level: a broken config must never stop the app.
        return Config(path=path, problems=(f"{path}: nested too deeply; using defaults",))
    problems: list[str] = []
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        problems.append(f'{path}: theme must be a string, like theme = "brain"')
        theme = None
    keys: dict[str, str] = {}
    table = data.get("keys", {})
    if not isinstance(table, dict):
        problems.append(f'{path}: [keys] must be a table of binding id = "key"')
        table = {}
    for binding_id, value in table.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str) or not value.strip():
            problems.append(f'{path}: keys.{binding_id} must be a key string like "ctrl+f"')
            continue
        keys[str(binding_id)] = ",".join(k.strip() for k in value.split(",") if k.strip())
    for name in sorted(set(data) - {"theme", "keys"}):
        problems.append(f"{path}: unknown setting {name!r} (known: theme, [keys])")
    return Config(theme=theme, keys=keys, path=path, problems=tuple(problems))
