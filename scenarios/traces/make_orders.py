"""Writes orders.csv: a synthetic Black Friday morning of orders (see README.md).

Deterministic: Python's Mersenne Twister with a fixed seed (random.random and expovariate have
been stable across Python 3 versions). Run from this directory: python3 make_orders.py
"""

import datetime
import random

SEED = 20251128
START = datetime.datetime(2025, 11, 28, 9, 0, 0, tzinfo=datetime.timezone.utc)
# (from second, to second, orders per second): an hourly curve, and a 3x burst from 11:00 to
# 11:30 (a flash sale) over that hour's rate.
SEGMENTS = [
    (0, 3600, 0.25),
    (3600, 7200, 0.30),
    (7200, 9000, 1.05),
    (9000, 10800, 0.35),
    (10800, 14400, 0.30),
]
KEYS = [("checkout", 0.60), ("update", 0.25), ("cancel", 0.10), ("refund", 0.05)]


def main():
    rng = random.Random(SEED)
    rows = []
    for start, end, rate in SEGMENTS:
        # A Poisson process restarted at each boundary is exact for a piecewise constant rate.
        t = start + rng.expovariate(rate)
        while t < end:
            rows.append((t, key(rng)))
            t += rng.expovariate(rate)
    with open("orders.csv", "w", newline="") as out:
        out.write("time,key\n")
        for t, k in rows:
            stamp = START + datetime.timedelta(milliseconds=round(t * 1000))
            out.write(stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z,{k}\n")


def key(rng):
    u = rng.random()
    for name, p in KEYS:
        if u < p:
            return name
        u -= p
    return KEYS[-1][0]


if __name__ == "__main__":
    main()
