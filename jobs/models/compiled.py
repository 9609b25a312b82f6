"""An UPDATE built with the ORM once per process and database, then run with
new values, returning the rows it changed; and an UPDATE with the rows it
adds elsewhere, in one statement (``update_then_insert``).

A worker claims a job for every message. Building the claim's queryset (its
subqueries) and compiling it to SQL cost the worker more CPU than the claim
costs the database, and reading the claimed row back took one more query.

1. ``build(placeholders)`` returns a queryset and the values to set, made
   with *placeholder* values: each a value no caller ever passes (the UUID
   0…01, a date in 2000), of the type of the field named with it.
2. Django's own compiler turns that into SQL once per database; the places
   where each placeholder's database value landed among the parameters are
   remembered (a placeholder found nowhere is an error, at once).
3. ``RETURNING`` every column (PostgreSQL, and SQLite since 3.35) brings the
   changed rows back; ``Model.objects.raw`` applies the fields' converters.
4. On PostgreSQL, every other parameter is a constant (a status, an empty
   error, None): it is written into the SQL as a literal once, as psycopg's
   client-side binding would write it on every run (``_inline``).
5. ``run(**values)`` prepares each value as its field would and puts it in
   its placeholder's places.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, transaction
from django.db.models.sql import UpdateQuery

Build = Callable[[dict[str, Any]], tuple[models.QuerySet, dict[str, Any]]]
# A parameter's place in Django's SQL ("%%" is a literal percent sign).
PARAMETER = re.compile(r"%[s%]")


class CompiledUpdate:
    def __init__(self, model, placeholders: dict[str, tuple[str, Any]], build: Build) -> None:
        self.model = model
        self.placeholders = placeholders  # name: (the field whose type it has, its value)
        self.build = build
        self._compiled: dict[tuple[str, str], tuple[str, list, dict[str, list[int]]]] = {}

    def run(self, **values) -> list[models.Model]:
        """The rows the UPDATE changed, as model instances."""
        connection = connections[self.model.objects.db]
        key = (connection.alias, connection.vendor)
        if (compiled := self._compiled.get(key)) is None:
            compiled = self._compiled[key] = self._compile(connection)
        sql, params, places = compiled
        params = params.copy()
        for name, value in values.items():
            prepared = self._prepare(name, value, connection)
            for i in places[name]:
                params[i] = prepared
        return list(self.model.objects.raw(sql, params))

    def _compile(self, connection) -> tuple[str, list, dict[str, list[int]]]:
        queryset, values = self.build({n: value for n, (_, value) in self.placeholders.items()})
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        sql, params = query.get_compiler(connection=connection).as_sql()
        params = list(params)
        places = {}
        for name, (_, value) in self.placeholders.items():
            prepared = self._prepare(name, value, connection)
            places[name] = [i for i, param in enumerate(params) if param == prepared]
            if not places[name]:
                raise ImproperlyConfigured(f"Placeholder {name!r} is not in: {sql}")
        if connection.vendor == "postgresql":
            sql, params, places = _inline(sql, params, places, connection)
        columns = ", ".join(
            connection.ops.quote_name(field.column) for field in self.model._meta.concrete_fields
        )
        return f"{sql} RETURNING {columns}", params, places

    def _prepare(self, name: str, value: Any, connection) -> Any:
        field = self.model._meta.get_field(self.placeholders[name][0])
        return field.get_db_prep_value(value, connection)


def _inline(
    sql: str, params: list, places: dict[str, list[int]], connection
) -> tuple[str, list, dict[str, list[int]]]:
    """``sql`` with every parameter that is no placeholder's written in as a
    literal; the parameters and places that remain."""
    if [m.group() for m in PARAMETER.finditer(sql)].count("%s") != len(params):
        raise ImproperlyConfigured(f"Not one parameter per place in: {sql}")
    variable = {i for indexes in places.values() for i in indexes}
    kept: list = []
    moved: dict[int, int] = {}  # old index: new index
    counter = iter(range(len(params)))

    def write(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        i = next(counter)
        if i in variable:
            moved[i] = len(kept)
            kept.append(params[i])
            return "%s"
        return connection.ops.compose_sql("%s", [params[i]]).replace("%", "%%")

    sql = PARAMETER.sub(write, sql)
    return sql, kept, {name: [moved[i] for i in indexes] for name, indexes in places.items()}


def update_then_insert(queryset: models.QuerySet, values: dict[str, Any], rows: list) -> bool:
    """``queryset.update(**values)`` and, if it changed a row, insert ``rows``
    (model instances, all of one model), as one statement on PostgreSQL: a
    data-modifying ``WITH`` whose ``INSERT`` takes place only if the UPDATE
    changed something. No BEGIN and COMMIT of its own: outside a transaction
    it commits by itself, in one round trip where a transaction takes four.
    Elsewhere (SQLite has no such ``WITH``) the two run in one transaction.
    True if the UPDATE changed a row."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not rows:
        with transaction.atomic(using=queryset.db):
            if not queryset.update(**values):
                return False
            if rows:
                type(rows[0]).objects.using(queryset.db).bulk_create(rows)
            return True
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    update, params = query.get_compiler(connection=connection).as_sql()
    meta = type(rows[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Typed by the driver as they would be in an INSERT (a uuid, a timestamptz),
    # a text given to a varchar column as there: too long is an error.
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(quote(f.column) for f in fields)
    sql = (
        f"WITH changed AS ({update} RETURNING 1) "
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "
        f"SELECT * FROM (VALUES {', '.join([row] * len(rows))}) AS v "
        "WHERE EXISTS (SELECT FROM changed)"
    )
    params = [
        *params,
        *(f.get_db_prep_save(getattr(r, f.attname), connection) for r in rows for f in fields),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0
