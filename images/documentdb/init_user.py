"""Create the root user from MONGO_INITDB_ROOT_USERNAME/_PASSWORD on a server just started without
authentication (argv: port, the server's pid). Runs inside the stand-in image, with its pymongo."""

import os
import sys
import time

from pymongo import MongoClient
from pymongo.errors import PyMongoError

port, pid = int(sys.argv[1]), int(sys.argv[2])
client = MongoClient("127.0.0.1", port, directConnection=True, serverSelectionTimeoutMS=1000)
deadline = time.monotonic() + 120
while True:
    try:
        client.admin.command("ping")
        break
    except PyMongoError:
        if time.monotonic() > deadline or not os.path.exists(f"/proc/{pid}"):
            sys.exit("documentdb-standin: the server did not start; see the lines above")
client.admin.command("createUser", os.environ["MONGO_INITDB_ROOT_USERNAME"],
                     pwd=os.environ["MONGO_INITDB_ROOT_PASSWORD"], roles=["root"])
print("documentdb-standin: root user created", file=sys.stderr)
