"""The statements the inbound pipeline runs for every mail, written once.

The one module that leans on Django's internals, because building and
compiling these statements anew was most of the pipeline's time
(docs/benchmarks.md); :func:`fast` names what it relies on.
"""

from __future__ import annotations

import functools

import django
from django.db import connections, router
from django.db.models import F, Field, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.expressions import Col

#: The Django releases whose internals ``tests/test_statements.py`` checked;
#: on any other the helpers take the ORM's way.
VERIFIED_DJANGO = ((5, 2),)


@functools.cache
def fast() -> bool:
    """Whether the statements written here are used: this Django is a
    verified release and still has what they rely on.

    The helpers write their statements from the model's metadata once per
    model, column set and database and keep Django's own per-field
    conversions, so a row holds exactly what ``save()`` or ``bulk_create()``
    would have written and an object read back is what a queryset would have
    built. Beyond Django's public API they rely on ``Model._state``
    (``adding``, ``db``) as ``bulk_create`` sets it, the backend's and the
    expression's ``get_db_converters``, and the ``_result_cache`` /
    ``_prefetch_done`` / ``_prefetched_objects_cache`` of a prefetched
    relation, checked here once (with the release ``tests/test_statements.py``
    verified). When this says no, every helper takes the ORM's way:
    ``bulk_create``, ``QuerySet.update``, a read of the row by primary key, no
    cache.
    """
    state = ModelState()
    return (
        django.VERSION[:2] in VERIFIED_DJANGO
        and hasattr(state, "adding")
        and hasattr(state, "db")
        and {"_result_cache", "_prefetch_done"} <= vars(QuerySet()).keys()
        and hasattr(Col, "get_db_converters")
        and all(
            hasattr(connections[alias].ops, "get_db_converters")
            for alias in connections
        )
    )


def connection_for(model):
    """The connection the pipeline writes ``model`` on, and reads it on in
    the writer's transaction."""
    return connections[router.db_for_write(model)]


@functools.lru_cache(maxsize=64)
def _insert_fields(model) -> tuple:
    """The fields an INSERT writes (every concrete field but the auto pk),
    each with whether its ``pre_save`` does more than read the attribute
    (``auto_now`` stamps, files)."""
    meta = model._meta
    return tuple(
        (f, type(f).pre_save is not Field.pre_save)
        for f in meta.local_concrete_fields
        if f is not meta.auto_field and not getattr(f, "generated", False)
    )


def _value(field, own_pre_save: bool, obj, add: bool, connection):
    """What ``save()`` writes to ``field``'s column for ``obj``."""
    if own_pre_save:
        value = field.pre_save(obj, add)
    else:
        value = getattr(obj, field.attname)
    return field.get_db_prep_save(value, connection)


@functools.lru_cache(maxsize=64)
def _insert_sql(model, rows: int, alias: str) -> str:
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(f.column) for f, _pre in fields)
    values = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "
        f"VALUES {', '.join([values] * rows)} RETURNING {quote(meta.pk.column)}"
    )


def insert(objs: list[Model], using: str | None = None) -> None:
    """Insert unsaved instances of one model in one statement and set their
    primary keys, as ``bulk_create`` does; on the database ``using`` (by
    default the one the router writes the model to).

    Values are converted with ``Field.pre_save`` (``auto_now`` stamps, files)
    and ``get_db_prep_save`` (JSON, dates, …); like ``bulk_create()`` no model
    signals are sent (the help-desk models have no receivers that depend on
    them). The statement needs ``RETURNING`` (PostgreSQL, SQLite 3.35+) and
    a model without parents; otherwise ``bulk_create`` runs.
    """
    model = type(objs[0])
    connection = connections[using] if using else connection_for(model)
    if (
        not fast()
        or model._meta.parents
        or not connection.features.can_return_rows_from_bulk_insert
    ):
        model._default_manager.using(connection.alias).bulk_create(objs)
        return
    fields = _insert_fields(model)
    params = [
        _value(field, own, obj, True, connection)
        for obj in objs
        for field, own in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs), connection.alias), params)
        keys = cursor.fetchall()
    for obj, (key,) in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias


@functools.lru_cache(maxsize=64)
def _update_sql(
    model, fields: tuple, increments: tuple, where: tuple, alias: str
) -> str:
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in meta.concrete_fields}
    sets = [f"{column[name]} = %s" for name in fields]
    sets += [f"{column[name]} = {column[name]} + 1" for name in increments]
    conditions = [f"{quote(meta.pk.column)} = %s"]
    conditions += [f"{column[name]} = %s" for name in where]
    return (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "
        f"WHERE {' AND '.join(conditions)}"
    )


