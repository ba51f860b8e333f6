"""`field__any_of=[...]`: membership in a list sent as one array parameter.

Django's `__in` writes one placeholder per value, so a query about a thousand claims (a recompute batch) is a
thousand parameters that Django adapts and psycopg splits out of the SQL one by one; building and sending it cost
more than PostgreSQL took to answer it. On PostgreSQL `any_of` is `= ANY(%s::type[])` with the list as one array;
elsewhere (SQLite, for trying the site) it is `__in`. Registered on every field, foreign keys included, by
ClaimsConfig.ready().
"""

from django.db.models import Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        return "%s", [[field.get_db_prep_value(item, connection, prepared=False) for item in value]]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        array_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY({rhs}::{array_type}[])", [*lhs_params, *rhs_params]

    def as_sql(self, compiler, connection):
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
