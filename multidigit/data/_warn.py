"""Warnings that point at the user's line, not at ours."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside multidigit.

    By hand because ``skip_file_prefixes`` needs Python 3.12; the depth of our own
    call chain differs per source (mini, folder, hub), so a fixed stacklevel would
    point at the wrong line.
    """
    level, frame = 2, sys._getframe(1)  # stacklevel 2: warn_user's caller
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