def update(obj: Model, fields, *, increments=(), **where) -> int:
    """Write ``fields`` of a saved instance (``auto_now`` stamps refreshed)
    and add one to the columns ``increments``, where its row still has the
    values ``where``; the number of rows changed (0 or 1).

    Values are converted as :func:`insert` converts them; like
    ``QuerySet.update()`` no model signals are sent.
    """
    model = type(obj)
    if not fast():
        return _update_orm(obj, fields, increments, where)
    connection = connection_for(model)
    meta = model._meta
    params = [
        field.get_db_prep_save(field.pre_save(obj, False), connection)
        for field in map(meta.get_field, fields)
    ]
    params.append(meta.pk.get_db_prep_value(obj.pk, connection))
    for name, value in where.items():
        params.append(meta.get_field(name).get_db_prep_save(value, connection))
    sql = _update_sql(
        model, tuple(fields), tuple(increments), tuple(where), connection.alias
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed = cursor.rowcount
    for name in increments:
        if changed:
            setattr(obj, name, getattr(obj, name) + 1)
    return changed


def _update_orm(obj: Model, fields, increments, where) -> int:
    """:func:`update` through ``QuerySet.update`` (one statement as well)."""
    meta = obj._meta
    values = {
        meta.get_field(name).attname: meta.get_field(name).pre_save(obj, False)
        for name in fields
    }
    values.update({name: F(name) + 1 for name in increments})
    changed = type(obj)._default_manager.filter(pk=obj.pk, **where).update(**values)
    for name in increments:
        if changed:
            setattr(obj, name, getattr(obj, name) + 1)
    return changed


@functools.lru_cache(maxsize=64)
def _readers(model, alias: str) -> tuple:
    """Per concrete field: the expression the converters expect and the
    converters the ORM's compiler applies to its column."""
    connection = connections[alias]
    readers = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        converters = tuple(
            connection.ops.get_db_converters(column)
            + column.get_db_converters(connection)
        )
        readers.append((column, converters))
    return tuple(readers)


@functools.lru_cache(maxsize=64)
def _layout(model) -> tuple[int, tuple]:
    """The position of the primary key among the concrete fields, and their
    attribute names."""
    fields = model._meta.concrete_fields
    return fields.index(model._meta.pk), tuple(f.attname for f in fields)


def columns(model) -> str:
    """The SELECT list of every concrete column of ``model``'s table (named
    by the table, so a query may join several models)."""
    return _select_list(model, connection_for(model).alias)


@functools.lru_cache(maxsize=64)
def _select_list(model, alias: str) -> str:
    quote = connections[alias].ops.quote_name
    table = quote(model._meta.db_table)
    return ", ".join(f"{table}.{quote(f.column)}" for f in model._meta.concrete_fields)


def column(model, name: str) -> str:
    """``"table"."column"`` of the field ``name`` (``pk`` for the primary
    key), for joins and conditions of the reads spelt out in SQL."""
    quote = connection_for(model).ops.quote_name
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return f"{quote(model._meta.db_table)}.{quote(field.column)}"


def table(model) -> str:
    """The quoted table name of ``model``."""
    return connection_for(model).ops.quote_name(model._meta.db_table)


def width(model) -> int:
    """How many values :func:`columns` selects."""
    return len(model._meta.concrete_fields)


def load(model, values):
    """The instance of ``model`` from its slice of a row (``None`` when the
    row has no such object: an outer join found nothing).

    With :func:`columns`, for the few reads the pipeline spells out in SQL:
    the converters the ORM's compiler applies (``from_db_value``, the
    backend's date and boolean converters) run on each value.
    """
    connection = connection_for(model)
    pk_index, names = _layout(model)
    if values[pk_index] is None:
        return None
    if not fast():
        manager = model._default_manager.using(connection.alias)
        return manager.get(pk=values[pk_index])
    converted = []
    for value, (column, converters) in zip(
        values, _readers(model, connection.alias), strict=True
    ):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)


def remember(obj: Model, relation: str, related: list[Model]) -> None:
    """Let ``obj.<relation>.all()`` return ``related`` (rows just written
    for ``obj``, in order) without a query, as after ``prefetch_related``;
    without :func:`fast` the relation is read when asked for."""
    if not fast():
        return
    if related:
        queryset = getattr(obj, relation).all()
    else:  # cheaper to build than the relation's own
        queryset = getattr(type(obj), relation).field.model._default_manager.none()
    queryset._result_cache = list(related)
    queryset._prefetch_done = True
    cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[relation] = queryset
