from trytond.tests.test_tryton import ModuleTestCase


class CrmBillingTestCase(ModuleTestCase):
    "Test the crm_billing module"
    module = 'crm_billing'


del ModuleTestCase
