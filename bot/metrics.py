"""Prometheus metrics of a running bot, for ``factbot run`` with ``metrics: HOST:PORT``.

Only ``factbot run`` with metrics on imports this module: prometheus_client costs start-up
time that ``factbot ask`` and ``chat`` must not pay. The core refers to :class:`Metrics`
only for typing, and ``FactBot.instrument`` puts measured versions of its hot paths in
place, so a bot without metrics runs exactly the code it ran before.

Each :class:`Metrics` has a registry of its own, not prometheus_client's global one: two
bots in one process (the tests) never collide. Every series a dashboard or an alert looks
for is created at zero up front: a rate over a series that appears late reads as no data.
docs/operating.md ("Monitoring") lists the metrics, their labels and what to alert on.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

if TYPE_CHECKING:
    from factbot.packs import FactPack

# What became of a message: a fact sent (a topic, /fact, /ask or a question); the "don't
# know" answer; another built-in's answer (/help, /topics, /daily...); silenced or slowed
# down by the cooldown; not for us (group chatter, another bot's command); handle() raised.
OUTCOMES = ("fact", "fallback", "command", "cooldown", "ignored", "error")
# Failed calls to a platform's API, by what went wrong; "conflict": another process polls
# Telegram with the same token; "other": anything else, and an error of factbot's own
# that an adapter's error hook caught.
ERROR_KINDS = ("network", "forbidden", "rate_limited", "bad_request", "conflict", "other")
RELOAD_RESULTS = ("ok", "refused")
DAILY_STAGES = ("chat", "round")  # one chat's fact failed; the whole round failed
# handle() answers from memory in tens of µs; a chat read from SQLite takes a few hundred.
REPLY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Most store calls return from the store's memory in a few µs; reads from disk take longer.
DB_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
              0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Histogram:
    """A histogram's bucket counts and sum, as plain numbers.

    No lock: only the event loop's thread adds to it, and a scrape reads it on that thread
    too. prometheus_client's own Histogram takes a lock and finds the bucket in Python,
    about 0.9 µs an observation; here about a fifth of that (bench: docs/operating.md).
    """

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: above every bound
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # le: a value on a bound is in it
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative counts by upper bound, as the exposition wants them."""
        running = 0
        out = []
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append((floatToGoString(bound), float(running)))
        return out


