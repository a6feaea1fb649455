"""Dedupe keys of stored mail in the form ``mail.rawmail.dedupe_key`` gives.

Keys were ``id:`` + the Message-ID's sha256 (or ``raw:`` + the bytes' sha256);
now they carry a fingerprint of sender, date, subject and body, so a mail
that reuses another's Message-ID is no longer its duplicate. Each row's
raw file is read once to compute its new key, so that fetching a mail stored
before the upgrade again is still a duplicate. A row whose raw file is gone
(retention) keeps its old key; so does a row whose new key another row has
(two deliveries of one mail without Message-ID, stored as two rows).

Batched by primary key, each batch in its own transaction (the migration is
not atomic as a whole): a large table is never held in one transaction, and
a run that stops half-way goes on where it stopped when started again (rows
already in the new form are not read again; ``raw:`` rows stay ``raw:``
when their mail has no Date, and are read again). Reversing gives rows the old
form where it is unique (the Message-ID is in the row, the bytes' sha256 too).
"""

from django.db import migrations, transaction
from django.db.models import Q

BATCH = 500
OLD_FORMS = Q(dedupe_key__startswith="id:") | Q(dedupe_key__startswith="raw:")
NEW_FORMS = Q(dedupe_key__startswith="mid:") | Q(dedupe_key__startswith="fp:")


def _read(name: str) -> bytes | None:
    from vivadesk_wagtail.storage import private_storage

    if not name:
        return None
    try:
        with private_storage().open(name, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _new_key(row) -> str | None:
    from vivadesk_wagtail.mail import rawmail

    raw = _read(row.raw.name if row.raw else "")
    if raw is None:
        return None
    message_id = row.message_id if row.dedupe_key.startswith("id:") else ""
    return rawmail.dedupe_key(raw, message_id)


def _rewrite(apps, rows_of, key_of) -> None:
    """Give each row of ``rows_of(model, after_pk)`` (taken in batches, by
    pk) the key ``key_of(row)``, unless that is ``None`` or another row's."""
    InboundMail = apps.get_model("vivadesk_wagtail", "InboundMail")
    after = 0
    while True:
        rows = list(rows_of(InboundMail, after)[:BATCH])
        if not rows:
            return
        after = rows[-1].pk
        keys = {}
        for row in rows:
            key = key_of(row)
            if key and key != row.dedupe_key and key not in keys.values():
                keys[row.pk] = key
        with transaction.atomic():
            taken = set(
                InboundMail.objects.filter(dedupe_key__in=keys.values()).values_list(
                    "dedupe_key", flat=True
                )
            )
            changed = []
            for row in rows:
                if keys.get(row.pk) and keys[row.pk] not in taken:
                    row.dedupe_key = keys[row.pk]
                    changed.append(row)
            InboundMail.objects.bulk_update(changed, ["dedupe_key"], batch_size=BATCH)


def forward(apps, schema_editor):
    _rewrite(
        apps,
        lambda model, after: (
            model.objects.filter(OLD_FORMS, pk__gt=after)
            .only("pk", "dedupe_key", "message_id", "raw")
            .order_by("pk")
        ),
        _new_key,
    )


def _old_key(row) -> str | None:
    import hashlib

    if row.dedupe_key.startswith("mid:") and row.message_id:
        return "id:" + hashlib.sha256(row.message_id.encode()).hexdigest()
    if row.dedupe_key.startswith("fp:") and row.sha256:
        return "raw:" + row.sha256
    return None


def backward(apps, schema_editor):
    _rewrite(
        apps,
        lambda model, after: (
            model.objects.filter(NEW_FORMS, pk__gt=after)
            .only("pk", "dedupe_key", "message_id", "sha256")
            .order_by("pk")
        ),
        _old_key,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("vivadesk_wagtail", "0009_security_fields"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=True)]
