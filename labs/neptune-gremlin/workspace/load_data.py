"""Load data/vertices.csv and data/edges.csv into the graph with your load() from graph.py.

    eval "$(labrunner env)"      # sets NEPTUNE_GREMLIN_ENDPOINT
    python load_data.py
"""

import os
import sys

from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal

import graph

endpoint = os.environ.get("NEPTUNE_GREMLIN_ENDPOINT")
if not endpoint:
    sys.exit('NEPTUNE_GREMLIN_ENDPOINT is not set: run eval "$(labrunner env)" first')
connection = DriverRemoteConnection(endpoint, "g")
try:
    print(graph.load(traversal().with_remote(connection), "data/vertices.csv", "data/edges.csv"))
finally:
    connection.close()
