"""Knowledge base: the articles and call scripts agents answer customers
with, filed under topics and request types.

The base is national: one set of articles for every company, written by
the knowledge editors and read by everyone.

A request suggests the articles filed for its type and topic, ranked by
the words of its subject found in their keywords and title (see
`match_score`). Subjects are mostly Chinese, written without spaces, so
the words of a text are its Latin words and numbers as they are, and its
runs of Chinese characters cut into two-character pieces (短信业务未恢复 →
短信, 信业, 业务, 务未, 未恢, 恢复): a subject and a title sharing 短信 and
恢复 share two words.
"""
import re

from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import Pool

KINDS = [
    ('article', "Article"),
    ('script', "Call Script"),
    ]
# how many articles a request suggests
SUGGESTED = 10
# a keyword found whole in the subject weighs as much as this many words
KEYWORD_WEIGHT = 2

_CJK = '\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff'
_RUNS = re.compile(r'[%s]+|[^\W%s]+' % (_CJK, _CJK))
_CJK_RUN = re.compile(r'[%s]' % _CJK)
# how keywords are separated: commas, 、, semicolons, spaces
_KEYWORD_SEPARATORS = re.compile(r'[,，、;；\s]+')


def split_keywords(keywords):
    "The keywords of an article, lowercase, as they were written"
    return [k for k in _KEYWORD_SEPARATORS.split((keywords or '').lower())
        if k]


def text_words(text):
    """The words of a text: Latin words and numbers (of two characters or
    more) as they are, Chinese runs as their two-character pieces (a lone
    Chinese character is a word)"""
    words = set()
    for run in _RUNS.findall((text or '').lower()):
        if _CJK_RUN.match(run):
            if len(run) == 1:
                words.add(run)
            else:
                words.update(run[i:i + 2] for i in range(len(run) - 1))
        elif len(run) >= 2:
            words.add(run)
    return words


def match_score(subject, title, keywords):
    """How well an article matches a subject: the words of the subject
    found among the words of the article's title and keywords, plus
    KEYWORD_WEIGHT for each keyword found whole in the subject"""
    subject = (subject or '').lower()
    keywords = split_keywords(keywords)
    article_words = text_words(title)
    for keyword in keywords:
        article_words |= text_words(keyword)
    score = len(text_words(subject) & article_words)
    score += KEYWORD_WEIGHT * len([k for k in keywords if k in subject])
    return score


class Article(DeactivableMixin, ModelSQL, ModelView):
    "Knowledge article"
    __name__ = 'telecom.knowledge.article'

    title = fields.Char("Title", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True,
        help="An article explains; a call script is what the agent says, "
        "step by step.")
    kind_string = kind.translated('kind')
    body = fields.Text("Body")
    keywords = fields.Char("Keywords",
        help="Words a customer or an agent would use, separated by commas "
        "or spaces: requests whose subject has them suggest the article.")
    topics = fields.Many2Many('telecom.knowledge.article-telecom.service.topic',
        'article', 'topic', "Topics",
        help="The topics of the requests it answers; none for every topic.")
    request_types = fields.MultiSelection('get_request_types',
        "Request Types",
        help="The types of the requests it answers; none for every type.")
    suggested_for = fields.Function(fields.Many2Many(
            'telecom.service_request', None, None, "Suggested for",
            help="The requests whose type and topic the article is filed "
            "under."),
        'get_suggested_for', searcher='search_suggested_for')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('title', 'ASC'), ('id', 'ASC')]
        # Chinese is written without spaces: PostgreSQL's full-text search
        # would take a whole sentence for one word, so the body is searched
        # for the text typed, as on SQLite
        cls.body.search_full_text = False

    @classmethod
    def default_kind(cls):
        return 'article'

    @classmethod
    def get_request_types(cls):
        Request = Pool().get('telecom.service_request')
        return Request.fields_get(['type'])['type']['selection']

    @classmethod
    def search_rec_name(cls, name, clause):
        "Found by a word of its title, keywords or body"
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('title', operator, operand, *extra),
            ('keywords', operator, operand, *extra),
            ('body', operator, operand, *extra),
            ]

    @classmethod
    def get_suggested_for(cls, articles, name):
        # what a request suggests is computed from the request
        return {a.id: [] for a in articles}

    @classmethod
    def search_suggested_for(cls, name, clause):
        "The articles filed for the type and topic of the requests"
        Request = Pool().get('telecom.service_request')
        _, operator, value = clause[:3]
        if isinstance(value, int):
            value = [value]
        requests = Request.browse([int(v) for v in value or []])
        ids = {a for articles in Request.suggest(requests, limit=None)
            for a in articles}
        if operator in {'not in', '!='}:
            return [('id', 'not in', list(ids))]
        return [('id', 'in', list(ids))]


class ArticleTopic(ModelSQL):
    "Knowledge article - Service topic"
    __name__ = 'telecom.knowledge.article-telecom.service.topic'

    article = fields.Many2One('telecom.knowledge.article', "Article",
        required=True, ondelete='CASCADE')
    topic = fields.Many2One('telecom.service.topic', "Topic",
        required=True, ondelete='CASCADE')


class RequestKnowledgeMixin:
    "The knowledge articles a request suggests to its agent"
    __slots__ = ()
    suggested_articles = fields.Function(fields.Many2Many(
            'telecom.knowledge.article', None, None, "Suggested Articles",
            help="Articles and call scripts filed for the request's type "
            "and topic, those sharing most words with its subject first."),
        'get_suggested_articles')

    @classmethod
    def get_suggested_articles(cls, requests, name):
        return {r.id: articles
            for r, articles in zip(requests, cls.suggest(requests))}

    @fields.depends('type', 'topic', 'subject')
    def on_change_with_suggested_articles(self, name=None):
        return self.suggest([self])[0]

    @classmethod
    def suggest(cls, requests, limit=SUGGESTED):
        """For each request (saved or not), the ids of its articles, best
        first: those filed for its type (or every type) and its topic (or
        every topic; a request without a topic also gets the articles of
        other topics that share a word with its subject). One search and
        one read for all the requests."""
        pool = Pool()
        Article = pool.get('telecom.knowledge.article')
        if not requests:
            return []
        types = sorted({r.type for r in requests if r.type})
        all_types = [t for t, _ in Article.get_request_types()]
        domain = ['OR',
            ('request_types', '=', None),
            ('request_types', 'not in', all_types),
            ]
        if types:
            domain.append(('request_types', 'in', types))
        articles = Article.read([a.id for a in Article.search(domain,
                    order=[('title', 'ASC'), ('id', 'ASC')])],
            ['title', 'keywords', 'topics', 'request_types'])
        result = []
        for request in requests:
            topic = request.topic.id if request.topic else None
            ranked = []
            for article in articles:
                if (article['request_types']
                        and request.type not in article['request_types']):
                    continue
                score = match_score(request.subject, article['title'],
                    article['keywords'])
                filed = topic in article['topics']
                if not (filed or not article['topics']
                        or (topic is None and score)):
                    continue
                ranked.append((-score, not filed,
                        not article['request_types'], article['title'],
                        article['id']))
            ranked.sort()
            if limit is not None:
                ranked = ranked[:limit]
            result.append([r[-1] for r in ranked])
        return result
