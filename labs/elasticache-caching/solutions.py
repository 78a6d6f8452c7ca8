"""Reference solutions for elasticache-caching (what `labrunner solve` applies)."""


def load_the_shop(postgres, lab):
    """What python load_shop.py does, with the lab's own copy of the script."""
    lab.modules["checks"].starter_module(lab.path, "load_shop").load(postgres)


def cache_aside(workspace):
    workspace.install_solution("cache.py", source="cache-2-lazy-loading.py")


def add_a_ttl(workspace):
    workspace.install_solution("cache.py", source="cache-3-ttl.py")


def invalidate_on_write(workspace):
    workspace.install_solution("cache.py", source="cache-4-invalidate.py")


def write_through(workspace):
    workspace.install_solution("cache.py", source="cache-5-write-through.py")
