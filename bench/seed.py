"""The benchmark's data: one workspace, user and product with 100 000
backlog items loaded with COPY (kept between runs when the count matches),
and the scoring state every suite starts from (``ScoreState``)."""

import datetime as dt
import random
import time

WORKSPACE_SLUG = "pmhub-bench"
PRODUCT_KEY = "BENCH"
USERNAME = "bench"


VERBS = ["Add", "Support", "Improve", "Speed up", "Simplify", "Redesign", "Export", "Sync", "Audit"]
NOUNS = [
    "invoice PDFs",
    "SSO login",
    "bulk edit",
    "CSV export",
    "webhooks",
    "dark mode",
    "search filters",
    "mobile checkout",
    "usage dashboard",
    "team permissions",
    "Slack alerts",
    "API rate limits",
    "onboarding tour",
    "audit log",
    "currency conversion",
    "refund flow",
]
WHO = ["admins", "new users", "finance teams", "enterprise accounts", "developers", "support"]
STATUSES = [
    ("idea", 30),
    ("candidate", 20),
    ("planned", 15),
    ("in_progress", 10),
    ("shipped", 15),
    ("declined", 5),
    ("archived", 5),
]
TYPES = [("feature", 50), ("improvement", 20), ("bug", 20), ("experiment", 10)]
EPIC_EVERY = 500  # items 1, 501, 1001, … are epics; every third other item is in one


def _weighted(rng, choices):
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _item_rows(product, owner_id, first_id, n, ranks, rng):
    """Realistic rows for COPY: RICE and ICE inputs (2% without an effort,
    so they have no RICE score), value, some WSJF inputs, owners, statuses."""
    now = dt.datetime.now(dt.UTC)
    for number in range(1, n + 1):
        item_id = first_id + number - 1
        is_epic = number % EPIC_EVERY == 1
        status = _weighted(rng, STATUSES)
        created = now - dt.timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
        updated = created + (now - created) * rng.random()
        epic_id = first_id + (number - 1) // EPIC_EVERY * EPIC_EVERY
        parent_id = epic_id if (not is_epic and number % 3 == 0) else None
        wsjf = rng.random() < 0.5
        title = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} for {rng.choice(WHO)}"
        yield (
            item_id,
            product.pk,
            number,
            f"{product.key}-{number}",
            "epic" if is_epic else _weighted(rng, TYPES),
            title,
            f"**{title}.** Customers asked for this in {rng.randint(1, 40)} "
            f"conversations; see the linked research notes.\n\n- scope: {rng.choice(NOUNS)}",
            status,
            "Out of scope this year" if status in ("declined", "archived") else "",
            parent_id,
            owner_id if rng.random() < 0.3 else None,
            None if rng.random() < 0.02 else rng.choice([0.5, 1, 2, 3, 5, 8, 13]),
            "",
            "",
            float(round(rng.lognormvariate(6, 1.2)) + 1),  # reach
            rng.choice([0.25, 0.5, 1, 2, 3]),  # impact
            float(rng.choice([50, 80, 100])),  # confidence
            float(rng.randint(1, 10)),  # ease
            None if rng.random() < 0.1 else float(rng.randint(0, 10)),  # value
            float(rng.randint(1, 20)) if wsjf else None,
            float(rng.randint(1, 20)) if wsjf else None,
            float(rng.randint(1, 20)) if wsjf else None,
            float(rng.randint(1, 20)) if wsjf else None,
            None,  # demand
            "{}",  # custom
            None,  # score: one recompute fills it in
            ranks[number - 1],
            updated if status == "shipped" else None,
            1,
            created,
            updated,
        )


ITEM_COLUMNS = (
    "id",
    "product_id",
    "number",
    "key",
    "type",
    "title",
    "description",
    "status",
    "status_reason",
    "parent_id",
    "owner_id",
    "effort",
    "external_url",
    "external_key",
    "reach",
    "impact",
    "confidence",
    "ease",
    "value",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "demand",
    "custom",
    "score",
    "rank",
    "shipped_at",
    "version",
    "created_at",
    "updated_at",
)


