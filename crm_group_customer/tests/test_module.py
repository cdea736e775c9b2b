from trytond.tests.test_tryton import ModuleTestCase


class CrmGroupCustomerTestCase(ModuleTestCase):
    "Test the crm_group_customer module"
    module = 'crm_group_customer'


del ModuleTestCase
