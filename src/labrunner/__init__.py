"""labrunner: hands-on labs for the AWS database services, on real local engines."""

__version__ = "0.1.0"
