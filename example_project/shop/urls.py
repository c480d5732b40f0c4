"""URLs of the demo shop."""

from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.home, name="home"),
    path("customers/stats/", views.customer_stats, name="customer_stats"),
    path("cart/add-one/", views.cart_add_one, name="cart_add_one"),
    path("quote/", views.quote, name="quote"),
    path("orders/<str:reference>/reorder/", views.reorder, name="reorder"),
    path("stock/", views.stock, name="stock"),
    path("checkout/", views.checkout, name="checkout"),
    path("signup/", views.signup, name="signup"),
]
