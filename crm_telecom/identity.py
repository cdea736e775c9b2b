"""Resident identity card numbers (GB 11643-1999).

Eighteen characters: six digits of the issuing region, the birth date as
YYYYMMDD, a three-digit sequence (odd for men) and an ISO 7064 MOD 11-2
check character (0-9 or X).
"""
import datetime as dt
import re

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = '10X98765432'
_FORMAT = re.compile(r'^\d{17}[\dX]$')


def compact(code):
    return (code or '').strip().replace(' ', '').upper()


def check_character(first17):
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def birth_date(code):
    "Return the birth date written in the number, or None if impossible"
    code = compact(code)
    try:
        return dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return None


def error(code, today=None):
    """Return why the number is invalid: 'format', 'birth_date' or
    'checksum'; None when it is valid."""
    code = compact(code)
    if not _FORMAT.match(code):
        return 'format'
    born = birth_date(code)
    today = today or dt.date.today()
    if not born or born > today or born.year < 1900:
        return 'birth_date'
    if check_character(code[:17]) != code[17]:
        return 'checksum'
    return None


def is_valid(code, today=None):
    return error(code, today=today) is None


def mask(code):
    "Keep the region prefix and the last four characters"
    code = compact(code)
    if len(code) < 9:
        return '*' * len(code)
    return code[:4] + '*' * (len(code) - 8) + code[-4:]


def make(region_code, born, sequence):
    "Build a valid number (used by demo data and tests)"
    first17 = '%06d%s%03d' % (int(region_code), born.strftime('%Y%m%d'),
        sequence % 1000)
    return first17 + check_character(first17)


def age(code, on_date):
    born = birth_date(code)
    if not born:
        return None
    years = on_date.year - born.year
    if (on_date.month, on_date.day) < (born.month, born.day):
        years -= 1
    return years
