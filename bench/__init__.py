"""`make bench`: PMHub's backlog measured against raw-SQL baselines on
PostgreSQL with 100 000 items. Run it with ``python -m bench.run``; see
bench/README.md for what is measured and how."""
