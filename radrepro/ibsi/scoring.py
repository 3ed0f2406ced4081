"""The IBSI 1 reference workbook's scoring rule, written down.

The IBSI 1 compliance workbook (``IBSI-1-submission-table.xlsx``) checks each value with::

    difference = ABS(ROUNDDOWN(ref - yours, 3 - (1 + INT(LOG10(ABS(ref))))))   ; ref == 0: ABS(ROUNDDOWN(ref - yours, 0))
    check      = "match" if difference <= tol else ("partial match" if difference < 3 * tol else "no match")

``ROUNDDOWN(x, n)`` truncates ``x`` towards zero at ``n`` decimals (``n`` may be negative), so the
difference is truncated at the decimal place of the reference value's third significant digit.
``INT`` rounds down (towards minus infinity). As in Excel, the difference is first taken to 15
significant digits, so that floating-point noise (``2.9999999999999996``) does not truncate a
digit away. See ``ibsi1/reference_values/README.md`` of the IBSI data.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

MATCH = "match"
PARTIAL = "partial match"
NO_MATCH = "no match"
MISSING = "missing"
NOT_STANDARDISED = "not standardised"
VERDICTS = (MATCH, PARTIAL, NO_MATCH, MISSING)


def decimals(reference: float) -> int:
    """Decimal place of the third significant digit of ``reference`` (``ROUNDDOWN``'s digits).

    >>> decimals(556), decimals(0.698), decimals(-2.46), decimals(1.58e9), decimals(0)
    (0, 3, 2, -7, 0)
    """
    if reference == 0:
        return 0
    return 3 - (1 + math.floor(math.log10(abs(reference))))


def difference(value: float, reference: float) -> float:
    """``ABS(ROUNDDOWN(reference - value, decimals(reference)))``; NaN if ``value`` is not finite."""
    if not math.isfinite(value):
        return math.nan
    n = decimals(reference)
    diff = Decimal(f"{reference - value:.15g}")
    return abs(float(diff.scaleb(n).to_integral_value(rounding=ROUND_DOWN).scaleb(-n)))


def verdict(value: float | None, reference: float, tolerance: float) -> str:
    """The workbook's check: ``match``, ``partial match`` or ``no match`` (``missing`` for no value).

    Parameters
    ----------
    value
        The computed value; ``None`` when the feature was not computed (``missing``). A NaN is a
        computed but undefined value and never matches.
    reference, tolerance
        The reference value and its tolerance.
    """
    if value is None:
        return MISSING
    d = difference(float(value), float(reference))
    if math.isnan(d):
        return NO_MATCH
    if d <= tolerance:
        return MATCH
    if d < 3 * tolerance:
        return PARTIAL
    return NO_MATCH
