# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.round_step and the price formatters: the seed's examples
(mutil-readme.txt: 3.3 as 3.30, 3.6642100003 as 3.6642), edges (negative,
huge, NaN, infinities, -0.0, long texts) and every InvalidError."""
import math

import pytest

import mutil


def test_round_step_seed_and_modes():
    assert mutil.round_step(0.24, 0.07, 'up') == 0.28
    assert mutil.round_step(0.24, 0.07, 'down') == 0.21
    assert mutil.round_step(0.01, 0.07, 'up') == 0.07
    r = mutil.round_step(-0.01, 0.07, 'up')
    assert r == 0.0 and math.copysign(1, r) == 1        # +0.0, not -0.0
    assert mutil.round_step(-0.01, 0.07, 'down') == -0.07
    assert mutil.round_step(3.3, 0.1) == 3.3
    assert mutil.round_step(12.345, 0.05) == 12.35
    assert mutil.round_step(1.13, 0.05) == 1.15
    assert mutil.round_step(-1.5, 1) == -2.0             # a tie away from zero
    assert mutil.round_step(7, 5) == 5.0                 # ints accepted


def test_round_step_edges():
    assert math.isnan(mutil.round_step(float('nan'), 0.5))
    assert mutil.round_step(float('inf'), 0.5) == float('inf')
    assert mutil.round_step(-float('inf'), 0.5, 'down') == -float('inf')
    assert mutil.round_step(1e300, 0.01) == 1e300


@pytest.mark.parametrize('step', [0, -0.5, float('nan'), float('inf')])
def test_round_step_bad_step(step):
    with pytest.raises(mutil.InvalidError):
        mutil.round_step(1.0, step)
    with pytest.raises(ValueError):                       # InvalidError is a ValueError
        mutil.round_step(1.0, step)


def test_round_step_bad_mode():
    with pytest.raises(ValueError):
        mutil.round_step(1.0, 0.5, 'sideways')
    with pytest.raises(ValueError):
        mutil.round_step(1.0, 0.5, None)


def test_fmt_price_seed():
    assert mutil.fmt_price(3.3) == '3.30'
    assert mutil.fmt_price(3.6642100003) == '3.6642'
    assert mutil.fmt_price(1234567.5) == '1,234,567.50'
    assert mutil.fmt_price(-9876.54321) == '-9,876.5432'
    assert mutil.fmt_price(-0.0) == '0.00'
    assert mutil.fmt_price(-0.00001) == '0.00'
    assert mutil.fmt_price(float('nan')) == 'nan'
    assert mutil.fmt_price(float('inf')) == 'inf'
    assert mutil.fmt_price(-float('inf')) == '-inf'


def test_fmt_price_pad_and_long_text():
    assert mutil.fmt_price_pad(3.3, 10) == '      3.30'
    assert mutil.fmt_price_pad(1234567.891, 4) == '1,234,567.891'  # longer: not cut
    assert mutil.fmt_price_pad(1, 0) == '1.00'
    huge = mutil.fmt_price(1e300)                      # > 64 bytes: the buffer grows
    assert len(huge) > 300 and huge.endswith('.00') and huge.startswith('1,000,000,')
    assert len(mutil.fmt_price_pad(1, 200)) == 200
    with pytest.raises(mutil.InvalidError):
        mutil.fmt_price_pad(1, -1)


def test_fmt_decimal():
    assert mutil.fmt_decimal(-9876.54321, 0, 3, "'") == "-9'876.543"
    assert mutil.fmt_decimal(2.5, 0, 0) == '2'          # printf's tie to even
    assert mutil.fmt_decimal(1234.5, 2, 2, ',', 12) == '    1,234.50'
    assert mutil.fmt_decimal(1234.5, 1, 4, None) == '1234.5'
    assert mutil.fmt_decimal(0.1, 17, 17) == '0.10000000000000001'


@pytest.mark.parametrize('args', [
    (1.0, -1, 2),            # min < 0
    (1.0, 3, 2),             # max < min
    (1.0, 0, 18),            # max > 17
    (1.0, 0, 2, '5'),        # separator a digit
    (1.0, 0, 2, '-'),
    (1.0, 0, 2, '.'),
    (1.0, 0, 2, '', -3),     # width < 0
])
def test_fmt_decimal_invalid(args):
    with pytest.raises(mutil.InvalidError):
        mutil.fmt_decimal(*args)


@pytest.mark.parametrize('sep', ['ab', 'é', 5])
def test_fmt_decimal_bad_separator_type(sep):
    with pytest.raises(ValueError):
        mutil.fmt_decimal(1.0, 0, 2, sep)
