"Knowledge base: searching articles, the articles a request suggests"
import unittest

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_service.knowledge import match_score, text_words
from crm_service.tests.tools import (
    as_user,
    create_request,
    create_topic,
    service_staff,
)
from crm_telecom.tests.tools import BEFORE, line_since


def create_articles():
    """Articles of the VAS and BILL topics, for some types or all, and
    generic ones: {short name: article}"""
    Article = Pool().get('telecom.knowledge.article')
    vas = create_topic()
    bill = create_topic('BILL', "账单")
    values = {
        'sms': {'title': "短信功能恢复处理", 'keywords': "短信, 恢复",
            'topics': [vas.id], 'request_types': ['fault', 'complaint'],
            'body': "核查短信中心号码，重新下发开通指令。"},
        'unsubscribe': {'title': "增值业务退订话术", 'kind': 'script',
            'keywords': "退订", 'topics': [vas.id],
            'body': "您好，已为您退订该业务……"},
        'bill': {'title': "账单疑问解答", 'keywords': "账单、话费",
            'topics': [bill.id], 'request_types': ['consultation'],
            'body': "逐项说明月租、通话与流量费用。"},
        'greeting': {'title': "通用开场白", 'kind': 'script',
            'body': "您好，很高兴为您服务。"},
        'centre': {'title': "短信中心设置", 'keywords': "短信中心",
            'request_types': ['consultation'],
            'body': "广东短信中心号码 +8613800200500。"},
        'roaming': {'title': "International roaming", 'keywords':
            "roaming, abroad", 'request_types': ['consultation'],
            'body': "Data roaming is switched on in the app."},
        'old': {'title': "短信恢复旧流程", 'keywords': "短信, 恢复",
            'topics': [vas.id], 'active': False},
        }
    articles = {}
    for name, vals in values.items():
        topics = vals.pop('topics', [])
        article, = Article.create([{**vals,
                    'topics': [('add', topics)]}])
        articles[name] = article
    return articles


class KnowledgeTestCase(unittest.TestCase):
    "Knowledge base"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def test_words(self):
        "Chinese runs are cut in two-character pieces, Latin words kept"
        self.assertEqual(text_words("短信业务未恢复"),
            {'短信', '信业', '业务', '务未', '未恢', '恢复'})
        self.assertEqual(text_words("5G data, 不能用"),
            {'5g', 'data', '不能', '能用'})
        self.assertEqual(text_words("停 机 a"), {'停', '机'})
        # two shared words and two keywords found whole
        self.assertEqual(
            match_score("短信业务未恢复", "短信功能恢复处理", "短信, 恢复"),
            2 + 2 * 2)
        self.assertEqual(match_score("Roaming abroad fails",
                "International roaming", "roaming, abroad"), 2 + 2 * 2)
        self.assertEqual(match_score("宽带", "短信", None), 0)

    @with_transaction()
    def test_search_by_keywords(self):
        "Articles are found by a word of their title, keywords or body"
        Article = Pool().get('telecom.knowledge.article')
        articles = create_articles()

        def found(text):
            return {a.id for a in Article.search(
                    [('rec_name', 'ilike', '%' + text + '%')])}
        self.assertEqual(found("话费"), {articles['bill'].id})
        self.assertEqual(found("ROAMING"), {articles['roaming'].id})
        self.assertEqual(found("+86138"), {articles['centre'].id})
        self.assertEqual(found("开场"), {articles['greeting'].id})
        # inactive articles are not offered
        self.assertEqual(found("恢复"), {articles['sms'].id})
        self.assertEqual(found("宽带"), set())
        self.assertEqual({a.id for a in Article.search(
                    [('rec_name', 'not ilike', '%短信%')])},
            {articles[n].id for n in ['unsubscribe', 'bill', 'greeting',
                    'roaming']})

    @with_transaction()
    def test_suggested_articles(self):
        "A request suggests the articles of its type and topic, ranked"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Article = pool.get('telecom.knowledge.article')
        agent, *_ = service_staff()
        articles = create_articles()
        vas = create_topic()
        line = line_since(BEFORE)
        with as_user(agent):
            complaint = create_request(line, type='complaint',
                topic=vas.id, subject="短信业务未恢复")
            question = create_request(line, type='consultation',
                subject="账单查询")
            abroad = create_request(line, type='consultation',
                subject="Roaming abroad does not work")
            suggestion = create_request(line, type='suggestion',
                topic=vas.id, subject="希望增加套餐")

        def names(request):
            ids = {a.id: n for n, a in articles.items()}
            return [ids[a.id] for a in request.suggested_articles]
        # read together: one search and one read for all of them
        complaint, question, abroad, suggestion = Request.browse(
            [complaint.id, question.id, abroad.id, suggestion.id])
        # its words first (6: 短信 and 恢复, twice as keywords; 1: 业务),
        # then the generic script; not the other topic, not the
        # consultations' articles, not the inactive one
        self.assertEqual(names(complaint), ['sms', 'unsubscribe',
                'greeting'])
        # without a topic: the articles sharing its words of any topic,
        # then those of its type, then the generic ones
        self.assertEqual(names(question), ['bill', 'roaming', 'centre',
                'greeting'])
        self.assertEqual(names(abroad)[0], 'roaming')
        self.assertEqual(names(suggestion), ['unsubscribe', 'greeting'])

        # the form suggests as the subject is typed
        draft = Request(type='complaint', topic=vas, subject="退订")
        self.assertEqual(draft.on_change_with_suggested_articles(),
            [articles['unsubscribe'].id, articles['sms'].id,
                articles['greeting'].id])

        # the relate action lists every article filed for the requests
        self.assertEqual({a.id for a in Article.search(
                    [('suggested_for', 'in', [complaint.id])])},
            {articles[n].id for n in ['sms', 'unsubscribe', 'greeting']})
        self.assertEqual({a.id for a in Article.search(
                    [('suggested_for', 'in',
                            [complaint.id, suggestion.id])])},
            {articles[n].id for n in ['sms', 'unsubscribe', 'greeting']})

    @with_transaction()
    def test_editors_write(self):
        "Everyone reads the knowledge base; its editors write it"
        from trytond.model.exceptions import AccessError

        from crm_telecom.tests.tools import create_staff
        Article = Pool().get('telecom.knowledge.article')
        agent, *_ = service_staff()
        editor = create_staff('editor', 'crm_service.group_knowledge_editor')
        articles = create_articles()
        with as_user(agent):
            self.assertEqual(len(Article.search([])), 6)
            with self.assertRaises(AccessError):
                Article.write([articles['bill']], {'title': "改"})
        with as_user(editor):
            Article.write([articles['bill']], {'title': "账单解读"})
        self.assertEqual(Article(articles['bill'].id).title, "账单解读")
