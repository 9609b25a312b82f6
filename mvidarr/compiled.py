"""Queries built with the ORM once per process and database, then run with
new values: a SELECT returning model instances (``CompiledSelect``), an
UPDATE returning the rows it changed (``CompiledUpdate``); and, as one
statement on PostgreSQL, an UPDATE with the rows it adds elsewhere
(``update_then_insert``: a job's end) or rows with the change they make
(``insert_then_update``: a new job, its log line, its video "downloading").

A worker claims a job for every message, and every API call looks up its
key. Building such a queryset and compiling it to SQL cost more CPU than
running it costs the database.

1. ``build(placeholders)`` returns the queryset (and, for an UPDATE, the
   values to set), made with *placeholder* values: each a value no caller
   ever passes (the UUID 0…01, a date in 2000, the id -1), of the type of the
   field named with it.
2. Django's own compiler turns that into SQL once per database; the places
   where each placeholder's database value landed among the parameters are
   remembered (a placeholder found nowhere is an error, at once).
3. On PostgreSQL, every other parameter is a constant (a status, an empty
   error, None): it is written into the SQL as a literal once, as psycopg's
   client-side binding would write it on every run (``_inline``).
4. ``run(**values)`` prepares each value as its field would and puts it in
   its placeholder's places.
5. A SELECT's rows become instances as the queryset's own would: with the
   compiler's converters, ``Model.from_db`` and the related objects of its
   ``select_related``; a ``values_list`` gives tuples. An UPDATE ends with
   ``RETURNING`` every column (PostgreSQL, and SQLite since 3.35), and
   ``Model.objects.raw`` applies the fields' converters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.sql import UpdateQuery

# name: (the field whose type the placeholder has, its value)
Placeholders = dict[str, tuple[str, Any]]
# Rows that get new values: their model, their primary keys, {field name: plain value}.
Change = tuple[type[models.Model], list, dict[str, Any]]
# A parameter's place in Django's SQL ("%%" is a literal percent sign).
PARAMETER = re.compile(r"%[s%]")


class Compiled:
    """What a compiled query shares: its SQL per database and where each
    placeholder's value goes (steps 1 to 4 above)."""

    def __init__(self, model, placeholders: Placeholders, build: Callable) -> None:
        self.model = model
        self.placeholders = placeholders
        self.build = build
        self._compiled: dict[tuple[str, str], tuple] = {}

    def statement(self, values: dict[str, Any]) -> tuple[Any, tuple, list]:
        """The connection, what was compiled for it, and this run's parameters."""
        connection = connections[self.model.objects.db]
        key = (connection.alias, connection.vendor)
        if (compiled := self._compiled.get(key)) is None:
            compiled = self._compiled[key] = self.compile(connection)
        _, params, places, *_ = compiled
        params = params.copy()
        for name, value in values.items():
            prepared = self._prepare(name, value, connection)
            for i in places[name]:
                params[i] = prepared
        return connection, compiled, params

    def compile(self, connection) -> tuple:
        raise NotImplementedError

    def _places(self, sql: str, params, connection) -> tuple[str, list, dict[str, list[int]]]:
        params = list(params)
        places = {}
        for name, (_, value) in self.placeholders.items():
            prepared = self._prepare(name, value, connection)
            places[name] = [i for i, param in enumerate(params) if param == prepared]
            if not places[name]:
                raise ImproperlyConfigured(f"Placeholder {name!r} is not in: {sql}")
        if connection.vendor == "postgresql":
            return _inline(sql, params, places, connection)
        return sql, params, places

    def _placeholder_values(self) -> dict[str, Any]:
        return {name: value for name, (_, value) in self.placeholders.items()}

    def _prepare(self, name: str, value: Any, connection) -> Any:
        field = self.model._meta.get_field(self.placeholders[name][0])
        return field.get_db_prep_value(value, connection)


