"The pre-sale pipeline of group customers: stages, investment, approval"
import unittest
from decimal import Decimal

from trytond.model.exceptions import DomainValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_group_customer.exceptions import GroupError
from crm_group_customer.tests.pipeline_tools import (
    as_user,
    group_product,
    plans,
    staffed_group,
    variant,
)
from crm_telecom.tests.tools import create_customer


def opportunity(group, products, **values):
    Opportunity = Pool().get('sale.opportunity')
    opportunity, = Opportunity.create([{
                'party': group.id,
                'lines': [('create', [{
                                'product': variant(p).id,
                                'quantity': q,
                                'unit': variant(p).default_uom.id,
                                } for p, q in products])],
                **values}])
    return opportunity


class OpportunityTestCase(unittest.TestCase):
    "Group opportunities"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_approval_then_contract(self):
        "Submitted, approved by a director, then drafted into a contract"
        Opportunity = Pool().get('sale.opportunity')
        group, manager, director = staffed_group()
        vpn = group_product()
        plan = plans()["神州行 18元畅聊卡"]
        with as_user(manager):
            opp = opportunity(group, [(vpn, 2), (plan, 30)],
                requirements="全员集团V网，30名员工换套餐",
                expected_monthly_revenue=Decimal('1000'),
                one_off_cost=Decimal('25500'))
            self.assertEqual(opp.employee, manager.employee)
            self.assertEqual(opp.payback_months, 26)
            Opportunity.opportunity([opp])
            opp.stage = 'proposal'
            opp.on_change_stage()
            self.assertEqual(opp.conversion_probability, 0.4)
            opp.save()
            with self.assertRaises(GroupError):
                Opportunity.draft_contract([opp])
            opp.approval_comment = "方案已与客户确认"
            opp.save()
            Opportunity.submit_approval([opp])
        self.assertEqual((opp.approval_state, opp.stage),
            ('submitted', 'approval'))
        with as_user(director):
            with self.assertRaises(GroupError):
                # a rejection says why
                Opportunity.reject_project([opp])
            Opportunity.approve_project([opp])
        self.assertEqual(opp.approval_state, 'approved')
        self.assertEqual(
            [(s.action, s.employee, s.comment) for s in opp.approval_steps],
            [('submitted', manager.employee, "方案已与客户确认"),
                ('approved', director.employee, None)])

        with as_user(manager):
            action = Opportunity.draft_contract([opp])
            again = Opportunity.draft_contract([opp])
        contract, = opp.contracts
        self.assertEqual(action['res_id'], [contract.id])
        self.assertEqual(again['res_id'], [contract.id])
        self.assertEqual(opp.state, 'converted')
        self.assertEqual(opp.converted_by, manager.employee)
        self.assertEqual((contract.state, contract.group, contract.opportunity),
            ('draft', group, opp))
        self.assertTrue(contract.code.startswith('HT'))
        self.assertEqual(
            sorted((l.product.name, l.quantity) for l in contract.lines),
            sorted([(vpn.name, 2), (plan.name, 30)]))

        # the contract activated wins the opportunity
        contract.document = b'%PDF-1.4'
        contract.save()
        Contract = Pool().get('telecom.group.contract')
        Contract.submit([contract])
        with as_user(director):
            Contract.approve([contract])
        self.assertEqual(opp.state, 'won')

    @with_transaction()
    def test_rejected_and_resubmitted(self):
        "A rejected project goes back to its manager, who submits it again"
        Opportunity = Pool().get('sale.opportunity')
        group, manager, director = staffed_group()
        opp = opportunity(group, [], employee=manager.employee.id,
            expected_monthly_revenue=Decimal('500'))
        self.assertIsNone(opp.payback_months)
        Opportunity.opportunity([opp])
        Opportunity.submit_approval([opp])
        with as_user(director):
            opp.approval_comment = "投资回收期过长"
            opp.save()
            Opportunity.reject_project([opp])
        self.assertEqual(opp.approval_state, 'rejected')
        self.assertEqual(opp.approval_steps[-1].comment, "投资回收期过长")
        self.assertIsNone(opp.approval_comment)
        Opportunity.submit_approval([opp])
        self.assertEqual(opp.approval_state, 'submitted')

    @with_transaction()
    def test_group_customers_only(self):
        "An opportunity is a group customer's, on telecom products"
        group, _, _ = staffed_group()
        with self.assertRaises(DomainValidationError):
            opportunity(create_customer(), [])
        with self.assertRaises(GroupError):
            Pool().get('sale.opportunity').submit_approval(
                [opportunity(group, [])])
