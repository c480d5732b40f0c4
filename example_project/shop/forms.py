"""The sign-up form of the demo shop (it has a password field to scrub)."""

from django import forms


class SignupForm(forms.Form):
    """Create a customer account; the birthday is optional."""

    username = forms.CharField(max_length=30)
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)
    birthday = forms.DateField(
        required=False,
        help_text="Optional: we send a voucher on your birthday.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
