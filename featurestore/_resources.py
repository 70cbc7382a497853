"""Where the project's shipped files live, from a source checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent


def resource_path(*parts: str) -> Path:
    """Return the path of a shipped resource such as ``sql/store`` or ``configs``.

    A source checkout keeps them at the top level (the layout users asked for);
    a wheel carries them under ``featurestore/_shipped`` (see pyproject.toml).
    """
    for root in (_CHECKOUT_DIR, _PACKAGE_DIR / "_shipped"):
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    return _CHECKOUT_DIR.joinpath(*parts)
