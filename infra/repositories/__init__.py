"""Repositories: each owns the queries on its tables and hands the use cases domain objects.

They hang off the unit of work (``uow.cycles``, ``uow.pairings`` …) and share its session,
so whatever they change commits or rolls back together.
"""
