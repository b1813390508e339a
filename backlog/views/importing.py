"""CSV import of backlog items: upload, map columns, check every row, import
(the pages are ``pmhub.csvimport``'s, the rules ``backlog.importing``'s)."""

from pmhub import csvimport
from products.models import Product

from .common import page_context

import_start, import_job = csvimport.import_views(
    "backlog.importing.IMPORTER",
    app="backlog",
    urls={"start": "backlog:import", "job": "backlog:import-job"},
    product_model=Product,
    context=page_context,
)
