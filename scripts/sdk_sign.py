#!/usr/bin/env python3
"""Signs and verifies payment-processor webhook deliveries with the processors' official SDKs,
for Refline's SDK signing tests (crates/app/tests/it/processor_sdks.rs).

    sdk_sign.py check        # imports every SDK, prints their versions
    sdk_sign.py batch        # JSON list of requests on stdin, JSON list of results on stdout

Requests (bodies are base64 so they stay byte-exact):
    {"op": "sign", "provider": P, "secrets": [S, ...], "timestamp": T, "msg_id": M, "body_b64": B}
        -> {"headers": {name: value}}   (one signature per secret, as during a rotation)
    {"op": "verify", "provider": P, "secret": S, "headers": {...}, "body_b64": B}
        -> {"accepts": true|false, "why": "..."}

Providers: "stripe" (stripe.WebhookSignature), "paddle" (paddle_billing's PaddleSignature and
Verifier), "polar" (signed as Polar signs, with standardwebhooks.Webhook over the base64 of the
secret's text; verified with polar.webhooks.validate_event), "polar-whsec" (a Standard Webhooks
`whsec_<base64>` secret: signed with standardwebhooks.Webhook(secret), verified with Polar's SDK).
"""

import base64
import datetime
import json
import sys


def sign(provider, secrets, timestamp, msg_id, body):
    text = body.decode("utf-8")
    if provider == "stripe":
        import stripe

        parts = [stripe.WebhookSignature.generate_signature_header(text, s, timestamp) for s in secrets]
        # Each header is "t=…,v1=…"; a rotation sends one t and several v1.
        v1 = [p.split(",", 1)[1] for p in parts]
        return {"Stripe-Signature": ",".join([f"t={timestamp}"] + v1)}
    if provider == "paddle":
        from paddle_billing.Notifications.PaddleSignature import PaddleSignature

        signed = f"{timestamp}:{text}".encode("utf-8")
        h1 = [f"h1={PaddleSignature.calculate_hmac(s, signed).hexdigest()}" for s in secrets]
        return {"Paddle-Signature": ";".join([f"ts={timestamp}"] + h1)}
    if provider in ("polar", "polar-whsec"):
        from standardwebhooks import Webhook

        when = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
        sigs = []
        for s in secrets:
            key = s if provider == "polar-whsec" else base64.b64encode(s.encode("utf-8")).decode()
            sigs.append(Webhook(key).sign(msg_id=msg_id, timestamp=when, data=text))
        return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": " ".join(sigs)}
    raise ValueError(f"unknown provider {provider}")


class _Request:
    def __init__(self, body, headers):
        self.body = body
        self.headers = headers


def verify(provider, secret, headers, body):
    if provider == "stripe":
        import stripe

        try:
            # construct_event's default tolerance.
            stripe.WebhookSignature.verify_header(body, headers.get("Stripe-Signature"), secret, tolerance=300)
            return True, "ok"
        except Exception as e:  # noqa: BLE001 - any refusal is a refusal
            return False, repr(e)
    if provider == "paddle":
        from paddle_billing.Notifications.Secret import Secret
        from paddle_billing.Notifications.Verifier import Verifier

        try:
            return bool(Verifier().verify(_Request(body, headers), Secret(secret))), "verifier"
        except Exception as e:  # noqa: BLE001
            return False, repr(e)
    if provider in ("polar", "polar-whsec"):
        from polar.webhooks import validate_event

        event_type = json.loads(body).get("type", "")
        try:
            validate_event(body, headers, secret, frozenset([event_type]), lambda data: data)
            return True, "ok"
        except Exception as e:  # noqa: BLE001
            return False, repr(e)
    raise ValueError(f"unknown provider {provider}")


def main():
    if sys.argv[1:] == ["check"]:
        import importlib.metadata as md

        import paddle_billing  # noqa: F401
        import polar.webhooks  # noqa: F401
        import standardwebhooks  # noqa: F401
        import stripe  # noqa: F401

        for name in ("standardwebhooks", "stripe", "paddle-python-sdk", "polar-sdk"):
            print(f"{name} {md.version(name)}")
        return
    if sys.argv[1:] != ["batch"]:
        sys.exit(__doc__)
    out = []
    for req in json.load(sys.stdin):
        body = base64.b64decode(req["body_b64"])
        if req["op"] == "sign":
            out.append({"headers": sign(req["provider"], req["secrets"], req["timestamp"], req.get("msg_id", ""), body)})
        else:
            accepts, why = verify(req["provider"], req["secret"], req["headers"], body)
            out.append({"accepts": accepts, "why": why})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
