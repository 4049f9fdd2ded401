#!/usr/bin/env python3
"""Writes an import file of N generated subscribers for `mailer import`, to measure it.

    python3 bench/make-subscribers.py 1000000 > /tmp/subscribers.csv
    python3 bench/make-subscribers.py 1000 --invalid-every 100 > /tmp/some-bad.csv

Addresses are person<N>@<domain>.example (reserved, never delivered); the output is the same for the same
arguments. Do not commit generated files.
"""
import argparse
import random
import sys

PLATFORMS = ["facebook;instagram", "facebook", "instagram", "", "instagram|facebook", "facebook instagram"]
LOCALES = ["de", "de", "de", "en", ""]
SOURCES = ["newsletter-2023", "Unterschriftenliste Messe", "form-v1", "import"]
BAD = [
    "broken-{n}.example,de,,2024-04-01T10:00:00Z,form",        # not an address
    "person-{n}@mail{d}.example,de,,,form",                     # no consent time
    "person-{n}@mail{d}.example,de,,2024-04-01T10:00:00Z,",    # no consent source
    "person-{n}@mail{d}.example,de,,2024-04-01 10:00,form",     # no offset
    "person-{n}@mail{d}.example,fr,,2024-04-01T10:00:00Z,form", # unknown locale
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", type=int)
    parser.add_argument("--invalid-every", type=int, default=0, help="make every Nth row invalid (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    out = sys.stdout
    out.write("email,locale,platforms,consent_at,consent_source\n")
    for n in range(args.rows):
        domain = n % 997
        if args.invalid_every and n % args.invalid_every == args.invalid_every - 1:
            out.write(BAD[(n // args.invalid_every) % len(BAD)].format(n=n, d=domain) + "\n")
            continue
        day = 1 + rng.randrange(28)
        minute = rng.randrange(24 * 60)
        offset = rng.choice(["Z", "+02:00", "+01:00"])
        consent_at = f"2024-0{1 + rng.randrange(4)}-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:{rng.randrange(60):02d}{offset}"
        platforms = rng.choice(PLATFORMS)
        if " " in platforms or ";" in platforms:
            platforms = f'"{platforms}"'
        out.write(f"person{n}@mail{domain}.example,{rng.choice(LOCALES)},{platforms},{consent_at},{rng.choice(SOURCES)}\n")


if __name__ == "__main__":
    main()
