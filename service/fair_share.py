"""How the batcher shares engine time between requests: fair queueing by tokens, and a worker
kept for light work.

The batcher's unit of fairness is the request (one `submit`), never the sequence: a long text
is 32 windows and must not get 32 turns to a one-sentence prompt's one.

`FairClock`: self-clocked fair queueing (Golestani, 1994) with tokens as the cost. A request's
tag is the virtual time at which the tokens scored for it so far end; it starts at the clock's
time when the request arrives (no credit for the time it was away, and none lost for a request
that was served a lot before). An item's finish tag is its request's tag plus the item's tokens;
the next batch is anchored on the smallest finish tag, every item in the batch is charged to
its request (filling a batch with a long text's own windows uses up its share), and the clock
moves to the anchor's finish tag. So while requests wait, each gets about the same tokens of
engine time; a prompt of 30 tokens that arrives behind two texts of 32 windows goes before
their next window, and each later prompt at most one window of each text later; and a long
text is never starved, since the clock passes its next finish tag after a bounded number of
short batches. Ordering by start tags instead (round-robin) would put a short request behind
every long one whose turn came before it arrived.

`WorkerReserve`: a batch runs to its end once started, so what a short request waits for, on
top of its turn, is a free worker. While light work keeps arriving (an item shorter than
`heavy_tokens` in the last `hold_s`), heavy batches may hold all workers but one; the last free
worker waits for light work instead. Long texts keep every worker when no light work comes, so
a machine busy with long texts alone loses nothing, and on a CPU the reserved worker's core is
also the one the event loop, the tokeniser and short requests' forward passes run on.
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
    """Keeps one worker off heavy batches while light work keeps arriving."""

    __slots__ = ("_hold_s", "_last_light", "_workers")

    def __init__(self, workers: int, hold_s: float) -> None:
        self._workers = workers
        self._hold_s = hold_s
        self._last_light = float("-inf")

    def light_arrived(self, now: float) -> None:
        self._last_light = now

    def heavy_blocked_for(self, now: float, heavy_running: int) -> float:
        """Seconds during which a free worker may not start a heavy batch (0: it may now).

        Light work arriving in the meantime extends it; it is computed again each time.
        """
        if self._workers < 2 or self._hold_s <= 0 or heavy_running < self._workers - 1:
            return 0.0
        return max(0.0, self._last_light + self._hold_s - now)
