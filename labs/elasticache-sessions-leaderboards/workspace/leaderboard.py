"""Steps 2 and 3: a gaming leaderboard on a sorted set.

A sorted set keeps each member (a player) with a score (their points), always
in score order, so "the top 10" and "my rank" are answered without sorting
anything when you ask. `board` is the name of a leaderboard, e.g. "weekly";
use it as (or in) the key.
"""


def add_points(r, board, player, points):
    """Add `points` to the player's total on `board` (a new player starts at 0); return the new total."""
    raise NotImplementedError


def top(r, board, n):
    """The n best players, best first, as a list of (player, score) pairs."""
    raise NotImplementedError


def rank(r, board, player):
    """The player's rank on `board`: 1 for the best score; players with the same score share a rank
    (scores 90, 80, 80, 70 rank 1, 2, 2, 4). None for a player who is not on the board."""
    raise NotImplementedError