class CompiledSelect(Compiled):
    """``build(placeholders)`` returns a queryset of ``model`` (with its
    ``select_related``), or a ``values_list`` (tuples, not ``flat``)."""

    def run(self, **values) -> list:
        """The rows, as the queryset would give them."""
        connection, compiled, params = self.statement(values)
        sql, _, _, converters, instances = compiled
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for i, (functions, expression) in converters.items():
                for convert in functions:
                    row[i] = convert(row[i], expression, connection)
        if instances is None:
            return [tuple(row) for row in rows]
        start, end, init_list, populators = instances
        objects = []
        for row in rows:
            obj = self.model.from_db(connection.alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def compile(self, connection) -> tuple:
        queryset = self.build(self._placeholder_values())
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
        instances = None
        if queryset._iterable_class not in (ModelIterable, ValuesListIterable):
            raise ImproperlyConfigured(f"Only instances and tuples are compiled: {sql}")
        if queryset._iterable_class is ModelIterable:
            if compiler.annotation_col_map:
                raise ImproperlyConfigured(f"Annotations are not compiled: {sql}")
            fields = compiler.klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            init_list = [f[0].target.attname for f in compiler.select[start:end]]
            populators = get_related_populators(
                compiler.klass_info, compiler.select, connection.alias
            )
            instances = (start, end, init_list, populators)
        return (*self._places(sql, params, connection), converters, instances)


class CompiledUpdate(Compiled):
    """``build(placeholders)`` returns a queryset and the values to set."""

    def run(self, **values) -> list[models.Model]:
        """The rows the UPDATE changed, as model instances."""
        _, (sql, *_), params = self.statement(values)
        return list(self.model.objects.raw(sql, params))

    def compile(self, connection) -> tuple:
        queryset, values = self.build(self._placeholder_values())
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        sql, params, places = self._places(
            *query.get_compiler(connection=connection).as_sql(), connection
        )
        columns = ", ".join(
            connection.ops.quote_name(field.column) for field in self.model._meta.concrete_fields
        )
        return f"{sql} RETURNING {columns}", params, places


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
    update, params = _update_sql(queryset, values, connection)
    insert, row_params = _insert_sql(rows, connection, select=True)
    sql = f"WITH changed AS ({update} RETURNING 1) {insert} WHERE EXISTS (SELECT FROM changed)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *row_params])
        return cursor.rowcount > 0


def insert_then_update(rows: list[models.Model], change: Change | None = None) -> None:
    """Insert ``rows`` (model instances, one per statement, each row's foreign
    keys pointing to rows before it) and make ``change``, as one statement on
    PostgreSQL: each INSERT a data-modifying ``WITH``. Outside a transaction
    it commits by itself; in one, it runs in a savepoint, so that its error
    (an ``IntegrityError``) leaves the transaction usable. Elsewhere the same
    statements run one by one in a transaction. Either way what
    ``Model.save`` and ``QuerySet.update`` would send, without signals; the
    rows are saved instances afterwards."""
    db = rows[0]._state.db or router.db_for_write(type(rows[0]))
    connection = connections[db]
    statements = [_insert_sql([row], connection) for row in rows]
    if change:
        statements.append(_change_sql(change, connection))
    if connection.vendor == "postgresql":
        *first, (last, params) = statements
        ctes = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(first))
        sql = f"WITH {ctes} {last}" if ctes else last
        statements = [(sql, [p for _, ps in first for p in ps] + list(params))]
    alone = connection.vendor == "postgresql" and not connection.in_atomic_block
    with nullcontext() if alone else transaction.atomic(using=db), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    for row in rows:
        row._state.adding, row._state.db = False, db


def apply_change(change: Change) -> int:
    """Make ``change`` on its own: ``QuerySet.update``, as ``insert_then_update`` would."""
    model, pks, values = change
    return model.objects.filter(pk__in=pks).update(**values)


def _change_sql(change: Change, connection) -> tuple[str, list]:
    """The UPDATE ``QuerySet.filter(pk__in=…).update(…)`` sends for ``change``,
    written without building a queryset (a new job costs one)."""
    model, pks, values = change
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in values]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    keys = ", ".join(["%s"] * len(pks))
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} IN ({keys})"
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    return sql, params + [meta.pk.get_db_prep_value(pk, connection) for pk in pks]


def _update_sql(queryset: models.QuerySet, values: dict[str, Any], connection) -> tuple:
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(connection=connection).as_sql()


def _insert_sql(rows: list[models.Model], connection, select: bool = False) -> tuple[str, list]:
    """The INSERT of ``rows`` (all of one model; what ``Model.save`` sends,
    without an auto-incremented key); with ``select``, an ``INSERT … SELECT``
    to end with a ``WHERE`` (its values are typed by their own, not by the
    columns: no untyped NULL there)."""
    meta = type(rows[0])._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    quote = connection.ops.quote_name
    # Typed by the driver as they would be in an INSERT (a uuid, a timestamptz),
    # a text given to a varchar column as there: too long is an error.
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = ", ".join([row] * len(rows))
    sql = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
    sql += f"SELECT * FROM (VALUES {values}) AS v" if select else f"VALUES {values}"
    params = [f.get_db_prep_save(f.pre_save(r, add=True), connection) for r in rows for f in fields]
    return sql, params
