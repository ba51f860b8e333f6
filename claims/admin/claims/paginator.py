"""A paginator for the claim list that stays fast on a large table."""

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet


class EstimatedCountPaginator(Paginator):
    """Counts exactly when the result is small; above EXACT_COUNT_LIMIT rows PostgreSQL's planner estimate is
    used, because an exact COUNT(*) over a large table on every page view is the slowest query of a list."""

    EXACT_COUNT_LIMIT = 10_000
    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        if (
            connection.vendor == "postgresql"
            and isinstance(self.object_list, QuerySet)
            and not self.object_list.query.is_empty()
        ):
            plan = json.loads(self.object_list.explain(format="json"))
            planned = int(plan[0]["Plan"]["Plan Rows"])
            if planned > self.EXACT_COUNT_LIMIT:
                self.count_is_estimate = True
                return planned
        return super().count
