"""Exception and warning classes raised by :mod:`multidigit`.

Every error the package raises on bad input derives from :class:`MultidigitError`,
so ``except multidigit.MultidigitError`` catches all of them.  Each message names the
offending thing (file, folder, argument) and says what to do about it.
"""

from __future__ import annotations

__all__ = [
    "MultidigitError",
    "DataError",
    "ModelError",
    "ExplainerError",
    "TuningError",
    "ParameterError",
    "PluginWarning",
    "StorageError",
]


class MultidigitError(Exception):
    """Base class of every error raised by multidigit."""


class DataError(MultidigitError, ValueError):
    """A dataset source is missing, malformed or inconsistent."""


class ModelError(MultidigitError, ValueError):
    """A model or model file does not fit or cannot be read (a damaged ``.keras`` file,
    no ``digit_k`` heads, no Conv2D layer, another input size).  A bad argument to
    ``build_model`` is a :class:`ParameterError`."""


class ExplainerError(MultidigitError, ValueError):
    """An explainer cannot run here (backend, TensorFlow missing), is registered twice,
    or breaks its contract.  An unknown method or option is a :class:`ParameterError`."""


class TuningError(MultidigitError, RuntimeError):
    """A hyperparameter search failed (for instance every trial crashed)."""


class ParameterError(MultidigitError, ValueError):
    """A function argument is out of range or of the wrong kind.

    Like scikit-learn's ``InvalidParameterError``: one class for every bad argument of
    every public function, raised by :mod:`multidigit._param_validation`.  The message
    names the parameter, the allowed values and the value received.
    """


class StorageError(MultidigitError, OSError):
    """A file or folder cannot be written (full disk, read-only filesystem, a name too
    long); what was there before is kept.  Also an :class:`OSError`."""


class PluginWarning(UserWarning):
    """A third-party plugin could not be loaded; it was skipped."""
