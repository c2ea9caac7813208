import sys

from repairbot.cli import main

sys.exit(main())