class _HotPath(Collector):
    """The metrics every message moves, kept as plain numbers and exposed at each scrape."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], int] = {}  # (platform, outcome) -> count
        self.replies: dict[str, _Histogram] = {}  # platform -> handle() times
        self.store_calls: dict[str, _Histogram] = {}  # store method -> time waited
        self.store_errors: dict[str, int] = {}  # store method -> failures

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        messages = CounterMetricFamily(
            "factbot_messages", "Messages handled, by platform and outcome",
            labels=["platform", "outcome"])
        for (platform, outcome), count in self.messages.items():
            messages.add_metric([platform, outcome], count)
        yield messages
        replies = HistogramMetricFamily(
            "factbot_reply_seconds", "Time inside FactBot.handle per message, store included",
            labels=["platform"])
        for platform, histogram in self.replies.items():
            replies.add_metric([platform], histogram.buckets(), histogram.total)
        yield replies
        calls = HistogramMetricFamily(
            "factbot_db_seconds", "Time the core waited on one store call, by store method",
            labels=["operation"])
        for operation, histogram in self.store_calls.items():
            calls.add_metric([operation], histogram.buckets(), histogram.total)
        yield calls
        errors = CounterMetricFamily(
            "factbot_db_errors", "Store calls of the core that failed (it answered anyway)",
            labels=["operation"])
        for operation, count in self.store_errors.items():
            errors.add_metric([operation], count)
        yield errors


class Metrics:
    """The registry and every metric of one bot, and whether each platform is connected."""

    def __init__(self, platforms: Iterable[str] = (), version: str = "") -> None:
        # No factbot_*_created series beside each counter and histogram: they double what
        # a scrape carries and no query here needs them. (A process-wide switch, read as
        # each metric is made; factbot is the only user of prometheus_client in its process.)
        disable_created_metrics()
        registry = self.registry = CollectorRegistry()
        self.platforms = tuple(platforms)
        # Platform name -> connected now; /readyz reports every platform named here.
        self.connection: dict[str, bool] = dict.fromkeys(self.platforms, False)
        self._hot = _HotPath()
        registry.register(self._hot)
        self.database_up = Gauge(
            "factbot_database_up", "1 if the database answered a query at the last scrape or "
            "/readyz, else 0", registry=registry)
        self.daily_sent = Counter(
            "factbot_daily_sent", "Daily facts sent", ["platform"], registry=registry)
        self.daily_failed = Counter(
            "factbot_daily_failed", "Daily facts that failed: one chat's, or a whole round's",
            ["platform", "stage"], registry=registry)
        self.platform_errors = Counter(
            "factbot_platform_errors", "Failed calls to a platform's API, and errors its "
            "adapter's error hook caught, by kind", ["platform", "kind"], registry=registry)
        self.connected = Gauge(
            "factbot_platform_connected", "1 while the platform is connected (Telegram: "
            "polling gets through or the webhook listens; Discord: every shard is up)",
            ["platform"], registry=registry)
        self.packs = Gauge("factbot_packs_loaded", "Fact packs loaded", registry=registry)
        self.topics = Gauge("factbot_topics_loaded", "Topics in the loaded packs",
                            registry=registry)
        self.facts = Gauge("factbot_facts_loaded", "Facts in the loaded packs",
                           registry=registry)
        self.reloads = Counter("factbot_reloads", "Pack reloads, by result",
                               ["result"], registry=registry)
        self.feedback_votes = Counter(
            "factbot_feedback", "\"Not what I asked\" presses: recorded, or a member's "
            "second vote on one reply", ["platform", "result"], registry=registry)
        self.build = Gauge("factbot_build_info", "Always 1; the version in a label",
                           ["version"], registry=registry)
        self.build.labels(version or "unknown").set(1)
        for result in RELOAD_RESULTS:
            self.reloads.labels(result)
        for platform in self.platforms:
            self.connected.labels(platform).set(0)
            self._hot.replies[platform] = _Histogram(REPLY_BUCKETS)
            self.daily_sent.labels(platform)
            for outcome in OUTCOMES:
                self._hot.messages[platform, outcome] = 0
            for kind in ERROR_KINDS:
                self.platform_errors.labels(platform, kind)
            for stage in DAILY_STAGES:
                self.daily_failed.labels(platform, stage)

    # --- what the core and the adapters report ----------------------------------------

    def message(self, platform: str, outcome: str, seconds: float) -> None:
        """One message handled: its outcome and the time handle() took."""
        hot = self._hot
        key = (platform, outcome)
        hot.messages[key] = hot.messages.get(key, 0) + 1
        histogram = hot.replies.get(platform)
        if histogram is None:
            histogram = hot.replies[platform] = _Histogram(REPLY_BUCKETS)
        histogram.observe(seconds)

    def store_call(self, operation: str, seconds: float, failed: bool) -> None:
        """One store call of the core: how long it waited, and whether the call failed."""
        hot = self._hot
        histogram = hot.store_calls.get(operation)
        if histogram is None:
            histogram = hot.store_calls[operation] = _Histogram(DB_BUCKETS)
            hot.store_errors[operation] = 0
        histogram.observe(seconds)
        if failed:
            hot.store_errors[operation] += 1

    def loaded(self, packs: Sequence[FactPack]) -> None:
        """The packs now served (at start-up and after each reload that took)."""
        self.packs.set(len(packs))
        self.topics.set(sum(len(p.topics) for p in packs))
        self.facts.set(sum(len(t.facts) for p in packs for t in p.topics))

    def reloaded(self, ok: bool) -> None:
        self.reloads.labels("ok" if ok else "refused").inc()

    def feedback(self, platform: str, recorded: bool) -> None:
        self.feedback_votes.labels(platform, "recorded" if recorded else "repeat").inc()

    def daily(self, platform: str, sent: bool, stage: str = "chat") -> None:
        if sent:
            self.daily_sent.labels(platform).inc()
        else:
            self.daily_failed.labels(platform, stage).inc()

    def platform_error(self, platform: str, kind: str) -> None:
        self.platform_errors.labels(platform, kind if kind in ERROR_KINDS else "other").inc()

    def set_connected(self, platform: str, connected: bool) -> None:
        """An adapter connected to its platform, or lost it."""
        self.connection[platform] = connected
        self.connected.labels(platform).set(1 if connected else 0)
