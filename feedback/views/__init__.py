"""HTML views of feedback/, one module per screen:

- ``inbox``: the triage inbox (filters, detail pane, link, archive, edit,
  quick add, the link picker's search);
- ``imports``: CSV import (the shared ``pmhub.csvimport`` flow) and export;
- ``customers``: the customers list and a company's page;
- ``ideas``: portal settings, publishing items as ideas, the item page's panel;
- ``portal``: the public portal (no account): ideas, submissions, votes,
  vote confirmation and unsubscribe.

Thin: they parse input, call ``feedback.services`` for writes and
``feedback.reads`` for screen-shaped reads, and render."""
