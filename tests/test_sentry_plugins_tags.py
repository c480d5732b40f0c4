"""The plugin templates' helpers: shares of a total and the bars that show them."""

import pytest

from sentry.templatetags.sentry_plugins import share, share_bar


@pytest.mark.parametrize(
    "count, total, percent",
    [
        (3, 4, 75),
        (1, 1000, 1),  # seen at all: never shown as 0 %
        (0, 10, 0),
        (5, 0, 0),  # no total yet: nothing to divide
        (12, 10, 100),  # a counter ahead of its group's total: capped
        ("x", 10, 0),
        (None, None, 0),
    ],
)
def test_a_share_is_a_whole_percentage_of_the_total(count, total, percent):
    assert share(count, total) == percent


def test_a_share_bar_draws_its_width_as_an_attribute_not_a_style():
    html = share_bar(42)

    assert '<rect class="fill" width="42" height="6"/>' in html
    assert '<span class="share-text">42%</span>' in html
    assert 'title="42% of the occurrences"' in html
    assert "style=" not in html  # the Content-Security-Policy allows none inline


def test_a_share_bar_clamps_and_escapes_what_it_is_given():
    assert '<rect class="fill" width="100"' in share_bar(250)
    assert '<rect class="fill" width="0"' in share_bar("<script>")
    assert "<b>" not in share_bar(5, label="<b>of them</b>")
    assert "&lt;b&gt;of them&lt;/b&gt;" in share_bar(5, label="<b>of them</b>")
