"The billing actions open one tab each (see crm_telecom's test_actions)"
from trytond.tests.test_tryton import activate_module

from crm_telecom.tests import test_actions


class BillingActionsTestCase(test_actions.ActionsTestCase):
    "Keywords, relate actions and menu entries with billing"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_billing')