def seed(n: int, force: bool) -> dict:
    """One workspace, user and product with ``n`` items (kept between runs
    when the count matches), two scoring models (RICE active, ICE), tags,
    objectives, epics."""
    from django.db import connection, transaction
    from fractional_indexing import generate_n_keys_between

    from backlog import services
    from backlog.models import BacklogSettings, Item, ScoreChange, ScoringKind, ScoringModel, Tag
    from pmhub.accounts.models import Membership, Role, User, Workspace
    from products.models import Objective, Product

    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"email": "bench@localhost"})
    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark"}
    )
    Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": Role.OWNER})
    product, _ = Product.objects.get_or_create(
        workspace=workspace, key=PRODUCT_KEY, defaults={"name": "Benchmark product"}
    )
    settings_row = BacklogSettings.objects.get(product=product)  # made with the product
    rice, _ = ScoringModel.objects.get_or_create(
        product=product, name="RICE", defaults={"kind": ScoringKind.RICE}
    )
    ice, _ = ScoringModel.objects.get_or_create(
        product=product, name="ICE", defaults={"kind": ScoringKind.ICE}
    )
    have = Item.objects.filter(product=product).count()
    settings_row.refresh_from_db()
    if have == n and settings_row.last_item_number == n and not force:
        print(f"==> {n:,} items already seeded in {connection.settings_dict['NAME']}")
        return {"user": user, "workspace": workspace, "product": product, "a": rice, "b": ice}

    started = time.perf_counter()
    print(f"==> seeding {n:,} items (found {have:,})")
    item_table = Item._meta.db_table
    with connection.cursor() as cursor:
        # The benchmark owns this database: start from empty item tables.
        tables = [item_table, ScoreChange._meta.db_table]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    tags = [Tag.objects.get_or_create(product=product, name=f"tag-{i}")[0] for i in range(12)]
    objectives = []
    for i in range(6):
        objective = Objective.objects.filter(product=product, title=f"Objective {i + 1}").first()
        objectives.append(
            objective
            or Objective.objects.create(product=product, title=f"Objective {i + 1}", position=i)
        )
    ranks = generate_n_keys_between(None, None, n)
    rng = random.Random(20250101)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor: COPY
        copy_sql = f"COPY {item_table} ({', '.join(ITEM_COLUMNS)}) FROM STDIN"
        with raw.copy(copy_sql) as copy:
            for row in _item_rows(product, user.pk, 1, n, ranks, rng):
                copy.write_row(row)
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{item_table}', 'id'), %s)", [n])
        tag_table = Item.tags.through._meta.db_table
        objective_table = Item.objectives.through._meta.db_table
        tag_ids = [t.pk for t in tags]
        objective_ids = [o.pk for o in objectives]
        # A tag on every 4th item, a second one on every 10th; an objective on every 6th.
        cursor.execute(
            f"INSERT INTO {tag_table} (item_id, tag_id) "
            f"SELECT id, (%s::bigint[])[1 + (number / 4) %% 12] FROM {item_table} "
            "WHERE product_id = %s AND number %% 4 = 0 "
            f"UNION SELECT id, (%s::bigint[])[1 + (number / 10 + 5) %% 12] FROM {item_table} "
            "WHERE product_id = %s AND number %% 10 = 0",
            [tag_ids, product.pk, tag_ids, product.pk],
        )
        cursor.execute(
            f"INSERT INTO {objective_table} (item_id, objective_id) "
            f"SELECT id, (%s::bigint[])[1 + (number / 6) %% 6] FROM {item_table} "
            "WHERE product_id = %s AND number %% 6 = 0",
            [objective_ids, product.pk],
        )
        BacklogSettings.objects.filter(pk=settings_row.pk).update(
            last_item_number=n, active_model=rice
        )
    print(f"    rows copied in {time.perf_counter() - started:.1f} s; scoring them")
    services.recompute_scores(product.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"    seeded in {time.perf_counter() - started:.1f} s")
    return {"user": user, "workspace": workspace, "product": product, "a": rice, "b": ice}


