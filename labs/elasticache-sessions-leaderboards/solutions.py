"""Reference solutions for elasticache-sessions-leaderboards (what `labrunner solve` applies).

leaderboard.py and analytics.py each serve two steps: the first step's solution is a version
with only that step's functions written.
"""


def write_sessions(workspace):
    workspace.install_solution("sessions.py")


def write_top(workspace):
    workspace.install_solution("leaderboard.py", source="leaderboard-2-top.py")


def write_rank(workspace):
    workspace.install_solution("leaderboard.py")


def write_unique_visitors(workspace):
    workspace.install_solution("analytics.py", source="analytics-4-visitors.py")


def write_counters(workspace):
    workspace.install_solution("analytics.py")


def write_stream(workspace):
    workspace.install_solution("stream.py")
