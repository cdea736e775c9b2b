"""SIM card numbers (ICCID, ITU-T E.118) as the business hall scans them.

19 or 20 digits starting with 89 (telecommunications), 8986 for the cards
issued in China; a 20-digit number ends with the Luhn check digit of its
first 19. The activation wizard and the service order check them here."""
from stdnum import luhn
from stdnum.util import clean

from trytond.i18n import gettext

from .exceptions import OrderError

CHINA = '8986'


def compact(code):
    "The digits a scanner or a clerk typed, without spaces or hyphens"
    return clean(code or '', ' -').strip()


def error(code):
    """Return why the ICCID is invalid: 'format', 'country' or 'checksum';
    None when it is valid"""
    code = compact(code)
    if not code.isdigit() or len(code) not in {19, 20} or code[:2] != '89':
        return 'format'
    if not code.startswith(CHINA):
        return 'country'
    if len(code) == 20 and not luhn.is_valid(code):
        return 'checksum'
    return None


def is_valid(code):
    return isinstance(code, str) and error(code) is None


def check(code):
    "The compact ICCID, or an error naming the field and the value"
    code = compact(code)
    reason = error(code)
    if reason:
        raise OrderError(gettext(
                'crm_telecom.msg_iccid_invalid_%s' % reason, iccid=code))
    return code


def make(serial):
    "A valid Chinese ICCID of a serial number (demo data and tests)"
    first19 = CHINA + '%015d' % (int(serial) % 10 ** 15)
    return first19 + luhn.calc_check_digit(first19)
