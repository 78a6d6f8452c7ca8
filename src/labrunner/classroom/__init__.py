"""The classroom: a teacher's live dashboard (`labrunner class serve`) and the learner's side
(`labrunner class join`, the outbox every check result goes to, the sender that drains it).

Only results travel: lab, step, passed, check runs, failed runs, hints taken, time on step.
Never learner code, answers, check messages, endpoints or credentials.
"""
