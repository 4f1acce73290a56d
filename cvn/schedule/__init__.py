"""The vaccination calendar as data, the product catalogue, and the status engine.

Nothing here imports Flask or the database: it is plain data and pure functions.
"""
