"""
Occurrences' ``data`` and ``traceback`` are stored packed (see sentry.packing).

Existing rows are converted in place: ``data`` was django-picklefield's
base64 text of a zlib stream, which is kept as the stream itself (packing
``0x01``); ``traceback`` text is compressed the same way.
"""

import base64
import zlib

from django.db import migrations, models

import sentry.fields

BATCH = 1000


def pack_text(text):
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) < 24:
        return b"\x00" + raw
    return b"\x01" + zlib.compress(raw, 6)


def convert_rows(connection, source, target, convert):
    """Rewrite every occurrence's ``source`` columns into ``target``, in batches."""
    quote = connection.ops.quote_name
    table = quote("sentry_message")
    pk = quote("id")
    read = ", ".join(quote(name) for name in source)
    write = ", ".join(f"{quote(name)} = %s" for name in target)
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT {pk}, {read} FROM {table} WHERE {pk} > %s "
                f"ORDER BY {pk} LIMIT {BATCH}",
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            cursor.executemany(
                f"UPDATE {table} SET {write} WHERE {pk} = %s",
                [(*convert(*values), row_id) for row_id, *values in rows],
            )
            last = rows[-1][0]


def pack_rows(apps, schema_editor):
    binary = schema_editor.connection.Database.Binary

    def convert(data, traceback):
        if data is not None:
            data = binary(b"\x01" + base64.b64decode(data))
        if traceback is not None:
            traceback = binary(pack_text(traceback))
        return data, traceback

    convert_rows(
        schema_editor.connection,
        ("data", "traceback"),
        ("data_packed", "traceback_packed"),
        convert,
    )


def unpack(value, dictionaries, cursor, quote):
    value = bytes(value)
    if value[0] == 0:
        return value[1:]
    if value[0] == 1:
        return zlib.decompress(value[1:])
    number = shift = 0
    index = 1
    while True:
        byte = value[index]
        number |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            break
        shift += 7
    if number not in dictionaries:
        cursor.execute(
            f"SELECT {quote('data')} FROM {quote('sentry_compressiondictionary')} "
            f"WHERE {quote('id')} = %s",
            [number],
        )
        dictionaries[number] = bytes(cursor.fetchone()[0])
    inflater = zlib.decompressobj(zdict=dictionaries[number])
    return inflater.decompress(value[index:])


def unpack_rows(apps, schema_editor):
    """Back to picklefield's base64 text and plain text (migrating backwards)."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    dictionaries = {}

    with connection.cursor() as lookup:

        def convert(data, traceback):
            if data is not None:
                data = unpack(data, dictionaries, lookup, quote)
                data = base64.b64encode(zlib.compress(data)).decode()
            if traceback is not None:
                traceback = unpack(traceback, dictionaries, lookup, quote)
                traceback = traceback.decode("utf-8", "surrogatepass")
            return data, traceback

        convert_rows(
            connection, ("data_packed", "traceback_packed"), ("data", "traceback"), convert
        )


class Migration(migrations.Migration):
    dependencies = [
        ("sentry", "0005_queuedevent"),
    ]

    operations = [
        migrations.CreateModel(
            name="CompressionDictionary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("logger", models.CharField(max_length=64)),
                ("view", models.CharField(max_length=200)),
                ("checksum", models.CharField(max_length=32)),
                ("digest", models.CharField(max_length=40)),
                ("data", models.BinaryField()),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "compression dictionary",
                "verbose_name_plural": "compression dictionaries",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("logger", "view", "checksum"),
                        name="sentry_dictionary_group_key",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="message",
            name="data_packed",
            field=sentry.fields.PackedPickleField(
                blank=True, compress=True, editable=False, null=True
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="traceback_packed",
            field=sentry.fields.PackedTextField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(pack_rows, unpack_rows, elidable=True),
        migrations.RemoveField(model_name="message", name="data"),
        migrations.RemoveField(model_name="message", name="traceback"),
        migrations.RenameField(
            model_name="message", old_name="data_packed", new_name="data"
        ),
        migrations.RenameField(
            model_name="message", old_name="traceback_packed", new_name="traceback"
        ),
    ]
