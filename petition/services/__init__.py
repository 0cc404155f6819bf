"""Domain operations: plain functions over models and values, never touching the HTTP request.

Services called while serving a request never commit: the view (or petition.intake) commits once,
so that a signature, its counters, its tallies and its email stand or fall together, and so that a
service can be composed with another in one transaction. One statement that is a whole transaction
by itself (services.sql.write_first: a first signature, a confirmation, on PostgreSQL) commits on
its own when nothing is open yet, and joins the caller's transaction when something is. The other
exceptions say so in their docstring:
batch jobs run from the command line (purge, compact, reseal, recount, close-expired) commit batch
by batch so that an interrupted run keeps its progress, and an export's log entry is committed
before its first row leaves.
"""
