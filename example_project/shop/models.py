"""
The demo shop's catalogue and orders.

``Order.reference`` is unique: the re-order view breaks that constraint on
purpose, to show an ``IntegrityError`` recorded by django-sentry although the
transaction it happened in was rolled back.
"""

from django.db import models


class Product(models.Model):
    """Something the shop sells, with what is left in the warehouse."""

    sku = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("sku",)

    def __str__(self):
        return f"{self.sku} {self.name}"


class Order(models.Model):
    """A placed order; its reference is printed on invoices, so it is unique."""

    reference = models.CharField(max_length=20, unique=True)
    customer = models.CharField(max_length=50, db_index=True)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self):
        return self.reference
