"""Resident identity card numbers (GB 11643-1999) and the suite's rules.

python-stdnum (``stdnum.cn.ric``, party's identifier type ``cn_ric``) knows
the format, the check character, the birth date and the birth place. The
suite adds its own rules on top: no birth in the future or before 1900, the
compact form staff may type (spaces and hyphens), the age for age bands and
the mask shown to roles that may not see the number.
"""
import datetime as dt

from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.util import clean

from trytond.i18n import gettext

from .exceptions import IdentityError

# party's identifier type of resident ID numbers
TYPE = 'cn_ric'
_CHECK_CHARACTERS = '0123456789X'


def compact(code):
    return ric.compact(clean(code or '', ' -'))


def birth_date(code):
    "Return the birth date written in the number, or None if impossible"
    try:
        return ric.get_birth_date(compact(code))
    except (ValidationError, ValueError):
        return None


def error(code, today=None):
    """Return why the number is invalid: 'format', 'birth_date',
    'checksum' or 'birth_place'; None when it is valid."""
    code = compact(code)
    if code[-1:] not in _CHECK_CHARACTERS:
        return 'format'
    try:
        ric.validate(code)
    except (InvalidLength, InvalidFormat):
        return 'format'
    except ValidationError as exception:
        problem = exception
    else:
        problem = None
    # a wrong date is the likelier typo and explains a wrong check character
    born = birth_date(code)
    if (born is None or born > (today or dt.date.today())
            or born.year < 1900):
        return 'birth_date'
    if isinstance(problem, InvalidChecksum):
        return 'checksum'
    elif problem:
        return 'birth_place'
    return None


def check(code):
    "The compact number typed, or the suite's error naming it"
    code = compact(code)
    reason = error(code)
    if reason:
        raise IdentityError(gettext(
                'crm_telecom.msg_identity_invalid_%s' % reason, code=code))
    return code


def is_valid(code, today=None):
    return isinstance(code, str) and error(code, today=today) is None


def looks_like(code):
    "Whether the code has the shape of a resident ID, valid or not"
    code = compact(code)
    return (len(code) == 18 and code[:17].isdigit()
        and code[17] in _CHECK_CHARACTERS)


def mask(code):
    "Keep the region prefix and the last four characters"
    code = compact(code)
    if len(code) < 9:
        return '*' * len(code)
    return code[:4] + '*' * (len(code) - 8) + code[-4:]


def birth_place(code):
    """Division codes of the birth place, most precise first (district,
    city, province), with the county and province names stdnum knows;
    None when stdnum does not know the place"""
    code = compact(code)
    try:
        place = ric.get_birth_place(code)
    except (ValidationError, ValueError, KeyError):
        return None
    return {
        'codes': [code[:6], code[:4] + '00', code[:2] + '0000'],
        'county': place.get('county'),
        'province': place.get('province'),
        }


def make(region_code, born, sequence):
    "Build a valid number (used by demo data and tests)"
    first17 = '%06d%s%03d' % (int(region_code), born.strftime('%Y%m%d'),
        sequence % 1000)
    # stdnum computes the check character of a number that carries one
    return first17 + ric.calc_check_digit(first17 + 'X')


def age(code, on_date):
    born = birth_date(code)
    if not born:
        return None
    years = on_date.year - born.year
    if (on_date.month, on_date.day) < (born.month, born.day):
        years -= 1
    return years
