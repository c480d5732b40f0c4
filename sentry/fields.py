"""
Model fields of packed values (see :mod:`sentry.packing`).

:class:`PackedPickleField` is a ``PickledObjectField`` whose column holds
the packed pickle as bytes; :class:`PackedTextField` holds text the same
way. Both read and write plain Python values through the ORM; in the
database they are opaque bytes, so the only lookups they support are
``isnull`` and comparisons with ``None``.
"""

import logging

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact
from picklefield.fields import PickledObjectField, dbsafe_encode

logger = logging.getLogger("sentry.errors")


def _packing():
    # sentry.packing imports the models, which import these fields.
    from . import packing

    return packing


class NoneOnlyExact(Exact):
    def __init__(self, lhs, rhs):
        if rhs is not None:
            raise FieldError(
                f"{lhs.output_field.__class__.__name__} is stored packed: "
                "it can only be compared with None"
            )
        super().__init__(lhs, rhs)


class _PackedMixin:
    """What both fields share: bytes in the column, ``isnull`` only."""

    def get_internal_type(self):
        return "BinaryField"

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return models.lookups.IsNull
        if lookup_name == "exact":
            return NoneOnlyExact
        return None

    def _to_column(self, packed, connection):
        if connection is None:
            return packed
        return connection.Database.Binary(packed)

    def _from_column(self, value, connection):
        if value is None:
            return None
        try:
            return self.decode(_packing().unpack(value, connection.alias))
        except Exception as exc:
            # Never take a page down: say what is wrong instead.
            logger.error("Unable to read %s of a stored occurrence: %s", self.name, exc)
            return self.unreadable(exc)

    def from_db_value(self, value, expression, connection):
        return self._from_column(value, connection)


class PackedPickleField(_PackedMixin, PickledObjectField):
    """Shaped builtins, pickled and packed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("compress", True)
        kwargs.setdefault("copy", False)
        super().__init__(*args, **kwargs)

    def decode(self, raw):
        return _packing().loads(raw)

    def unreadable(self, exc):
        return {"_unreadable": str(exc)}

    def get_db_prep_value(self, value, connection=None, prepared=False):
        if value is None:
            return None
        return self._to_column(_packing().pack(_packing().dumps(value)), connection)

    def to_python(self, value):
        # Serialized form (dumpdata/loaddata): picklefield's base64 text.
        return super().to_python(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else str(dbsafe_encode(value, True, copy=False))


class PackedTextField(_PackedMixin, models.Field):
    """Text (a traceback), packed."""

    description = "Packed text"
    empty_strings_allowed = True

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def decode(self, raw):
        return raw.decode("utf-8", "surrogatepass")

    def unreadable(self, exc):
        return f"(unreadable: {exc})"

    def get_db_prep_value(self, value, connection=None, prepared=False):
        if value is None:
            return None
        raw = str(value).encode("utf-8", "surrogatepass")
        return self._to_column(_packing().pack(raw), connection)

    def to_python(self, value):
        return value if value is None else str(value)

    def value_to_string(self, obj):
        return self.value_from_object(obj)
