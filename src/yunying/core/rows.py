"""Hot-path row access: the rows the ORM reads and writes, without rebuilding their SQL every time.

The ORM compiles every queryset to SQL afresh: a few hundred microseconds of Python per statement,
which on the sign-up path (about eight statements) was most of a sign-up's CPU and, on SQLite, most of
the time the single write lock was held. These helpers build each statement once per model and shape
and keep it; values still go through the model's own fields (`pre_save`, `get_db_prep_save`, the
backend's and the field's converters), so a row written here is the row `save()` would write and an
instance read here is the instance a queryset would build. The ORM's semantics are kept where these
stand in for it: the database router chooses the connection, many rows are written in batches the
backend accepts (SQLite's bound-parameter limit), `None` in a look-up means IS NULL, `pre_save` /
`post_save` receivers are called when any are connected, and a model whose fields have `db_default`
is refused (the ORM would leave those columns to the database). Each is tested against the ORM.

Table and column names come from model meta, quoted by the backend; every value is a bound
parameter (hence the S608 waivers). Use them where a profile shows the ORM's cost matters; everywhere else the ORM reads better.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, partial
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from django.db import connections, router
from django.db.models import Model, signals

M = TypeVar("M", bound=Model)

# Statements and converters, per connection (converters are bound to a connection's backend).
_cache: WeakKeyDictionary[Any, dict[tuple, Any]] = WeakKeyDictionary()


def _connection(model: type[Model], *, write: bool):
    # The router's choice, as the ORM's; caches key on the real connection object of this thread.
    alias = router.db_for_write(model) if write else router.db_for_read(model)
    return connections[alias or "default"]


def _memo(conn, key: tuple, build):
    per_connection = _cache.setdefault(conn, {})
    try:
        return per_connection[key]
    except KeyError:
        per_connection[key] = value = build()
        return value


@cache
def _insert_fields(model: type[Model]) -> tuple:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    if any(f.has_db_default() for f in fields):
        raise TypeError(f"core.rows cannot insert {model.__name__}: it has db_default fields; use save()")
    return fields


def _pre_save(conn, instance: Model) -> None:
    model = type(instance)
    if signals.pre_save.has_listeners(model):
        signals.pre_save.send(
            sender=model, instance=instance, raw=False, using=conn.alias, update_fields=None
        )


def _post_save(conn, instance: Model) -> None:
    model = type(instance)
    if signals.post_save.has_listeners(model):
        signals.post_save.send(
            sender=model, instance=instance, created=True, raw=False, using=conn.alias, update_fields=None
        )


def _insert_sql(conn, model: type[Model], rows: int, *, skip_conflicts: bool, returning: bool) -> str:
    q = conn.ops.quote_name
    fields = _insert_fields(model)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([one] * rows)}"
    )
    if skip_conflicts:
        # The upsert clause, not SQLite's INSERT OR IGNORE: only a unique conflict is skipped, never a
        # NOT NULL or CHECK failure. Both engines accept it with no conflict target.
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {q(model._meta.pk.column)}"
    return sql


def _insert_values(conn, instance: Model) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, True), conn) for f in _insert_fields(type(instance))]


def row_insert(instance: M, *, skip_conflicts: bool = False) -> M | None:
    """INSERT a new instance as `instance.save()` would (defaults, auto_now_add) and set its pk.

    With `skip_conflicts`, a row that would break a unique constraint is not written and None comes
    back. Raises IntegrityError otherwise, like save()."""
    model = type(instance)
    conn = _connection(model, write=True)
    _pre_save(conn, instance)
    sql = _memo(
        conn,
        ("insert", model, 1, skip_conflicts),
        lambda: _insert_sql(conn, model, 1, skip_conflicts=skip_conflicts, returning=True),
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, _insert_values(conn, instance))
        row = cursor.fetchone()
    if row is None:
        return None
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = conn.alias
    _post_save(conn, instance)
    return instance


def rows_insert(instances: Sequence[Model], *, skip_conflicts: bool = False) -> int:
    """INSERT several new instances of one model, as few statements as the backend allows (the
    batch size bulk_create would use); pks are not set (a skipped conflict returns no row, so rows
    could not be matched to instances), and no signals are sent, as with bulk_create. Returns how
    many rows were written: fewer than given when conflicts were skipped."""
    if not instances:
        return 0
    written = 0
    model = type(instances[0])
    conn = _connection(model, write=True)
    fields = _insert_fields(model)
    batch = max(conn.ops.bulk_batch_size(list(fields), instances), 1)
    for start in range(0, len(instances), batch):
        chunk = instances[start : start + batch]
        build = partial(_insert_sql, conn, model, len(chunk), skip_conflicts=skip_conflicts, returning=False)
        sql = _memo(conn, ("insert", model, len(chunk), skip_conflicts, "many"), build)
        params = [value for instance in chunk for value in _insert_values(conn, instance)]
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            written += cursor.rowcount
    return written


def _where(conn, model: type[Model], where: dict[str, Any]) -> tuple[tuple, list]:
    """The shape of a WHERE clause (the statement's cache key: names, and how many values for an IN)
    and its parameters. A list or tuple value means IN."""
    shape, params = [], []
    for name, value in where.items():
        field = model._meta.get_field(name)
        if value is None:
            shape.append((name, "null"))  # `= NULL` matches nothing; the ORM writes IS NULL
        elif isinstance(value, list | tuple):
            if None in value:
                raise ValueError("core.rows: None inside an IN list; look it up on its own")
            shape.append((name, len(value)))
            params += [field.get_db_prep_value(v, conn) for v in value]
        else:
            shape.append((name, None))
            params.append(field.get_db_prep_value(value, conn))
    return tuple(shape), params


def _clause(conn, model: type[Model], shape: tuple) -> str:
    clauses = []
    for name, count in shape:
        column = conn.ops.quote_name(model._meta.get_field(name).column)
        if count == "null":
            clauses.append(f"{column} IS NULL")
        elif count is None:
            clauses.append(f"{column} = %s")
        else:
            clauses.append(f"{column} IN ({', '.join(['%s'] * count)})")
    return " AND ".join(clauses)


def _select_sql(conn, model: type[Model], fields, where: str) -> tuple[str, list]:
    """SELECT `fields` of `model` WHERE `where`, and each column's converters (the backend's and the
    field's, as a queryset applies them)."""
    q = conn.ops.quote_name
    sql = f"SELECT {', '.join(q(f.column) for f in fields)} FROM {q(model._meta.db_table)} WHERE {where}"  # noqa: S608
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        converters.append((column, conn.ops.get_db_converters(column) + column.get_db_converters(conn)))
    return sql, converters


def _select(conn, model: type[Model], shape: tuple) -> tuple[str, list, list]:
    fields = model._meta.concrete_fields
    sql, converters = _select_sql(conn, model, fields, f"{_clause(conn, model, shape)} LIMIT 1")
    return sql, converters, [f.attname for f in fields]


def row_get(model: type[M], **where: Any) -> M | None:
    """The instance whose columns equal `where` (one row: look up by a unique key), or None."""
    conn = _connection(model, write=False)
    shape, params = _where(conn, model, where)
    sql, converters, attnames = _memo(conn, ("select", model, shape), lambda: _select(conn, model, shape))
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (column, found) in zip(row, converters, strict=True):
        for convert in found:
            value = convert(value, column, conn)
        values.append(value)
    return model.from_db(conn.alias, attnames, values)


def _exists(conn, model: type[Model], shape: tuple) -> str:
    table = conn.ops.quote_name(model._meta.db_table)
    return f"SELECT 1 FROM {table} WHERE {_clause(conn, model, shape)} LIMIT 1"  # noqa: S608


def row_exists(model: type[Model], **where: Any) -> bool:
    conn = _connection(model, write=False)
    shape, params = _where(conn, model, where)
    sql = _memo(conn, ("exists", model, shape), lambda: _exists(conn, model, shape))
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _values_select(conn, model: type[Model], names: tuple[str, ...], shape: tuple) -> tuple[str, list]:
    fields = [model._meta.get_field(name) for name in names]
    return _select_sql(conn, model, fields, _clause(conn, model, shape))


def rows_values(model: type[Model], names: tuple[str, ...], **where: Any) -> list[tuple]:
    """The `names` columns of every row whose columns equal `where`, as
    `model.objects.filter(**where).values_list(*names)` gives them (in no particular order)."""
    conn = _connection(model, write=False)
    shape, params = _where(conn, model, where)
    sql, converters = _memo(
        conn, ("values", model, names, shape), lambda: _values_select(conn, model, names, shape)
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    rows = []
    for row in found:
        values = []
        for value, (column, convert_all) in zip(row, converters, strict=True):
            for convert in convert_all:
                value = convert(value, column, conn)
            values.append(value)
        rows.append(tuple(values))
    return rows
