"""Webhook delivery to the desks: Standard Webhooks signing, filters, retries, dead letters.

One module per responsibility, following the alert from the ``alerts`` topic to a desk:

- ``subscriptions``: who wants what (YAML validated by a JSON Schema), ``Subscription.accepts``.
- ``signing``: Standard Webhooks signatures (``whsec_`` secrets, ``v1,<base64>``).
- ``destination``: the SSRF guard, checked where each connection is opened.
- ``webhook``: one HTTP attempt (timeouts, bounded answers) and its classification.
- ``retry`` / ``breaker``: when to try again, when to stop hammering (pure, injected RNG/clock).
- ``attempts``: one alert to one subscriber, with retries, the breaker and the observer.
- ``offsets``: which Kafka offsets may be committed when records finish out of order.
- ``dispatcher``: one Kafka consumer position per subscriber, dead letters, commits.
- ``replay``: re-drive a subscriber's dead letters.
- ``receiver``: a small verifying webhook receiver for the demo and the tests.
"""