# --- scoring state -----------------------------------------------------------------------------


def score_update_sql(model, product_id: int) -> tuple[str, list]:
    """``UPDATE backlog_item SET score = <the model's formula> WHERE
    product_id = %s``: the formula is the application's own expression
    (backlog.scoring.score_expression) compiled by Django, so the baseline
    computes exactly what the recompute does."""
    from django.db import connection
    from django.db.models import Q
    from django.db.models.sql import UpdateQuery

    from backlog import scoring, services
    from backlog.models import Item

    query = UpdateQuery(Item)
    query.add_update_values(
        {"score": scoring.score_expression(model.kind, services.model_criteria(model))}
    )
    query.add_q(Q(product_id=product_id))
    sql, params = query.get_compiler(connection.alias).as_sql()
    return sql, list(params)


class ScoreState:
    """Two scoring models, A (RICE) and B (ICE), whose formulas give every
    item a different score. Each timed run flips every score from one
    formula to the other, so each one writes all rows: the recompute by
    activating the other model, the baseline by one UPDATE with the other
    formula. Before each timed run: the active model matches the scores and
    is up to date, no score history (TRUNCATE), no dead rows (VACUUM) and a
    CHECKPOINT, so that no run pays for another's dirty pages."""

    def __init__(self, data):
        from backlog.models import BacklogSettings

        self.product = data["product"]
        self.a, self.b = data["a"], data["b"]
        self.settings_pk = BacklogSettings.objects.get(product=self.product).pk
        self.sql = {
            self.a.pk: score_update_sql(self.a, self.product.pk),
            self.b.pk: score_update_sql(self.b, self.product.pk),
        }
        self.current = None  # the model whose formula the scores hold

    def other(self, model=None):
        model = model or self.current
        return self.b if model.pk == self.a.pk else self.a

    def execute(self, sql_params) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(*sql_params)
            return cursor.rowcount

    def maintenance(self):
        from django.db import connection

        from backlog.models import Item

        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {Item._meta.db_table}")
            cursor.execute("CHECKPOINT")

    def settle(self, model=None):
        """Scores computed by ``model`` (A by default), which is active and up
        to date; no score history."""
        from django.db import connection
        from django.db.models import F

        from backlog.models import BacklogSettings, ScoreChange

        model = model or self.a
        if self.current is None or self.current.pk != model.pk:
            self.execute(self.sql[model.pk])
            self.current = model
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {ScoreChange._meta.db_table}")
        BacklogSettings.objects.filter(pk=self.settings_pk).update(
            active_model=model,
            scored_generation=F("score_generation"),
            recompute_claimed_at=None,
            recompute_done=0,
        )

    def request(self, model, cause: str):
        """What activating a model (or saving its weights) records in the
        same transaction: the active model and a bumped generation. The
        recompute itself is timed apart, as the Celery task runs it."""
        from django.db.models import F

        from backlog.models import BacklogSettings

        BacklogSettings.objects.filter(pk=self.settings_pk).update(
            active_model=model,
            score_generation=F("score_generation") + 1,
            score_cause=cause,
            recompute_done=0,
        )

    def changed_rows(self) -> int:
        """How many items score differently under A and B."""
        from backlog import scoring, services
        from backlog.models import Item

        diff = (
            Item.objects.filter(product=self.product)
            .annotate(
                sa=scoring.score_expression(self.a.kind, services.model_criteria(self.a)),
                sb=scoring.score_expression(self.b.kind, services.model_criteria(self.b)),
            )
            .values_list("sa", "sb")
        )
        return sum(1 for sa, sb in diff.iterator(chunk_size=20_000) if sa != sb)
