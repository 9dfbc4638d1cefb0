"""Shared vocabulary, one floor below the packages that use it.

``knowledge``, ``retriever``, ``hotline``, ``dialogue`` and ``channels`` all speak of the same
clock, the same masked phone and ID numbers, the same staff accounts, the same conversations and the
same ticket types and ticket-form slots. Each lives here once; nothing here imports those packages
(only ``banshi.db`` for the declarative base), so no import can go round in a circle through it.
"""
