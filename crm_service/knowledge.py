"""Knowledge base (placeholder)."""


class RequestKnowledgeMixin:
    __slots__ = ()
