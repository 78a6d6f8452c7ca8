"""Reference solutions for elasticache-caching (what `labrunner solve` applies)."""

import importlib.util


def load_the_shop(postgres, lab_dir):
    """What python load_shop.py does, with the lab's own copy of the script."""
    spec = importlib.util.spec_from_file_location("elasticache_caching_load_shop",
                                                  lab_dir / "workspace" / "load_shop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.load(postgres)


def cache_aside(workspace):
    workspace.install_solution("cache.py", source="cache-2-lazy-loading.py")


def add_a_ttl(workspace):
    workspace.install_solution("cache.py", source="cache-3-ttl.py")


def invalidate_on_write(workspace):
    workspace.install_solution("cache.py", source="cache-4-invalidate.py")


def write_through(workspace):
    workspace.install_solution("cache.py", source="cache-5-write-through.py")
