from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class Payment(metaclass=PoolMeta):
    __name__ = 'telecom.payment'

    @classmethod
    def post(cls, payments):
        """Lines suspended for arrears whose debt the payments clear are
        restored in the same transaction"""
        Account = Pool().get('telecom.account')
        super().post(payments)
        # a consequence of the payment, not something the cashier needs
        # rights on
        with without_check_access():
            Account.restore_paid(
                Account.browse({p.account.id for p in payments}))
