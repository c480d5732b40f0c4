"""
Realistic events for the benchmarks: what sentry-sdk really sends.

Fifty distinct errors, each raised ten frames deep through code of its own
(real source lines, so frames carry real context), with local variables in
every frame and a Django-like request, captured by the real ``sentry_sdk``
into envelopes (about 5.5 KB each: eight frames, two lines of context
around each). Each occurrence then gets its own event
id, timestamp and a few local values of its own, as real occurrences do.

    from benchmarks.events import EventFactory
    factory = EventFactory()        # captures the 50 templates once
    body = factory.envelope(n)      # envelope bytes of occurrence n
"""

import json
import linecache
import random
import uuid

KINDS = 50
#: Frames: run_<kind>() and DEPTH steps.
DEPTH = 7
#: Source lines kept around each frame's line (sentry-sdk sends 5).
CONTEXT = 2

SOURCE = '''\
"""Orders, kind {kind}: a made-up module whose code fails on purpose."""


class Order{kind}:
    def __init__(self, number, customer):
        self.number = number
        self.customer = customer
        self.lines = [{{"sku": f"SKU-{{n}}", "qty": n, "price": 9.5}} for n in range(3)]

    def __repr__(self):
        return f"<Order{kind} {{self.number}} for {{self.customer}}>"

{functions}

def run_{kind}(number):
    order = Order{kind}(number, "jane@example.com")
    context = {{"user": "jane", "cart": [1, 2, 3], "currency": "EUR"}}
    return step_{kind}_1(order, 1)
'''

STEP = """
def step_{kind}_{depth}(order, depth):
    label = "step {depth} of order %s" % order.number
    if depth >= {depth_total}:
        total = sum(line["qty"] for line in order.lines)
        return {failure}
    return step_{kind}_{next}(order, depth + 1)
"""

FAILURES = (
    "total / (depth - {depth_total})",
    "order.lines[total]['sku']",
    "order.lines[0]['missing_{kind}']",
    "int(label)",
    "order.customer.unknown_{kind}",
)


def module_source(kind):
    failure = FAILURES[kind % len(FAILURES)].format(depth_total=DEPTH, kind=kind)
    functions = "".join(
        STEP.format(
            kind=kind,
            depth=depth,
            next=depth + 1,
            depth_total=DEPTH,
            failure=failure,
        )
        for depth in range(1, DEPTH + 1)
    )
    return SOURCE.format(kind=kind, functions=functions)


def load_module(kind):
    """Compile kind ``kind``'s module with its source where tracebacks look."""
    import types

    name = f"shop.orders.kind{kind}"
    filename = f"/srv/shop/shop/orders/kind{kind}.py"
    source = module_source(kind)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def request_context(kind):
    return {
        "url": f"https://shop.example.com/orders/{kind}/checkout/",
        "method": "POST",
        "query_string": "step=2&ref=mail",
        "headers": {
            "Host": "shop.example.com",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            "Accept": "text/html,application/xhtml+xml",
            "Accept-Language": "en-GB,en;q=0.9",
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": "https://shop.example.com/cart/",
        },
        "data": {"sku": "A-1", "qty": "2", "password": "hunter2"},
        "env": {"REMOTE_ADDR": "203.0.113.7", "SERVER_NAME": "shop.example.com"},
    }


def full_capture_options(sentry_sdk):
    """Return the options that make sentry-sdk send locals and user data."""
    if int(sentry_sdk.VERSION.split(".")[0]) < 3:
        return {"include_local_variables": True, "send_default_pii": True}
    # sentry-sdk 3 replaced both options by data_collection.
    return {"data_collection": {"user_info": True, "stack_frame_variables": True}}


def _capture(sentry_sdk, module, kind):
    # A frame of its own, with few locals: the SDK serialises this one too.
    try:
        module.__dict__[f"run_{kind}"](1000 + kind)
    except Exception as exc:
        with sentry_sdk.new_scope() as local:
            local.set_tag("tenant", f"tenant-{kind % 5}")
            local.set_user({"id": f"u-{kind}", "email": "jane@example.com"})
            local.add_breadcrumb(category="query", message="SELECT ... FROM orders")
            sentry_sdk.capture_exception(exc)


def capture_templates():
    """Return one event payload (a dict) per kind, captured by sentry_sdk."""
    import sentry_sdk
    from sentry_sdk.transport import Transport

    captured = []

    class Keep(Transport):
        def capture_envelope(self, envelope):
            for item in envelope.items:
                if item.type == "event":
                    captured.append(json.loads(item.payload.get_bytes()))

    sentry_sdk.init(
        dsn="http://public@127.0.0.1:9/1",
        transport=Keep,
        default_integrations=False,
        auto_enabling_integrations=False,
        release="shop@4.2.0",
        environment="production",
        server_name="web-1",
        in_app_include=["shop"],
        **full_capture_options(sentry_sdk),
    )
    for kind in range(KINDS):
        _capture(sentry_sdk, load_module(kind), kind)
    sentry_sdk.flush(timeout=5)
    # Off again, with no integration patching anything of this process.
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
    for kind, event in enumerate(captured):
        event["request"] = request_context(kind)
        event.pop("modules", None)
        # The capturing loop's own frame is the benchmark's, not the shop's.
        for value in event["exception"]["values"]:
            frames = value["stacktrace"]["frames"]
            frames[:] = [f for f in frames if f.get("module") != __name__]
            for frame in frames:
                frame["pre_context"] = frame.get("pre_context", [])[-CONTEXT:]
                frame["post_context"] = frame.get("post_context", [])[:CONTEXT]
    return captured


class EventFactory:
    """Envelope bytes of occurrence ``n``: kind ``n % 50``, its own id and values."""

    def __init__(self, seed=0):
        self.templates = capture_templates()
        self.random = random.Random(seed)

    def payload(self, n, event_id=None, timestamp=None):
        """Return occurrence ``n`` as a dict."""
        event = json.loads(json.dumps(self.templates[n % len(self.templates)]))
        event["event_id"] = event_id or uuid.uuid4().hex
        if timestamp is not None:
            event["timestamp"] = timestamp
        number = str(100000 + n)
        for value in event["exception"]["values"]:
            for frame in value["stacktrace"]["frames"]:
                local_vars = frame.get("vars") or {}
                if "order" in local_vars:
                    local_vars["order"] = f"<Order {number} for 'jane@example.com'>"
                if "label" in local_vars:
                    local_vars["label"] = f"'step {frame.get('lineno')} of {number}'"
        event["request"]["query_string"] = f"step=2&ref=mail&n={number}"
        return event

    def envelope(self, n, event_id=None, timestamp=None):
        """Return occurrence ``n`` as envelope bytes (not compressed)."""
        event = self.payload(n, event_id, timestamp)
        payload = json.dumps(event, separators=(",", ":")).encode()
        header = json.dumps({"event_id": event["event_id"], "sent_at": timestamp})
        item = json.dumps({"type": "event", "length": len(payload)})
        return header.encode() + b"\n" + item.encode() + b"\n" + payload + b"\n"


if __name__ == "__main__":
    factory = EventFactory()
    sizes = [len(factory.envelope(n)) for n in range(KINDS)]
    frames = [
        len(factory.payload(0)["exception"]["values"][-1]["stacktrace"]["frames"])
    ]
    print(f"kinds: {len(sizes)}, envelope bytes: min {min(sizes)}, max {max(sizes)}")
    print(f"mean {sum(sizes) / len(sizes):.0f}, frames of the first: {frames[0]}")
