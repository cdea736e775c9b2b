"Settlement periods, dealer settlements, the hold and the statement"
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.exceptions import UserError
from trytond.model.exceptions import ForeignKeyError, ValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_channel.tests.commission_tools import (
    change,
    create_period,
    create_plan,
    month,
    set_activation,
)
from crm_channel.tests.tools import (
    allocate,
    as_user,
    create_dealer,
    create_dealer_user,
    sell,
)
from crm_telecom.tests.tools import (
    create_staff,
    setup_reference,
    xlsx_report,
    xlsx_workbook,
)


def today():
    return Pool().get('ir.date').today()


class SettlementTestCase(unittest.TestCase):
    "Settlement periods and the monthly dealer settlement"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_channel')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def dealer_lines(self, count, code='GD-DL-0001', first=1):
        setup_reference()
        dealer = create_dealer(name="广州迅达通讯%s" % code, code=code)
        outlet, = dealer.outlets
        numbers = allocate(outlet, *('1390000%04d' % i
                for i in range(first, first + count)))
        lines = [sell(outlet, n, sequence=first + i)
            for i, n in enumerate(numbers)]
        create_plan(dealer, [{'kind': 'one_off', 'amount': '30'}],
            clawback_days=30, name="酬金 %s" % code)
        return dealer, lines

    @with_transaction()
    def test_dealer_named_without_its_plan(self):
        "A dealer on a plan is still named by its party, found by its code"
        Agent = Pool().get('commission.agent')
        dealer, _ = self.dealer_lines(1)
        self.assertTrue(dealer.plan)
        self.assertEqual(dealer.rec_name, dealer.party.rec_name)
        self.assertEqual(Agent.search([('rec_name', 'ilike', 'GD-DL-0001')]),
            [dealer])

    @with_transaction()
    def test_period_boundaries(self):
        "Activations on a period's last day and the next's first land once"
        Period = Pool().get('telecom.commission.period')
        dealer, lines = self.dealer_lines(2)
        first, last = month(today(), -2)
        following = month(today(), -1)
        set_activation(lines[0], last)
        set_activation(lines[1], following[0])
        periods = [create_period(first, last), create_period(*following)]
        Period.compute(periods)
        self.assertEqual(
            [[c.subscriber for c in Period(p.id).commissions]
                for p in periods],
            [[lines[0]], [lines[1]]])

    @with_transaction()
    def test_periods_overlap_or_gap(self):
        "Overlapping periods and gaps between periods are refused"
        first, last = month(today())
        create_period(first, last)
        following = create_period(last + dt.timedelta(days=1),
            last + dt.timedelta(days=30), name="next")
        gap = following.end_date + dt.timedelta(days=2)
        with self.assertRaises(ValidationError) as cm:
            create_period(gap, gap + dt.timedelta(days=30), name="gap")
        self.assertIn(str(gap - dt.timedelta(days=1)), cm.exception.message)
        with self.assertRaises(ValidationError) as cm:
            create_period(last, last, name="overlap")
        self.assertIn(first.strftime('%Y-%m'), cm.exception.message)

    @with_transaction()
    def test_settlement_states(self):
        "Preview, confirm (frozen), pay; no recompute once confirmed"
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        Commission = pool.get('commission')
        dealer, lines = self.dealer_lines(2)
        period = create_period(*month(today()))
        Period.compute([period])
        settlement, = Settlement.search([('period', '=', period.id)])
        self.assertEqual((settlement.state, settlement.total,
                settlement.activation_amount, settlement.line_count),
            ('draft', D(60), D(60), 2))
        self.assertEqual(len(settlement.lines), 2)
        Settlement.confirm([settlement])
        with self.assertRaises(UserError):
            Commission.write(list(settlement.lines), {'amount': D(1)})
        with self.assertRaises(UserError) as cm:
            Period.compute([period])
        self.assertIn(dealer.rec_name, cm.exception.message)
        Settlement.pay([settlement])
        settlement = Settlement(settlement.id)
        self.assertEqual(settlement.state, 'paid')
        self.assertIsNotNone(settlement.paid_at)
        # without a chart of accounts, settled without an invoice
        self.assertEqual(settlement.invoices, ())
        Period.close([period])
        self.assertEqual(Period(period.id).state, 'closed')

    @with_transaction()
    def test_settlement_paid_by_supplier_invoice(self):
        """With a chart of accounts and an expense account on the
        commission product, paying a settlement raises the dealer's
        supplier invoice of its total"""
        from trytond.modules.account.tests.test_module import create_chart
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        Account = pool.get('account.account')
        Category = pool.get('product.category')
        Template = pool.get('product.template')
        Address = pool.get('party.address')
        dealer, lines = self.dealer_lines(2)
        create_chart(dealer.company)
        expense, = Account.search([('type.expense', '=', True),
                ('closed', '!=', True),
                ('company', '=', dealer.company.id)], limit=1)
        with Transaction().set_context(company=dealer.company.id):
            category, = Category.create([{'name': "代理商佣金",
                        'accounting': True, 'account_expense': expense.id}])
        Template.write([dealer.plan.commission_product.template],
            {'account_category': category.id})
        period = create_period(*month(today()))
        Period.compute([period])
        settlement, = Settlement.search([('period', '=', period.id)])
        Settlement.confirm([settlement])
        with self.assertRaises(UserError) as cm:
            Settlement.pay([settlement])
        self.assertIn(dealer.rec_name, cm.exception.message)
        Address.create([{'party': dealer.party.id, 'city': "广州"}])
        manager = create_staff('channel', 'group_channel_manager',
            name="渠道经理老赵")
        with as_user(manager):
            Settlement.pay([Settlement(settlement.id)])
            # the settlement's form names its invoice
            row, = Settlement.read([settlement.id], ['invoices.rec_name'])
            self.assertEqual(len(row['invoices.']), 1)
        # the dealer's user reads its settlement, without the invoice field
        user = create_dealer_user('xunda', dealer)
        with as_user(user):
            view = Settlement.fields_view_get(view_type='form')
            self.assertNotIn('invoices', view['fields'])
            Settlement.read([settlement.id], ['total', 'lines'])
        settlement = Settlement(settlement.id)
        invoice, = settlement.invoices
        self.assertEqual((invoice.type, invoice.party, invoice.state,
                invoice.untaxed_amount),
            ('in', dealer.party, 'draft', settlement.total))
        self.assertEqual(invoice.lines[0].account, expense)
        self.assertTrue(all(c.invoice_line for c in settlement.lines))

    @with_transaction()
    def test_risk_flag_holds_payment(self):
        "A dealer with an open risk flag is not paid until it is cleared"
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        Flag = pool.get('telecom.dealer.risk_flag')
        dealer, lines = self.dealer_lines(1)
        flag, = Flag.create([{'dealer': dealer.id, 'kind': 'spike',
                    'date': today()}])
        period = create_period(*month(today()))
        Period.compute([period])
        settlement, = Settlement.search([('held', '=', True)])
        Settlement.confirm([settlement])
        with self.assertRaises(UserError) as cm:
            Settlement.pay([settlement])
        self.assertIn(dealer.rec_name, cm.exception.message)
        self.assertEqual(Settlement(settlement.id).state, 'confirmed')
        Flag.clear([flag])
        Settlement.pay([settlement])
        self.assertEqual(Settlement(settlement.id).state, 'paid')

    @with_transaction()
    def test_statement_rows(self):
        "The Excel statement lists every commission, then the total"
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        dealer, lines = self.dealer_lines(2)
        set_activation(lines[1], today() - dt.timedelta(days=20))
        before = create_period(today() - dt.timedelta(days=60),
            today() - dt.timedelta(days=1), name="before")
        current = create_period(today(), today() + dt.timedelta(days=30),
            name="current")
        Period.compute([before])
        change(lines[1], 'terminate')
        Period.compute([current])
        settlement, = Settlement.search([('period', '=', current.id)])
        self.assertEqual(settlement.total, D(0))
        sheet, rows = xlsx_report('telecom.commission.settlement.xlsx',
            [settlement.id])
        header = rows[2]
        self.assertEqual(header[:2], ("Kind", "Line"))
        body = [(r[0], r[1], r[8], r[9]) for r in rows[3:]]
        self.assertEqual(body, [
                ("Activation", lines[0].rec_name, 30, None),
                ("Clawback", lines[1].rec_name, -30,
                    "Terminated on day 20 after activation"),
                ("Total", None, 0, None),
                ])
        self.assertIn(dealer.rec_name, rows[0][0])

    @with_transaction()
    def test_statement_of_several_settlements(self):
        "Printing several settlements gives one sheet per settlement"
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        dealer, _ = self.dealer_lines(1)
        other, _ = self.dealer_lines(2, code='GD-DL-0002', first=11)
        Period.compute([create_period(*month(today()))])
        settlements = Settlement.search([], order=[('dealer', 'ASC')])
        workbook = xlsx_workbook('telecom.commission.settlement.xlsx',
            [s.id for s in settlements])
        self.assertEqual(len(workbook.worksheets), 2)
        for sheet, settlement in zip(workbook.worksheets, settlements):
            self.assertTrue(sheet.title.startswith(
                    settlement.dealer.dealer_code))
            rows = list(sheet.iter_rows(values_only=True))
            self.assertIn(settlement.dealer.rec_name, rows[0][0])
            self.assertEqual(rows[-1][8], float(settlement.total))
        self.assertEqual(
            [len(list(s.iter_rows())) - 4 for s in workbook.worksheets],
            [len(s.lines) for s in settlements])

    @with_transaction()
    def test_channel_manager_board(self):
        """The board shows the open flags and the settlements waiting to
        be confirmed or paid"""
        pool = Pool()
        View = pool.get('ir.ui.view')
        ModelData = pool.get('ir.model.data')
        ActionWindow = pool.get('ir.action.act_window')
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        Flag = pool.get('telecom.dealer.risk_flag')
        from trytond.pyson import PYSONDecoder
        view = View(ModelData.get_id('crm_channel', 'board_view'))
        arch = view.view_get()['arch']
        for name in ['act_board_risk_flag', 'act_board_settlement']:
            self.assertIn('crm_channel.%s' % name, arch)
        board = ActionWindow.get('crm_channel.act_board')
        self.assertEqual(board['views'][0][1], 'board')

        def board_records(name):
            "The records of the action, and of each of its tabs"
            action = ActionWindow.get('crm_channel.%s' % name)
            Model = pool.get(action['res_model'])
            domain = PYSONDecoder().decode(action['pyson_domain'])
            return Model.search(domain), [
                Model.search([domain, PYSONDecoder().decode(tab)])
                for _, tab, _ in action['domains']]

        for i in range(1, 4):
            self.dealer_lines(1, code='GD-DL-000%s' % i, first=i)
        Period.compute([create_period(*month(today()))])
        draft, confirmed, paid = Settlement.search([],
            order=[('dealer', 'ASC')])
        Settlement.confirm([confirmed, paid])
        Settlement.pay([paid])
        # the confirmed settlement's dealer is flagged: held
        open_flag, cleared = Flag.create([
                {'dealer': confirmed.dealer.id, 'kind': 'spike',
                    'date': today()},
                {'dealer': draft.dealer.id, 'kind': 'spike',
                    'date': today()},
                ])
        Flag.clear([cleared])
        self.assertEqual(board_records('act_board_risk_flag'),
            ([open_flag], [[open_flag]]))
        pending, tabs = board_records('act_board_settlement')
        self.assertEqual(sorted(pending), sorted([draft, confirmed]))
        self.assertEqual(tabs, [[draft], [], [confirmed]])

    @with_transaction()
    def test_dealer_sees_own_settlements(self):
        "A dealer's user reads only its own settlements"
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        dealer, _ = self.dealer_lines(1)
        other, _ = self.dealer_lines(1, code='GD-DL-0002', first=11)
        Period.compute([create_period(*month(today()))])
        self.assertEqual(Settlement.search_count([]), 2)
        user = create_dealer_user('xunda', dealer)
        with as_user(user):
            settlements = Settlement.search([])
            self.assertEqual([s.dealer.id for s in settlements], [dealer.id])
            with self.assertRaises(UserError):
                Settlement.write(settlements, {'total': D(1)})

    @with_transaction()
    def test_settlements_of_dealers_who_earned(self):
        """Only the dealers with commissions in the period get a
        settlement, each commission in its own; re-running gives the same"""
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Settlement = pool.get('telecom.commission.settlement')
        dealer, lines = self.dealer_lines(2)
        idle, idle_lines = self.dealer_lines(1, code='GD-DL-0002', first=11)
        set_activation(idle_lines[0], today() - dt.timedelta(days=90))
        period = create_period(*month(today()))
        for _ in range(2):
            Period.compute([period])
            settlement, = Settlement.search([('period', '=', period.id)])
            self.assertEqual(settlement.dealer, dealer)
            self.assertEqual(
                sorted(c.subscriber.id for c in settlement.lines),
                sorted(l.id for l in lines))
            self.assertEqual(settlement.total, D(60))

    @with_transaction()
    def test_commission_references_kept_by_the_orm(self):
        """The run's references are not checked row by row by the
        database, yet a line with a commission cannot be deleted"""
        pool = Pool()
        Period = pool.get('telecom.commission.period')
        Commission = pool.get('commission')
        Subscriber = pool.get('telecom.subscriber')
        dealer, lines = self.dealer_lines(1)
        Period.compute([create_period(*month(today()))])
        table = Commission.__table_handler__()
        for column in Commission._unchecked_references:
            self.assertNotIn('commission_%s_fkey' % column,
                getattr(table, '_constraints', []))
        with self.assertRaises(ForeignKeyError):
            Subscriber.delete(lines)
        self.assertEqual(len(Commission.search([])), 1)
