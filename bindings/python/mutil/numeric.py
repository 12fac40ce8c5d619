# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""Rounding to a step and price formatting (mu_numeric.h).

    mutil.round_step(0.24, 0.07, 'down')    # 0.21
    mutil.round_step(3.3, 0.1)              # 3.3, not 3.3000000000000003
    mutil.fmt_price(1234567.5)              # '1,234,567.50'
    mutil.fmt_price(3.6642100003)           # '3.6642'
    mutil.fmt_price_pad(3.3, 10)            # '      3.30'
    mutil.fmt_decimal(-9876.54321, 0, 3, "'")  # "-9'876.543"

Values are floats (ints are converted). A bad argument (step <= 0 or
NaN, decimals out of range, a separator that is a digit, '-' or '.')
raises mutil.InvalidError, a ValueError.
"""
from ._lib import check, ffi, lib

_MODES = {'nearest': lib.MU_ROUND_NEAREST, 'down': lib.MU_ROUND_DOWN, 'up': lib.MU_ROUND_UP}


def round_step(x, step, mode='nearest'):
    """x rounded to a multiple of step: 'nearest' (a tie away from zero),
    'down' (towards -infinity) or 'up' (towards +infinity), snapped to
    step's decimals. NaN and infinities come back unchanged."""
    try:
        c_mode = _MODES[mode]
    except (KeyError, TypeError):
        raise ValueError("mode must be 'nearest', 'down' or 'up', not %r" % (mode,)) from None
    out = ffi.new('double *')
    check(lib.mu_round_step(float(x), float(step), c_mode, out))
    return out[0]


def _format(call):
    """Runs call(buffer, size) like snprintf, growing the buffer when the
    text did not fit; returns the text."""
    size = 64
    while True:
        buf = ffi.new('char[]', size)
        n = check(call(buf, size))
        if n < size:
            return ffi.string(buf, n).decode('ascii')
        size = n + 1


def fmt_decimal(value, min_decimals=0, max_decimals=6, separator='', width=0):
    """value with min_decimals to max_decimals decimals (trailing zeros
    beyond the minimum removed), separator ('' or None: none) between
    groups of three integer digits, right-aligned to width characters."""
    if separator is None or separator == '':
        sep = b'\0'
    elif isinstance(separator, str) and len(separator) == 1 and separator.isascii():
        sep = separator.encode('ascii')
    else:
        raise ValueError('separator must be one ASCII character or empty, not %r' % (separator,))
    return _format(lambda buf, size: lib.mu_fmt_decimal(buf, size, float(value), int(min_decimals),
                                                        int(max_decimals), sep, int(width)))


def fmt_price(value):
    """value as a price: 2 to 4 decimals, ',' between thousands."""
    return _format(lambda buf, size: lib.mu_fmt_price(buf, size, float(value)))


def fmt_price_pad(value, width):
    """fmt_price right-aligned with spaces to width characters."""
    return _format(lambda buf, size: lib.mu_fmt_price_pad(buf, size, float(value), int(width)))
