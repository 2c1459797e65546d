"""What one customer message costs the FAQ bot's matcher with a knowledge base of 200 entries and
of 5,000, measured in the same run. Target: the 5,000-entry cost at most 3× the 200-entry cost.

    python -m benchmarks.bot_matching [--quick]

The bases are the test set's 40 entries of a collections business (tests/bots/faq_set.py) plus
synthetic entries built from them: each synthetic entry takes a real entry's question and phrasings
and adds two product names drawn from a pool that grows with the square root of the base (a real
base's vocabulary grows more slowly than its entries, Heaps' law). The messages are the test set's
200 customer paraphrases, so every base is asked the same thing. Building the matcher is timed too
(it happens once per knowledge base revision, not per message).
"""

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass

from atiende.bots.matcher import KnowledgeMatcher, Phrased
from tests.bots.faq_set import ENTRIES, PARAPHRASES

TARGET_RATIO = 3.0
SYLLABLES = "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo la le li lo lu ma me mi mo mu na ne " \
            "ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi vo za ze zo".split()


@dataclass(frozen=True)
class Size:
    entries: int
    build_ms: float
    per_message_us: float  # median of the repeats
    messages: int


@dataclass(frozen=True)
class Result:
    small: Size
    large: Size

    @property
    def ratio(self) -> float:
        return self.large.per_message_us / self.small.per_message_us

    @property
    def meets_target(self) -> bool:
        return self.ratio <= TARGET_RATIO


def knowledge_base(size: int, seed: int = 7) -> tuple[list[Phrased], dict[int, str]]:
    """The 40 real entries, then synthetic ones up to ``size``."""
    rng = random.Random(seed)
    pool = [rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
            for _ in range(max(40, int(30 * size ** 0.5)))]
    entries = [Phrased(i, question, tuple(phrasings)) for i, (question, phrasings, _) in enumerate(ENTRIES)]
    answers = {i: answer for i, (_, _, answer) in enumerate(ENTRIES)}
    for i in range(len(entries), size):
        question, phrasings, answer = ENTRIES[i % len(ENTRIES)]
        product = f"{rng.choice(pool)} {rng.choice(pool)}"
        entries.append(Phrased(i, f"{question} {product}", tuple(f"{p} {product}" for p in phrasings)))
        answers[i] = f"{answer} ({product})"
    return entries, answers


def measure(size: int, repeats: int) -> Size:
    entries, answers = knowledge_base(size)
    started = time.perf_counter()
    matcher = KnowledgeMatcher(entries, answers)
    build_ms = (time.perf_counter() - started) * 1000
    messages = [text for paraphrases in PARAPHRASES for text in paraphrases]
    for text in messages:  # warm the typo cache and the stemmer's, as a running bot has them
        matcher.match(text)
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in messages:
            matcher.match(text)
        rounds.append((time.perf_counter() - started) / len(messages) * 1e6)
    return Size(size, round(build_ms, 1), round(statistics.median(rounds), 1), len(messages))


def run(sizes: tuple[int, int] = (200, 5000), repeats: int = 5) -> Result:
    return Result(measure(sizes[0], repeats), measure(sizes[1], repeats))


def report(result: Result) -> str:
    lines = ["FAQ bot matching cost per customer message (median of repeats, one core)"]
    for size in (result.small, result.large):
        lines.append(f"   {size.entries:>6} entries   {size.per_message_us:>8.1f} µs/message   "
                     f"(matcher built in {size.build_ms:.0f} ms; {size.messages} messages)")
    lines.append(f"   ratio {result.ratio:.2f}× (target ≤ {TARGET_RATIO:.0f}×): "
                 f"{'meets target' if result.meets_target else 'MISSES target'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes: checks the machinery only")
    args = parser.parse_args(argv)
    result = run((60, 300), repeats=1) if args.quick else run()
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
