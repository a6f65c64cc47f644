import sys

from functions.gateway.server import main

sys.exit(main())
