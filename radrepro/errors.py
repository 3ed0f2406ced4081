"""One exception hierarchy for everything a user can get wrong.

Every error carries what was wrong and how to fix it. The command line turns a
:class:`RadreproError` into one line on stderr and exit code 2 (a traceback only with ``--debug``);
a suite records it as the reason a case failed and goes on with the others.
"""

from __future__ import annotations


class RadreproError(Exception):
    """Base class: a problem with the user's input, settings or environment, not a bug.

    Parameters
    ----------
    message
        What was wrong, naming the file, setting or case.
    hint
        What to do about it.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.oneline())

    def oneline(self) -> str:
        """The message and the hint on one line."""
        return f"{self.message}; {self.hint}" if self.hint else self.message


class InputError(RadreproError):
    """An image, mask or table that cannot be used (missing, unreadable, empty, mismatched)."""


class SettingsError(RadreproError):
    """An unknown setting, a value of the wrong type, or a combination that makes no sense."""


class DataUnavailableError(RadreproError):
    """A data set that is not in the cache or cannot be fetched."""


class FetchError(RadreproError):
    """A download that failed after its retries, or whose content failed verification."""


class RegressionError(RadreproError):
    """The nightly gate found a regression against its baseline run."""

    exit_code = 1
