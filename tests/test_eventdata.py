"""Event data is shaped along Sentry's layout, not cut off at the frames."""

from django.test import override_settings

from sentry import pipeline
from sentry.client.models import client
from sentry.utils.eventdata import shape_event_data
from sentry.utils.shaping import DEPTH_MARK
from tests.factories import exc_info_of


def client_data():
    _, exc, _ = exc_info_of(ValueError("x"))
    return client.build_event(exception=exc, data={"a": {"b": [1, 2]}})["data"]


def test_frames_keep_their_variables_beyond_the_plain_depth_limit():
    data = {
        "exception": {
            "values": [
                {
                    "type": "E",
                    "stacktrace": {
                        "frames": [{"function": "f", "vars": {"a": {"b": {"c": 1}}}}]
                    },
                }
            ]
        }
    }

    shaped = shape_event_data(data)

    frame = shaped["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame["vars"] == {"a": {"b": {"c": 1}}}


def test_what_the_client_shaped_is_left_as_it_was():
    data = client_data()
    assert shape_event_data(data) == data


def test_prepare_gives_the_same_result_shaped_or_not():
    event = client.build_event(message="m", data={"k": "v"})
    event["data"] = client_data()

    assert (
        pipeline.prepare(dict(event), shaped=False)["data"]
        == (pipeline.prepare(dict(event), shaped=True)["data"])
    )


def test_free_form_parts_are_still_bounded():
    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}

    shaped = shape_event_data({"extra": deep, "contexts": deep})

    # As the client shapes extra data: depth counts from the part's root.
    assert shaped["extra"]["a"]["b"]["c"]["d"] == {"e": DEPTH_MARK}
    assert shaped["contexts"] == shaped["extra"]


@override_settings(SENTRY_MAX_FRAMES=4)
def test_long_stacks_keep_both_ends():
    frames = [{"function": f"f{n}"} for n in range(10)]

    shaped = shape_event_data({"stacktrace": {"frames": frames}})

    names = [f["function"] for f in shaped["stacktrace"]["frames"]]
    assert names == ["f0", "f1", "f8", "f9"]
    assert shaped["stacktrace"]["frames_omitted"] == 6


def test_parts_that_break_the_layout_are_dropped():
    shaped = shape_event_data(
        {
            "exception": "text",
            "logentry": ["x"],
            "tags": "t",
            "threads": {"values": [1, {"id": 1, "stacktrace": "no"}]},
            "breadcrumbs": [1, {"message": "ok"}],
            "other": {"kept": True},
        }
    )

    assert shaped == {
        "threads": {"values": [{"id": 1}]},
        "breadcrumbs": {"values": [{"message": "ok"}]},
        "other": {"kept": True},
    }


def test_anything_but_a_dict_is_no_data():
    assert shape_event_data(["x"]) == {}
