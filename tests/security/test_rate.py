"""New public computations pass a token bucket (issue: hardening, item 5): cached answers never
wait; a burst of new ones gets 429 with Retry-After."""

from __future__ import annotations

from vdto.api.deps import MissLimiter


def test_the_bucket_admits_its_rate_and_refuses_a_burst():
    bucket = MissLimiter(rate=2.0, burst=2.0)
    assert [bucket.admit(10.0) for _ in range(4)] == [True, True, False, False]
    assert bucket.admit(10.5) and not bucket.admit(10.5)  # half a second: one more
    assert [bucket.admit(20.0) for _ in range(3)] == [True, True, False]  # refilled to the burst, not beyond
