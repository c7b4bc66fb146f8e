"""How the batcher shares engine time between requests: fair queueing by tokens, and a worker
kept for light work.

The batcher's unit of fairness is the request (one `submit`), never the sequence: a long text
is 32 windows and must not get 32 turns to a one-sentence prompt's one.

`FairClock`: self-clocked fair queueing (Golestani, 1994) with tokens as the cost. A request's
tag is the virtual time at which the tokens scored for it so far end; it starts at the clock's
time when the request arrives (no credit for the time it was away, and none lost for a request
that was served a lot before). An item's start tag is its request's tag, its finish tag that
plus the item's tokens. The next batch is anchored on the smallest start tag, ties going to the
smallest finish tag and then to the oldest item; every item in the batch is charged to its
request (filling a batch with a long text's own windows uses up its share), and the clock moves
to the anchor's finish tag. So while requests wait, each gets about the same tokens of engine
time; a long text's next windows go behind every request that arrived while its last batch ran,
and a prompt that arrives with a long text goes before its first window (the tie); and nothing
starves, since every batch moves the clock past the tags of the requests it served.

Why start tags first: ranked by finish tags alone, the clock moves by one short anchor's tokens
a batch, so under uniform traffic a prompt of 120 tokens is passed by every shorter prompt that
arrives for many batches: shortest first, with smaller batches (less company of a similar
length) and a long tail for long prompts (`make bench --against-tree` on the commit before).
Ranked by start tags, prompts that arrive apart are served in arrival order, and the shortest
goes first only among those that arrived together.

`WorkerReserve`: a batch runs to its end once started, so what a short request waits for, on
top of its turn, is a free worker; and on a CPU, the cores the model's workers take are the
cores the event loop, the tokeniser and the clients' own processes need for short requests,
whose cost is mostly outside the model. So while light work keeps arriving (a request that is
not heavy in the last `hold_s`), heavy batches (windows of long texts) get less: never
the last free worker, which waits for light work instead, and on the others at most
`heavy_share` of a worker's time (after a heavy batch, a worker starts no heavy batch for a
pause in proportion). When no light work comes, long texts take every worker at once, so a
machine busy with long texts alone loses nothing.
"""

from __future__ import annotations


class FairClock:
    """Self-clocked fair queueing's virtual time, in tokens."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0

    def arrival(self) -> int:
        """The tag of a request that arrives now."""
        return self.now

    @staticmethod
    def finish(tag: int, tokens: int) -> int:
        """The finish tag of an item of `tokens` tokens of a request tagged `tag`."""
        return tag + tokens

    def served(self, anchor_finish: int) -> None:
        """A batch anchored on an item with this finish tag was taken."""
        self.now = max(self.now, anchor_finish)


class WorkerReserve:
    """Holds heavy batches back from the workers while light work keeps arriving."""

    __slots__ = ("_hold_s", "_last_light", "_rest_per_second", "_workers")

    def __init__(self, workers: int, hold_s: float, heavy_share: float = 1.0) -> None:
        if not 0 < heavy_share <= 1:
            raise ValueError("heavy_share must be in (0, 1]")
        self._workers = workers
        self._hold_s = hold_s
        self._last_light = float("-inf")
        # A worker's pause after each second of heavy batch, while light work arrives.
        self._rest_per_second = 1.0 / heavy_share - 1.0

    def light_arrived(self, now: float) -> None:
        self._last_light = now

    def _light_until(self) -> float:
        return self._last_light + self._hold_s if self._hold_s > 0 else float("-inf")

    def rested_at(self, now: float, heavy_seconds: float) -> float:
        """When a worker that just ran a heavy batch for `heavy_seconds` may start another."""
        if now >= self._light_until():
            return now
        return now + heavy_seconds * self._rest_per_second

    def heavy_blocked_for(
        self, now: float, heavy_running: int, rested_at: float = float("-inf")
    ) -> float:
        """Seconds during which a free worker (resting until `rested_at`) may not start a heavy
        batch; 0: it may now. Light work arriving in the meantime can extend it: ask again."""
        light_left = self._light_until() - now
        if light_left <= 0:
            return 0.0
        if self._workers > 1 and heavy_running >= self._workers - 1:
            return light_left  # the last free worker
        return max(0.0, min(light_left, rested_at - now))
