"""Live updates (``docs/live.md``): the event log streamed to open pages over
Server-Sent Events, and who else is on a page (presence).

The log is the source of truth: ``publish`` only wakes readers up after a
commit; every stream reads the events themselves from the log through the
change feed's visibility rule, so a resumed stream gets each change once.
"""
